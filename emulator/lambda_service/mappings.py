"""Event source mappings: the model, AWS's validation rules and the state machine.

Pollers (emulator/pollers.py) do the reading and invoking; this module decides
what a mapping is and which transitions it may take:
Creating -> Enabled | Disabled; Updating -> Enabling/Disabling -> Enabled | Disabled;
Deleting -> gone.
"""

from __future__ import annotations

import copy
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from emulator.lambda_service.exceptions import (
    InvalidParameterValue,
    ResourceConflict,
    ResourceInUse,
    ResourceNotFound,
    constraint,
)
from emulator.lambda_service.mapping_rules import DEFAULTS, UPDATABLE, validate_ints, validate_lists, validate_types
from emulator.lambda_service.models import FunctionRegistry, FunctionState
from emulator.moto_adapter import MotoAdapter, parse_arn

UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EVENT_SOURCE_ARN_PATTERN = re.compile(r"^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)$")
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")


class SourceType(StrEnum):
    DYNAMODB = "dynamodb"
    KINESIS = "kinesis"


class MappingStateName(StrEnum):
    CREATING = "Creating"
    ENABLING = "Enabling"
    ENABLED = "Enabled"
    DISABLING = "Disabling"
    DISABLED = "Disabled"
    UPDATING = "Updating"
    DELETING = "Deleting"


@dataclass
class Mapping:
    """One event source mapping and everything AWS returns about it."""

    uuid: str
    event_source_arn: str
    source_type: SourceType
    function_name: str
    function_arn: str
    starting_position: str
    starting_position_timestamp: float | None
    params: dict[str, Any]
    enabled: bool
    region: str
    account_id: str
    state: MappingStateName = MappingStateName.CREATING
    last_modified: float = field(default_factory=time.time)
    last_processing_result: str = "No records processed"
    transition_reason: str = "USER_INITIATED"
    checkpoints: dict[str, int] = field(default_factory=dict)  # shard id -> next sequence to read
    lock: threading.RLock = field(default_factory=threading.RLock)

    #: What a snapshot keeps of a mapping (the lock and the runner are rebuilt).
    SAVED = ("uuid", "event_source_arn", "source_type", "function_name", "function_arn", "starting_position",
             "starting_position_timestamp", "params", "enabled", "region", "account_id", "state", "last_modified",
             "last_processing_result", "transition_reason", "checkpoints")

    def record(self) -> dict[str, Any]:
        """The mapping as a snapshot keeps it, checkpoints included (copies, taken under its lock)."""
        with self.lock:
            data = {name: getattr(self, name) for name in self.SAVED}
            data["params"] = copy.deepcopy(self.params)
            data["checkpoints"] = dict(self.checkpoints)
            return data

    def param(self, name: str) -> Any:
        return self.params[name]

    def describe(self) -> dict[str, Any]:
        with self.lock:
            body: dict[str, Any] = {
                "UUID": self.uuid,
                "StartingPosition": self.starting_position,
                "BatchSize": self.params["BatchSize"],
                "MaximumBatchingWindowInSeconds": self.params["MaximumBatchingWindowInSeconds"],
                "ParallelizationFactor": self.params["ParallelizationFactor"],
                "EventSourceArn": self.event_source_arn,
                "FunctionArn": self.function_arn,
                "LastModified": self.last_modified,
                "LastProcessingResult": self.last_processing_result,
                "State": self.state.value,
                "StateTransitionReason": self.transition_reason,
                "DestinationConfig": self.params["DestinationConfig"],
                "MaximumRecordAgeInSeconds": self.params["MaximumRecordAgeInSeconds"],
                "BisectBatchOnFunctionError": self.params["BisectBatchOnFunctionError"],
                "MaximumRetryAttempts": self.params["MaximumRetryAttempts"],
                "TumblingWindowInSeconds": self.params["TumblingWindowInSeconds"],
                "FunctionResponseTypes": list(self.params["FunctionResponseTypes"]),
                "EventSourceMappingArn": f"arn:aws:lambda:{self.region}:{self.account_id}:event-source-mapping:{self.uuid}",
            }
            if self.params.get("FilterCriteria"):
                body["FilterCriteria"] = self.params["FilterCriteria"]
            if self.starting_position_timestamp is not None:
                body["StartingPositionTimestamp"] = self.starting_position_timestamp
            return body


class MappingRunner(Protocol):
    """What the registry needs from whatever runs a mapping (emulator/pollers.py)."""

    def start(self) -> None: ...
    def reconfigure(self) -> None: ...
    def stop(self) -> None: ...
    def join(self) -> None: ...


class MappingRegistry:
    """Every event source mapping; creates, updates and deletes their runners."""

    def __init__(
        self,
        functions: FunctionRegistry,
        adapter: MotoAdapter,
        runner_factory: Callable[[Mapping], MappingRunner],
    ) -> None:
        self.functions = functions
        self.adapter = adapter
        self.runner_factory = runner_factory
        self._mappings: dict[str, Mapping] = {}
        self._runners: dict[str, MappingRunner] = {}
        self._lock = threading.RLock()

    # --- validation helpers ---------------------------------------------------
    def _source_type(self, arn: str) -> SourceType:
        if not EVENT_SOURCE_ARN_PATTERN.match(arn or ""):
            raise constraint("eventSourceArn", arn, "Member must satisfy regular expression pattern: "
                             "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)")
        parts = parse_arn(arn)
        assert parts is not None
        if parts.service == "dynamodb":
            if self.adapter.table_for_stream(arn) is None:
                table = parts.resource.removeprefix("table/").split("/", 1)[0]
                if "/stream/" not in parts.resource and self.adapter.table_exists(parts.account, parts.region, table):
                    raise InvalidParameterValue(
                        f"Stream not found: {arn}. Pass the table's LatestStreamArn, and enable the stream first "
                        "(StreamSpecification with StreamEnabled=true)."
                    )
                raise InvalidParameterValue(f"Stream not found: {arn}")
            return SourceType.DYNAMODB
        if parts.service == "kinesis":
            if self.adapter.kinesis_shard_ids(arn) is None:
                raise InvalidParameterValue(f"Stream not found: {arn}")
            return SourceType.KINESIS
        raise InvalidParameterValue(
            f"Unsupported event source type for {arn}: the embedded emulator polls DynamoDB streams and Kinesis streams"
        )

    def get(self, mapping_uuid: str) -> Mapping:
        if not UUID_PATTERN.match(mapping_uuid or ""):
            raise ResourceNotFound(f"The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: {uuid.uuid4()})")
        with self._lock:
            mapping = self._mappings.get(mapping_uuid)
        if mapping is None:
            raise ResourceNotFound(f"The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: {uuid.uuid4()})")
        return mapping

    # --- API calls ------------------------------------------------------------
    def create_event_source_mapping(self, params: dict[str, Any]) -> dict[str, Any]:
        """Create the mapping and start it; returns it as it was created (State Creating)."""
        validate_types(params)
        arn = str(params.get("EventSourceArn") or "")
        source_type = self._source_type(arn)
        function: FunctionState = self.functions.resolve(str(params.get("FunctionName") or ""))
        validate_ints(params)
        validate_lists(params)
        position = params.get("StartingPosition")
        if position is None:
            raise InvalidParameterValue("StartingPosition is required for stream event sources")
        if position not in STARTING_POSITIONS:
            raise constraint("startingPosition", position, "Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]")
        if position == "AT_TIMESTAMP" and source_type is SourceType.DYNAMODB:
            raise InvalidParameterValue("Unsupported starting position AT_TIMESTAMP for DynamoDB streams")
        timestamp = params.get("StartingPositionTimestamp")
        if position == "AT_TIMESTAMP" and timestamp is None:
            raise InvalidParameterValue("StartingPositionTimestamp is required when StartingPosition is AT_TIMESTAMP")
        settings = {key: params.get(key, default) if params.get(key) is not None else default for key, default in DEFAULTS.items()}
        parts = parse_arn(arn)
        assert parts is not None
        with self._lock:
            for other in self._mappings.values():
                if other.event_source_arn == arn and other.function_name == function.name:
                    raise ResourceConflict(
                        f"The event source arn ({arn}) and function ({function.name}) provided mapping already "
                        f"exists. Please update or delete the existing mapping with UUID {other.uuid}"
                    )
            mapping = Mapping(
                uuid=str(uuid.uuid4()),
                event_source_arn=arn,
                source_type=source_type,
                function_name=function.name,
                function_arn=function.arn,
                starting_position=position,
                starting_position_timestamp=float(timestamp) if timestamp is not None else None,
                params=settings,
                enabled=bool(params.get("Enabled", True)),
                region=self.functions.region,
                account_id=self.functions.account_id,
            )
            self._mappings[mapping.uuid] = mapping
            runner = self.runner_factory(mapping)
            self._runners[mapping.uuid] = runner
            snapshot = mapping.describe()
        runner.start()
        return snapshot

    def list_event_source_mappings(self, event_source_arn: str | None = None, function_name: str | None = None) -> list[Mapping]:
        wanted_function = None
        if function_name:
            wanted_function = self.functions.resolve(function_name).name
        with self._lock:
            mappings = list(self._mappings.values())
        return [
            m for m in mappings
            if (event_source_arn is None or m.event_source_arn == event_source_arn)
            and (wanted_function is None or m.function_name == wanted_function)
        ]

    def update_event_source_mapping(self, mapping_uuid: str, params: dict[str, Any]) -> dict[str, Any]:
        mapping = self.get(mapping_uuid)
        validate_ints(params)
        validate_lists(params)  # types first
        function = self.functions.resolve(params["FunctionName"]) if params.get("FunctionName") else None
        with mapping.lock:
            if mapping.state in (MappingStateName.CREATING, MappingStateName.DELETING):
                raise ResourceInUse(f"Cannot update the event source mapping because it is in use. State: {mapping.state.value}")
            for key in UPDATABLE:
                if key in params and params[key] is not None:
                    mapping.params[key] = params[key]
            if function is not None:
                mapping.function_name, mapping.function_arn = function.name, function.arn
            if params.get("Enabled") is not None:
                mapping.enabled = bool(params["Enabled"])
            mapping.state = MappingStateName.UPDATING
            mapping.last_modified = time.time()
            snapshot = mapping.describe()
        self._runners[mapping.uuid].reconfigure()
        return snapshot

    def delete_event_source_mapping(self, mapping_uuid: str) -> dict[str, Any]:
        mapping = self.get(mapping_uuid)
        with mapping.lock:
            if mapping.state is MappingStateName.DELETING:
                raise ResourceInUse("Cannot delete the event source mapping because it is in use. State: Deleting")
            mapping.state = MappingStateName.DELETING
            snapshot = mapping.describe()
        runner = self._runners[mapping.uuid]

        def finish() -> None:
            runner.stop()
            runner.join()
            with self._lock:
                self._mappings.pop(mapping.uuid, None)
                self._runners.pop(mapping.uuid, None)

        threading.Thread(target=finish, daemon=True, name=f"delete-{mapping.uuid[:8]}").start()
        return snapshot

    def records(self) -> list[dict[str, Any]]:
        """Every mapping (but those being deleted) as a snapshot keeps it."""
        return [m.record() for m in self.all() if m.state is not MappingStateName.DELETING]

    def restore(self, records: list[dict[str, Any]]) -> None:
        """Recreate saved mappings and start their pollers at the saved checkpoints."""
        for record in records:
            mapping = Mapping(**record)
            if mapping.state not in (MappingStateName.ENABLED, MappingStateName.DISABLED):
                mapping.state = MappingStateName.ENABLING if mapping.enabled else MappingStateName.DISABLING
            with self._lock:
                self._mappings[mapping.uuid] = mapping
                runner = self.runner_factory(mapping)
                self._runners[mapping.uuid] = runner
            runner.start()

    def all(self) -> list[Mapping]:
        with self._lock:
            return list(self._mappings.values())

    def stop_all(self) -> None:
        """Tell every runner to stop (without waiting: in-flight invocations may still run)."""
        with self._lock:
            runners = list(self._runners.values())
        for runner in runners:
            runner.stop()

    def join_all(self) -> None:
        with self._lock:
            runners = list(self._runners.values())
            self._runners.clear()
            self._mappings.clear()
        for runner in runners:
            runner.join()
