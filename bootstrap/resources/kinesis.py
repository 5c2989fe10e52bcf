"""The Kinesis stream the fan-out function writes to and the consumers read from."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bootstrap.context import Context, Wiring
from bootstrap.plan import Action, Change
from bootstrap.resources._aws import is_error
from bootstrap.waiters import wait_until

KIND = "kinesis-stream"


@dataclass(frozen=True)
class StreamState:
    arn: str
    status: str  # CREATING | ACTIVE | UPDATING | DELETING
    open_shards: int
    mode: str  # PROVISIONED | ON_DEMAND


def read_state(ctx: Context) -> StreamState | None:
    try:
        summary = ctx.client("kinesis").describe_stream_summary(StreamName=ctx.topology.kinesis_stream_name)
    except Exception as error:
        if is_error(error, "ResourceNotFoundException"):
            return None
        raise
    s = summary["StreamDescriptionSummary"]
    return StreamState(
        arn=s["StreamARN"],
        status=s["StreamStatus"],
        open_shards=int(s.get("OpenShardCount", 0)),
        mode=s.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED"),
    )


def _steps_to(current: int, target: int) -> list[int]:
    """UpdateShardCount may at most double or halve per call: the intermediate targets."""
    steps = []
    while current != target:
        current = min(target, current * 2) if target > current else max(target, (current + 1) // 2)
        steps.append(current)
    return steps


def plan(ctx: Context, state: StreamState | None, wiring: Wiring) -> list[Change]:
    name, shards = ctx.topology.kinesis_stream_name, ctx.settings.kinesis_shards
    if state is None or state.status == "DELETING":
        return [Change(KIND, name, Action.CREATE, f"{shards} shard{'s' if shards > 1 else ''}")]
    drift = []
    if state.mode != "PROVISIONED":
        drift.append(f"mode {state.mode} -> PROVISIONED")
    if state.open_shards != shards:
        drift.append(f"shards {state.open_shards} -> {shards}")
    return [Change(KIND, name, Action.UPDATE if drift else Action.NOOP, ", ".join(drift))]


def _wait_active(ctx: Context) -> StreamState:
    name = ctx.topology.kinesis_stream_name

    def check() -> tuple[bool, str]:
        state = read_state(ctx)
        return (state is not None and state.status == "ACTIVE"), state.status if state else "missing"

    wait_until(check, what=f"Kinesis stream {name} to be ACTIVE", timeout=ctx.timeouts.stream)
    state = read_state(ctx)
    assert state is not None  # just seen ACTIVE
    return state


def _wait_gone(ctx: Context) -> None:
    name = ctx.topology.kinesis_stream_name

    def check() -> tuple[bool, str]:
        state = read_state(ctx)
        return state is None, state.status if state else "deleted"

    wait_until(check, what=f"Kinesis stream {name} to be deleted", timeout=ctx.timeouts.delete)


def apply(ctx: Context, state: StreamState | None, wiring: Wiring) -> None:
    kinesis, name, shards = ctx.client("kinesis"), ctx.topology.kinesis_stream_name, ctx.settings.kinesis_shards
    if state is not None and state.status == "DELETING":
        ctx.step(f"waiting for the previous Kinesis stream {name} to finish deleting")
        _wait_gone(ctx)
        state = None
    if state is None:
        ctx.step(f"creating Kinesis stream {name} ({shards} shards)")
        kinesis.create_stream(
            StreamName=name, ShardCount=shards, StreamModeDetails={"StreamMode": "PROVISIONED"}
        )
    state = _wait_active(ctx)
    if state.mode != "PROVISIONED":
        ctx.step(f"switching Kinesis stream {name} to PROVISIONED")
        kinesis.update_stream_mode(StreamARN=state.arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
        state = _wait_active(ctx)
    for count in _steps_to(state.open_shards, shards):
        ctx.step(f"resharding Kinesis stream {name} to {count} shards")
        kinesis.update_shard_count(StreamName=name, TargetShardCount=count, ScalingType="UNIFORM_SCALING")
        _wait_active(ctx)


def wire(ctx: Context, state: StreamState | None, wiring: Wiring) -> Wiring:
    return replace(wiring, kinesis_stream_arn=state.arn) if state else wiring


def destroy(ctx: Context, state: StreamState | None) -> list[Change]:
    if state is None:
        return []
    name = ctx.topology.kinesis_stream_name
    if state.status != "DELETING":
        ctx.step(f"deleting Kinesis stream {name}")
        ctx.client("kinesis").delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    _wait_gone(ctx)
    return [Change(KIND, name, Action.DELETE)]
