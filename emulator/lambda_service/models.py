"""Lambda functions: configuration, code and invocation (state and behaviour, no HTTP)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from emulator.lambda_service.code import code_sha256, unpack
from emulator.lambda_service.exceptions import (
    InvalidParameterValue,
    InvalidRequestContent,
    RequestEntityTooLarge,
    ResourceConflict,
    ResourceNotFound,
    constraint,
)
from emulator.lambda_service.function_rules import (
    CREATE_NAME_PATTERN,
    FUNCTION_NAME_PATTERN,
    MAX_NAME_LENGTH,
    check_revision,
    check_settings,
    check_types,
)
from emulator.logs import FunctionLog, LogHub
from emulator.workers import Outcome, WorkerPool, WorkerSpec

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
ASYNC_RETRY_DELAYS = (1.0, 2.0)  # AWS waits 1 and 2 minutes; seconds keep demos moving


def lambda_timestamp(epoch: float) -> str:
    """AWS's LastModified format: 2026-11-26T15:00:00.000+0000."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


@dataclass
class FunctionState:
    name: str
    arn: str
    runtime: str
    role: str
    handler: str
    description: str
    timeout: int
    memory_size: int
    variables: dict[str, str]
    code_sha256: str
    code_size: int
    code_dir: str
    revision: int
    log: FunctionLog
    pool: WorkerPool | None = None
    revision_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    last_modified: float = field(default_factory=time.time)
    architectures: list[str] = field(default_factory=lambda: ["x86_64"])
    tags: dict[str, str] = field(default_factory=dict)
    package: bytes = b""  # the uploaded zip, kept so a snapshot can restore the function as it was

    #: What a snapshot keeps of a function (the rest is rebuilt: log, workers, code directory).
    SAVED = ("name", "runtime", "role", "handler", "description", "timeout", "memory_size", "variables",
             "code_sha256", "code_size", "revision", "revision_id", "last_modified", "architectures", "tags", "package")

    def record(self) -> dict[str, Any]:
        """The function as a snapshot keeps it (plain data: picklable, no workers)."""
        return {name: getattr(self, name) for name in self.SAVED}

    def configuration(self) -> dict[str, Any]:
        return {
            "FunctionName": self.name,
            "FunctionArn": self.arn,
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": self.code_size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": lambda_timestamp(self.last_modified),
            "CodeSha256": self.code_sha256,
            "Version": "$LATEST",
            "Environment": {"Variables": dict(self.variables)},
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": self.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": list(self.architectures),
            "EphemeralStorage": {"Size": 512},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": self.log.group},
        }


class FunctionRegistry:
    """Every function of the account/region, with its code on disk and its warm workers."""

    def __init__(
        self,
        *,
        account_id: str,
        region: str,
        root: Path,
        libs_dir: str,
        endpoint_url: Callable[[], str],
        logs: LogHub,
        max_workers: int,
        role_exists: Callable[[str], bool],
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.root = root
        self.libs_dir = libs_dir
        self.endpoint_url = endpoint_url
        self.logs = logs
        self.max_workers = max_workers
        self.role_exists = role_exists
        self._functions: dict[str, FunctionState] = {}
        self._lock = threading.RLock()
        self._async = ThreadPoolExecutor(max_workers=4, thread_name_prefix="async-invoke")
        self._closing = threading.Event()

    # --- naming ---------------------------------------------------------------
    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def resolve(self, identifier: str, qualifier: str | None = None) -> FunctionState:
        """Find a function by name, ARN or partial ARN (and $LATEST qualifier)."""
        match = FUNCTION_NAME_PATTERN.match(identifier or "")
        if match is None or len(identifier) > 170:
            raise constraint("functionName", identifier, "Member must satisfy regular expression pattern: "
                             "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")
        name = match.group("name")
        qualifier = qualifier or match.group("qualifier")
        region, account = match.group("region"), match.group("account")
        with self._lock:
            state = self._functions.get(name)
        wanted = self.arn(name) + (f":{qualifier}" if qualifier else "")
        if state is None or (region and region != self.region) or (account and account != self.account_id):
            raise ResourceNotFound(f"Function not found: {wanted}")
        if qualifier not in (None, "$LATEST"):
            raise ResourceNotFound(f"Function not found: {wanted}")
        return state

    def _known(self, name: str) -> bool:
        with self._lock:
            return name in self._functions

    # --- validation -----------------------------------------------------------
    # --- API calls ------------------------------------------------------------
    def create_function(self, params: dict[str, Any]) -> FunctionState:
        check_types(params)
        name = str(params.get("FunctionName") or "")
        match = FUNCTION_NAME_PATTERN.match(name)
        if match is None or match.group("qualifier"):
            raise constraint("functionName", name, "Member must satisfy regular expression pattern")
        if (match.group("region") or self.region) != self.region or (match.group("account") or self.account_id) != self.account_id:
            raise InvalidParameterValue(f"The function ARN {name} names another region or account than this endpoint's ({self.region}, {self.account_id})")
        name = match.group("name")
        if not CREATE_NAME_PATTERN.match(name):
            raise constraint("functionName", name, "Member must satisfy regular expression pattern: "
                             "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)")
        if len(name) > MAX_NAME_LENGTH:
            raise constraint("functionName", name, f"Member must have length less than or equal to {MAX_NAME_LENGTH}")
        for required in ("Role", "Code"):
            if not params.get(required):
                raise InvalidParameterValue(f"{required} is required")
        if params.get("PackageType", "Zip") != "Zip":
            raise InvalidParameterValue("The embedded emulator supports PackageType Zip only.")
        if not params.get("Handler") or not params.get("Runtime"):
            raise InvalidParameterValue("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
        check_settings(params)
        if not self.role_exists(params["Role"]):
            raise InvalidParameterValue("The role defined for the function cannot be assumed by Lambda.")
        if self._known(name):
            raise ResourceConflict(f"Function already exist: {name}")
        data, code_dir = unpack(self.root, name, params["Code"])
        with self._lock:
            if name in self._functions:  # created meanwhile by a concurrent request
                shutil.rmtree(code_dir, ignore_errors=True)
                raise ResourceConflict(f"Function already exist: {name}")
            state = FunctionState(
                package=data,
                name=name,
                arn=self.arn(name),
                runtime=params["Runtime"],
                role=params["Role"],
                handler=params["Handler"],
                # null is "not given" (as the update calls treat it), not a value
                description=params.get("Description") or "",
                timeout=params["Timeout"] if params.get("Timeout") is not None else 3,
                memory_size=params["MemorySize"] if params.get("MemorySize") is not None else 128,
                variables=dict((params.get("Environment") or {}).get("Variables") or {}),
                code_sha256=code_sha256(data),
                code_size=len(data),
                code_dir=code_dir,
                revision=1,
                log=self.logs.open(name),
                architectures=list(params.get("Architectures") or ["x86_64"]),
                tags=dict(params.get("Tags") or {}),
            )
            state.pool = WorkerPool(lambda: self._worker_spec(state), state.log.write, self.max_workers)
            self._functions[name] = state
        state.pool.prewarm()
        return state

    def records(self) -> list[dict[str, Any]]:
        """Every function as a snapshot keeps it."""
        with self._lock:
            return [state.record() for state in self._functions.values()]

    def restore(self, records: list[dict[str, Any]]) -> None:
        """Recreate saved functions (same code hash and revision id), before any request arrives."""
        for record in records:
            data = record["package"]
            _, code_dir = unpack(self.root, record["name"], {"ZipFile": base64.b64encode(data).decode()})
            state = FunctionState(arn=self.arn(record["name"]), code_dir=code_dir, log=self.logs.open(record["name"]), **record)
            state.pool = WorkerPool(lambda state=state: self._worker_spec(state), state.log.write, self.max_workers)
            with self._lock:
                self._functions[state.name] = state
            state.pool.prewarm()

    def _worker_spec(self, state: FunctionState) -> WorkerSpec:
        environment = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": state.code_dir,
            "LAMBDA_RUNTIME_DIR": self.libs_dir,
            "_HANDLER": state.handler,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{state.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": state.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(state.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": state.log.group,
            "AWS_LAMBDA_LOG_STREAM_NAME": state.log.stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "test",
            "AWS_ENDPOINT_URL": self.endpoint_url(),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        environment.update(state.variables)
        return WorkerSpec(
            function_name=state.name,
            revision=state.revision,
            handler=state.handler,
            code_dir=state.code_dir,
            libs_dir=self.libs_dir,
            environment=environment,
            timeout=float(state.timeout),
        )

    def _changed(self, state: FunctionState) -> None:
        state.revision += 1
        state.revision_id = str(uuid.uuid4())
        state.last_modified = time.time()
        assert state.pool is not None
        state.pool.retire_idle()
        state.pool.prewarm()

    def update_function_code(self, identifier: str, params: dict[str, Any]) -> FunctionState:
        state = self.resolve(identifier)
        check_types(params)  # before unpacking: Architectures must be a list of known values
        check_revision(state.revision_id, params)
        data, code_dir = unpack(self.root, state.name, params)
        with self._lock:
            old_dir, state.code_dir = state.code_dir, code_dir
            state.code_sha256 = code_sha256(data)
            state.code_size = len(data)
            state.package = data
            if params.get("Architectures"):
                state.architectures = list(params["Architectures"])
            self._changed(state)
        # Busy workers still run the old revision from old_dir until they finish.
        threading.Timer(state.timeout + 5, shutil.rmtree, args=(old_dir,), kwargs={"ignore_errors": True}).start()
        return state

    def update_function_configuration(self, identifier: str, params: dict[str, Any]) -> FunctionState:
        state = self.resolve(identifier)
        check_revision(state.revision_id, params)
        check_settings(params)
        if params.get("Role") and not self.role_exists(params["Role"]):
            raise InvalidParameterValue("The role defined for the function cannot be assumed by Lambda.")
        with self._lock:
            for key, attr in (("Runtime", "runtime"), ("Role", "role"), ("Handler", "handler"),
                              ("Description", "description"), ("Timeout", "timeout"), ("MemorySize", "memory_size")):
                if key in params and params[key] is not None:
                    setattr(state, attr, params[key])
            if "Environment" in params:
                state.variables = dict((params["Environment"] or {}).get("Variables") or {})
            self._changed(state)
        return state

    def list_functions(self) -> list[FunctionState]:
        with self._lock:
            return sorted(self._functions.values(), key=lambda s: s.name)

    def delete_function(self, identifier: str, qualifier: str | None = None) -> None:
        state = self.resolve(identifier, qualifier)
        with self._lock:
            self._functions.pop(state.name, None)
        assert state.pool is not None
        state.pool.close()
        self.logs.close(state.log)
        # Only this function's code: a function created again under the same name meanwhile
        # unpacks into a sibling directory of its own.
        shutil.rmtree(state.code_dir, ignore_errors=True)

    # --- invoke ---------------------------------------------------------------
    def invoke(self, identifier: str, payload: bytes, invocation_type: str = "RequestResponse", qualifier: str | None = None) -> Outcome | None:
        """Run the function. Returns the outcome, or None for Event/DryRun invocations."""
        state = self.resolve(identifier, qualifier)
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise constraint("invocationType", invocation_type, "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
        if invocation_type == "Event" and len(payload) > ASYNC_PAYLOAD_LIMIT:
            raise RequestEntityTooLarge(
                f"{len(payload)} byte payload is too large for the Event invocation type (limit {ASYNC_PAYLOAD_LIMIT} bytes)"
            )
        if len(payload) > SYNC_PAYLOAD_LIMIT:
            raise RequestEntityTooLarge(f"Request must be smaller than {SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation")
        try:
            event = json.loads(payload or b"{}")
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise InvalidRequestContent("Could not parse request body into json: Unexpected character") from None
        if invocation_type == "DryRun":
            return None
        if invocation_type == "Event":
            self._async.submit(self._invoke_async, state.name, event)
            return None
        return self.run(state, event)

    def prewarm(self, name: str, count: int) -> None:
        """Have ``count`` warm workers of function ``name`` (if it exists; capped by the pool)."""
        try:
            state = self.resolve(name)
        except ResourceNotFound:
            return
        if state.pool is not None:
            state.pool.prewarm(count)

    def run(self, state: FunctionState, event: Any) -> Outcome:
        """One synchronous invocation with Lambda's START/END/REPORT log lines."""
        request_id = str(uuid.uuid4())
        state.log.write(f"START RequestId: {request_id} Version: $LATEST")  # the worker's lines follow
        assert state.pool is not None
        try:
            outcome = state.pool.run(event, request_id, state.arn)
        except RuntimeError:  # the pool closed under us: deleted meanwhile
            raise ResourceNotFound(f"Function not found: {state.arn}") from None
        if outcome.ok and len(outcome.payload) > SYNC_PAYLOAD_LIMIT:
            outcome = Outcome(json.dumps({
                "errorType": "Function.ResponseSizeTooLarge",
                "errorMessage": f"Response payload size exceeded maximum allowed payload size ({SYNC_PAYLOAD_LIMIT} bytes).",
            }).encode(), "Unhandled", outcome.duration_ms, outcome.log_tail)
        start = f"START RequestId: {request_id} Version: $LATEST"
        end = f"END RequestId: {request_id}"
        report = (f"REPORT RequestId: {request_id}\tDuration: {outcome.duration_ms:.2f} ms\t"
                  f"Billed Duration: {max(1, int(outcome.duration_ms + 0.999))} ms\tMemory Size: {state.memory_size} MB")
        state.log.write(end)
        state.log.write(report)
        outcome.log_tail = f"{start}\n{outcome.log_tail}{end}\n{report}\n"[-4096:]
        return outcome

    def _invoke_async(self, name: str, event: Any) -> None:
        for attempt, delay in enumerate((0.0, *ASYNC_RETRY_DELAYS)):
            if self._closing.wait(delay):  # AWS's retry delay for asynchronous invocations (scaled down)
                return
            try:
                state = self.resolve(name)
                if self.run(state, event).ok:
                    return
            except (ResourceNotFound, RuntimeError):
                return  # deleted meanwhile, or the emulator is stopping
            state.log.write(f"[emulator] asynchronous invocation failed (attempt {attempt + 1})")

    def close(self) -> None:
        self._closing.set()
        self._async.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            states = list(self._functions.values())
            self._functions.clear()
        for state in states:
            assert state.pool is not None
            state.pool.close()
