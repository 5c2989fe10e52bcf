"""The click table: on-demand, key ``uuid``, a stream of the configured view type, TTL.

A stream's view type cannot be changed in place: AWS requires disabling the
stream and enabling a new one, which gets a new ARN, so the mappings on the old
ARN are replaced (see ``wire`` and the mappings module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from bootstrap.context import Context, Wiring
from bootstrap.errors import ConfigurationError
from bootstrap.plan import Action, Change
from bootstrap.resources._aws import is_error
from bootstrap.waiters import wait_until

KIND = "table"


class Step(StrEnum):
    BILLING = "billing mode"
    STREAM = "stream"
    TTL = "ttl"


@dataclass(frozen=True)
class TableState:
    status: str  # CREATING | ACTIVE | UPDATING | DELETING | ...
    key_schema: tuple[tuple[str, str], ...]  # (attribute, HASH/RANGE)
    billing_mode: str
    stream_view_type: str | None  # None: no enabled stream
    stream_arn: str | None  # the latest stream's ARN (may belong to a disabled stream)
    ttl_attribute: str | None  # None: TTL disabled


def read_state(ctx: Context) -> TableState | None:
    dynamodb, name = ctx.client("dynamodb"), ctx.topology.table_name
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except Exception as error:
        if is_error(error, "ResourceNotFoundException"):
            return None
        raise
    stream = table.get("StreamSpecification") or {}
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    return TableState(
        status=table["TableStatus"],
        key_schema=tuple((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]),
        # Tables created on demand report BillingModeSummary; old provisioned ones may omit it.
        billing_mode=table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        stream_view_type=stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
        stream_arn=table.get("LatestStreamArn"),
        ttl_attribute=ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") else None,
    )


def _steps(ctx: Context, state: TableState) -> dict[Step, str]:
    """What differs, with a human-readable description of each step."""
    want_key = ((ctx.topology.table_key, "HASH"),)
    if state.key_schema != want_key:
        raise ConfigurationError(
            f"table {ctx.topology.table_name} exists with key {state.key_schema}, the topology needs "
            f"{ctx.topology.table_key} (HASH); a key cannot change in place",
            "destroy it first with the destroy command you ran apply with (`sandbox bootstrap destroy` or "
            "`python -m bootstrap destroy`; it deletes the table's data), or use another SANDBOX_PREFIX",
        )
    steps: dict[Step, str] = {}
    if state.billing_mode != "PAY_PER_REQUEST":
        steps[Step.BILLING] = f"billing {state.billing_mode} -> PAY_PER_REQUEST"
    want_view = ctx.settings.stream_view_type
    if state.stream_view_type is None:
        steps[Step.STREAM] = f"enable stream {want_view} (new stream ARN)"
    elif state.stream_view_type != want_view:
        steps[Step.STREAM] = (
            f"stream view {state.stream_view_type} -> {want_view} (disable/enable: new stream ARN)"
        )
    if state.ttl_attribute != ctx.topology.ttl_attribute:
        steps[Step.TTL] = f"TTL {state.ttl_attribute or 'off'} -> {ctx.topology.ttl_attribute}"
    return steps


def plan(ctx: Context, state: TableState | None, wiring: Wiring) -> list[Change]:
    name = ctx.topology.table_name
    if state is None or state.status == "DELETING":
        detail = (
            f"key {ctx.topology.table_key}, on demand, stream {ctx.settings.stream_view_type}, "
            f"TTL {ctx.topology.ttl_attribute}"
        )
        return [Change(KIND, name, Action.CREATE, detail)]
    steps = _steps(ctx, state)
    return [Change(KIND, name, Action.UPDATE if steps else Action.NOOP, ", ".join(steps.values()))]


def _wait(ctx: Context, what: str, done: Callable[[TableState | None], bool]) -> TableState | None:
    found: list[TableState | None] = [None]

    def check() -> tuple[bool, str]:
        found[0] = read_state(ctx)
        return done(found[0]), found[0].status if found[0] else "missing"

    wait_until(check, what=f"table {ctx.topology.table_name} {what}", timeout=ctx.timeouts.table)
    return found[0]


def _wait_active(ctx: Context) -> TableState:
    state = _wait(ctx, "to be ACTIVE", lambda s: s is not None and s.status == "ACTIVE")
    assert state is not None
    return state


def apply(ctx: Context, state: TableState | None, wiring: Wiring) -> None:
    dynamodb, name, view = ctx.client("dynamodb"), ctx.topology.table_name, ctx.settings.stream_view_type
    if state is not None and state.status == "DELETING":
        ctx.step(f"waiting for the previous table {name} to finish deleting")
        _wait(ctx, "to be deleted", lambda s: s is None)
        state = None
    if state is None:
        ctx.step(f"creating table {name}")
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": ctx.topology.table_key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": ctx.topology.table_key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )
    state = _wait_active(ctx)
    steps = _steps(ctx, state)
    if Step.BILLING in steps:
        ctx.step(f"switching table {name} to on-demand billing")
        dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
        state = _wait_active(ctx)
    if Step.STREAM in steps:
        if state.stream_view_type is not None:
            ctx.step(f"disabling the {state.stream_view_type} stream of {name}")
            dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
            _wait_active(ctx)
        ctx.step(f"enabling a {view} stream on {name}")
        dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
        state = _wait_active(ctx)
    if Step.TTL in steps:
        if state.ttl_attribute is not None:
            ctx.step(f"disabling TTL on {state.ttl_attribute} of {name}")
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": state.ttl_attribute}
            )
        ctx.step(f"enabling TTL on {ctx.topology.ttl_attribute} of {name}")
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ctx.topology.ttl_attribute}
        )


def wire(ctx: Context, state: TableState | None, wiring: Wiring) -> Wiring:
    """The stream ARN mappings should read; None when applying creates or replaces the stream."""
    if state is None or state.status == "DELETING" or Step.STREAM in _steps(ctx, state):
        return replace(wiring, table_stream_arn=None)
    return replace(wiring, table_stream_arn=state.stream_arn)


def destroy(ctx: Context, state: TableState | None) -> list[Change]:
    if state is None:
        return []
    name = ctx.topology.table_name
    if state.status != "DELETING":
        ctx.step(f"deleting table {name}")
        ctx.client("dynamodb").delete_table(TableName=name)
    _wait(ctx, "to be deleted", lambda s: s is None)
    return [Change(KIND, name, Action.DELETE)]
