"""Event source mappings: the two table-stream readers and the Kinesis consumers.

Each function has exactly one mapping, on the source its spec names. A mapping
on any other ARN (e.g. the table's previous stream after a view-type change) is
deleted; settings AWS can update in place are updated; StartingPosition cannot
be, so a changed one means delete + create.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bootstrap.context import Context, Wiring
from bootstrap.errors import BootstrapError, ConfigurationError, error_message
from bootstrap.plan import Action, Change
from bootstrap.resources._aws import is_error
from bootstrap.resources.functions import is_ours
from bootstrap.topology import MAX_TABLE_STREAM_READERS, FunctionSpec, SourceKind
from bootstrap.waiters import retry_until, wait_until

KIND = "mapping"
PENDING_STREAM = "(the table's new stream)"


@dataclass(frozen=True)
class MappingConfig:
    """The fields bootstrap manages, keyed as the API spells them."""

    source_arn: str
    batch_size: int
    batching_window: int
    starting_position: str | None
    retries: int | None
    bisect: bool
    response_types: tuple[str, ...]
    on_failure: str | None
    enabled: bool = True


@dataclass(frozen=True)
class Mapping:
    uuid: str
    function_key: str
    state: str
    config: MappingConfig


@dataclass(frozen=True)
class MappingsState:
    mappings: tuple[Mapping, ...]
    #: functions outside the topology reading the table's current stream
    foreign_table_readers: tuple[str, ...] = ()


def _config(raw: dict[str, Any]) -> MappingConfig:
    return MappingConfig(
        source_arn=raw.get("EventSourceArn", ""),
        batch_size=int(raw.get("BatchSize", 100)),
        batching_window=int(raw.get("MaximumBatchingWindowInSeconds", 0)),
        starting_position=raw.get("StartingPosition"),
        retries=raw.get("MaximumRetryAttempts"),
        bisect=bool(raw.get("BisectBatchOnFunctionError", False)),
        response_types=tuple(sorted(raw.get("FunctionResponseTypes") or ())),
        on_failure=((raw.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
        enabled=raw.get("State") not in ("Disabled", "Disabling"),
    )


def desired(spec: FunctionSpec, wiring: Wiring) -> MappingConfig:
    source = wiring.kinesis_stream_arn if spec.source is SourceKind.KINESIS else wiring.table_stream_arn
    return MappingConfig(
        source_arn=source or PENDING_STREAM,
        batch_size=spec.batch_size,
        batching_window=spec.batching_window_seconds,
        starting_position=spec.starting_position,
        retries=spec.maximum_retry_attempts,
        bisect=spec.bisect_on_error,
        response_types=("ReportBatchItemFailures",) if spec.report_batch_item_failures else (),
        on_failure=wiring.failure_queue_arn,
    )


def _list(ctx: Context, **kwargs: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    try:
        for page in ctx.client("lambda").get_paginator("list_event_source_mappings").paginate(**kwargs):
            found.extend(page.get("EventSourceMappings", []))
    except Exception as error:
        if is_error(error, "ResourceNotFoundException"):
            return []
        raise
    return found


def _current_table_stream(ctx: Context) -> str | None:
    try:
        table = ctx.client("dynamodb").describe_table(TableName=ctx.topology.table_name)["Table"]
    except Exception as error:
        if is_error(error, "ResourceNotFoundException"):
            return None
        raise
    enabled = (table.get("StreamSpecification") or {}).get("StreamEnabled")
    return table.get("LatestStreamArn") if enabled else None


def read_state(ctx: Context) -> MappingsState:
    mappings = []
    ours = {}
    for spec in ctx.topology.functions:
        name = ctx.topology.function_name(spec)
        ours[name] = spec.key
        for raw in _list(ctx, FunctionName=name):
            mappings.append(Mapping(raw["UUID"], spec.key, raw.get("State", ""), _config(raw)))
    foreign: list[str] = []
    if table_stream_arn := _current_table_stream(ctx):
        for raw in _list(ctx, EventSourceArn=table_stream_arn):
            function = raw.get("FunctionArn", "").split(":")[-1]
            # A function with this prefix's tag but not in the topology is an orphan that
            # this run deletes (resources/orphans.py), so it does not hold a reader slot.
            orphan = bool(raw.get("FunctionArn")) and is_ours(ctx, raw["FunctionArn"])
            if function not in ours and raw.get("State") not in ("Deleting",) and not orphan:
                foreign.append(function)
    return MappingsState(tuple(mappings), tuple(sorted(set(foreign))))


def config_drift(want: MappingConfig, have: MappingConfig) -> list[str]:
    labels = {
        "batch_size": "BatchSize",
        "batching_window": "MaximumBatchingWindowInSeconds",
        "retries": "MaximumRetryAttempts",
        "bisect": "BisectBatchOnFunctionError",
        "response_types": "FunctionResponseTypes",
        "on_failure": "OnFailure",
        "enabled": "Enabled",
    }
    return [
        f"{label} {getattr(have, field)} -> {getattr(want, field)}"
        for field, label in labels.items()
        if getattr(want, field) != getattr(have, field)
    ]


@dataclass(frozen=True)
class _Work:
    """What to do for one function's mappings."""

    spec: FunctionSpec
    want: MappingConfig
    delete: tuple[Mapping, ...]
    update: Mapping | None
    create: bool
    keep: Mapping | None


def _work(ctx: Context, state: MappingsState, wiring: Wiring) -> list[_Work]:
    readers = [s.key for s in ctx.topology.functions if s.source is SourceKind.TABLE_STREAM]
    if state.foreign_table_readers and len(readers) + len(state.foreign_table_readers) > MAX_TABLE_STREAM_READERS:
        raise ConfigurationError(
            f"the table stream already has readers outside this topology "
            f"({', '.join(state.foreign_table_readers)}); with {', '.join(readers)} that would exceed AWS's "
            f"limit of {MAX_TABLE_STREAM_READERS} readers per DynamoDB stream shard",
            "delete those mappings, or make those functions read the Kinesis stream",
        )
    work = []
    for spec in ctx.topology.functions:
        want = desired(spec, wiring)
        mine = [m for m in state.mappings if m.function_key == spec.key and m.state != "Deleting"]
        on_source = [m for m in mine if m.config.source_arn == want.source_arn]
        keep = next((m for m in on_source if m.config.starting_position in (None, want.starting_position)), None)
        delete = tuple(m for m in mine if m is not keep)
        update = keep if keep is not None and config_drift(want, keep.config) else None
        work.append(_Work(spec, want, delete, update, keep is None, keep))
    return work


def plan(ctx: Context, state: MappingsState, wiring: Wiring) -> list[Change]:
    changes = []
    for w in _work(ctx, state, wiring):
        name = _name(ctx, w.spec)
        for m in w.delete:
            reason = "replaced" if w.create else "duplicate"
            changes.append(Change(KIND, name, Action.DELETE, f"{_stream_label(m.config.source_arn)} ({reason})"))
        if w.create:
            detail = (
                f"{_stream_label(w.want.source_arn)}: BatchSize {w.want.batch_size}, "
                f"window {w.want.batching_window}s, {w.want.starting_position}"
            )
            changes.append(Change(KIND, name, Action.CREATE, detail))
        elif w.update is not None:
            changes.append(Change(KIND, name, Action.UPDATE, ", ".join(config_drift(w.want, w.update.config))))
        else:
            changes.append(Change(KIND, name, Action.NOOP))
    return changes


def _name(ctx: Context, spec: FunctionSpec) -> str:
    """Stable row names for plans: '<function> <- <table> stream' or '<function> <- <kinesis stream>'."""
    source = f"{ctx.topology.table_name} stream" if spec.source is SourceKind.TABLE_STREAM else (
        ctx.topology.kinesis_stream_name
    )
    return f"{ctx.topology.function_name(spec)} <- {source}"


def _stream_label(arn: str) -> str:
    """Which stream exactly (a table's stream label changes when the stream is replaced)."""
    if arn == PENDING_STREAM:
        return "new stream"
    if ":dynamodb:" in arn and "/stream/" in arn:
        return f"stream {arn.rsplit('/', 1)[-1]}"
    return "kinesis"


def _update_kwargs(want: MappingConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "BatchSize": want.batch_size,
        "MaximumBatchingWindowInSeconds": want.batching_window,
        "BisectBatchOnFunctionError": want.bisect,
        "FunctionResponseTypes": list(want.response_types),
        "Enabled": want.enabled,
    }
    if want.retries is not None:
        kwargs["MaximumRetryAttempts"] = want.retries
    if want.on_failure:
        kwargs["DestinationConfig"] = {"OnFailure": {"Destination": want.on_failure}}
    return kwargs


def _wait_state(ctx: Context, uuid: str, label: str, *, gone: bool = False) -> None:
    lam = ctx.client("lambda")

    def check() -> tuple[bool, str]:
        try:
            state = lam.get_event_source_mapping(UUID=uuid).get("State", "")
        except Exception as error:
            if is_error(error, "ResourceNotFoundException"):
                return gone, "deleted"
            raise
        if not gone and state in ("Disabled",):
            raise BootstrapError(f"mapping {label} is Disabled", "check the function and its source, re-run apply")
        return (state == "Enabled") and not gone, state

    timeout = ctx.timeouts.delete if gone else ctx.timeouts.mapping
    wait_until(check, what=f"mapping {label} to be {'deleted' if gone else 'Enabled'}", timeout=timeout)


def _not_yet_permitted(error: Exception) -> bool:
    """A fresh role may lack the stream/queue permissions for a while on AWS (IAM propagation)."""
    text = error_message(error).lower()
    return is_error(error, "InvalidParameterValueException") and ("role" in text or "permission" in text)


def apply(ctx: Context, state: MappingsState, wiring: Wiring) -> None:
    lam = ctx.client("lambda")
    for w in _work(ctx, state, wiring):
        function, label = ctx.topology.function_name(w.spec), _name(ctx, w.spec)
        if w.want.source_arn == PENDING_STREAM:
            raise BootstrapError(f"the table has no stream for {function}", "re-run apply")
        for m in w.delete:
            ctx.step(f"deleting mapping {label} ({_stream_label(m.config.source_arn)})")
            try:
                lam.delete_event_source_mapping(UUID=m.uuid)
            except Exception as error:
                if not is_error(error, "ResourceNotFoundException"):
                    raise
            _wait_state(ctx, m.uuid, label, gone=True)
        if w.create:
            ctx.step(f"creating mapping {label}")
            created = retry_until(
                lambda: lam.create_event_source_mapping(
                    FunctionName=function,
                    EventSourceArn=w.want.source_arn,
                    StartingPosition=w.want.starting_position,
                    **_update_kwargs(w.want),
                ),
                retryable=_not_yet_permitted,
                timeout=ctx.timeouts.iam,
            )
            _wait_state(ctx, created["UUID"], label)
        elif w.update is not None:
            ctx.step(f"updating mapping {label}: {', '.join(config_drift(w.want, w.update.config))}")
            lam.update_event_source_mapping(UUID=w.update.uuid, **_update_kwargs(w.want))
            _wait_state(ctx, w.update.uuid, label)
        elif w.keep is not None and w.keep.state != "Enabled":
            _wait_state(ctx, w.keep.uuid, label)


def destroy(ctx: Context, state: MappingsState) -> list[Change]:
    lam, changes = ctx.client("lambda"), []
    for m in state.mappings:
        label = _name(ctx, ctx.topology.function(m.function_key))
        ctx.step(f"deleting mapping {label}")
        if m.state != "Deleting":
            try:
                lam.delete_event_source_mapping(UUID=m.uuid)
            except Exception as error:
                if not is_error(error, "ResourceNotFoundException"):
                    raise
        _wait_state(ctx, m.uuid, label, gone=True)
        changes.append(Change(KIND, label, Action.DELETE, _stream_label(m.config.source_arn)))
    return changes
