"""Re-send archived stream events from the data lake into a deployed function.

Why from the data lake: it keeps every raw event for good, while the table stream
and Kinesis keep records for 24 h; a sink that lost data (or a fixed consumer) can
be refilled from it. Selecting, planning and invoking are separate steps so
``--dry-run`` shows exactly what would be sent. What is sent per function is in
``sandbox.replay_events`` (why consumer A needs its original cuts).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bootstrap.topology import FunctionSpec, Topology
from sandbox import lake
from sandbox.errors import ConfigError, SandboxError
from sandbox.replay_events import (
    Archived,
    Invocation,
    KinesisSource,
    Placement,
    Record,
    analytics_invocations,
    http_invocations,
    table_stream_invocations,
    valid,
)

#: Functions whose replay appends to a non-idempotent store (fanout: Kinesis).
APPENDS = frozenset({"fanout"})


@dataclass
class ReplayPlan:
    function: str  # deployed name
    invocations: list[Invocation]
    notes: list[str] = field(default_factory=list)
    sources: int = 0  # raw objects selected

    @property
    def records(self) -> int:
        return sum(i.records for i in self.invocations)


@dataclass
class ReplayResult:
    invoked: int = 0
    records: int = 0
    failed_invocations: int = 0
    failed_records: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed_invocations and not self.failed_records


def select(s3: Any, topology: Topology, keys: list[str], start: datetime | None, end: datetime | None) -> list[Archived]:
    """The raw objects to replay, oldest first: the given keys, or every one in the hour range."""
    bucket = topology.data_lake_bucket
    if keys and start is not None:
        raise ConfigError("use --key or --from/--to, not both")
    if not keys and start is None:
        raise ConfigError("say what to replay", "pass --key raw/... (repeatable) or --from YYYY-MM-DDTHH [--to YYYY-MM-DDTHH]")
    if keys:
        bad = [k for k in keys if not k.startswith("raw/")]
        if bad:
            raise ConfigError(f"{bad[0]!r} is not a data-lake raw/ object key", "keys look like raw/year=.../hour=HH/<seq>-<seq>-<digest>.json")
        listed = set(keys) & {k for key in keys for k in lake.keys(s3, bucket, key)}
        if missing := [k for k in keys if k not in listed]:
            raise SandboxError(f"no object {missing[0]} in s3://{bucket}", "list them: aws s3 ls --recursive s3://" + bucket + "/raw/")
        chosen = list(dict.fromkeys(keys))
    else:
        hours = lake.hours_between(start, end or start)  # type: ignore[arg-type]
        chosen = [k for hour in hours for k in lake.keys(s3, bucket, lake.raw_prefix(hour))]
        if not chosen:
            raise SandboxError(
                f"no archived events in s3://{bucket}/raw/ from {hours[0]:%Y-%m-%dT%H} to {hours[-1]:%Y-%m-%dT%H} (UTC)",
                "pick hours that hold data: aws s3 ls s3://" + bucket + "/raw/ --recursive",
            )
    events = lake.read_many(lambda key: lake.read_json(s3, bucket, key), chosen)
    archived = [Archived(key, event) for key, event in events.items() if isinstance(event, dict)]
    return sorted(archived, key=_order)


def _order(archived: Archived) -> tuple[str, int]:
    seq = lake.raw_range(archived.key)
    return archived.key.rsplit("/", 1)[0], seq.first if seq else 0


def plan(s3: Any, topology: Topology, spec: FunctionSpec, archived: list[Archived]) -> ReplayPlan:
    name = topology.function_name(spec)
    if spec.key in ("archive", "fanout"):
        return ReplayPlan(name, table_stream_invocations(archived), sources=len(archived))
    records, notes = valid([r for a in archived for r in a.records])
    source = KinesisSource(topology.kinesis_stream_arn, topology.role_arn, topology.region)
    if spec.key != "analytics":  # consumer B and any consumer N without consumer A's object keys
        return ReplayPlan(name, http_invocations(records, source, spec.batch_size), notes, len(archived))
    placements, cuts, rows_created = _consumer_a_index(s3, topology, records)
    lookup = {r["eventID"]: r for r in records}
    missing = {i for ids in cuts.values() for i in ids} - lookup.keys()
    if missing:
        lookup |= _archived_records(s3, topology, missing, {i: rows_created[i] for i in missing if i in rows_created})
    invocations, more = analytics_invocations(records, placements, cuts, lookup, source, spec.batch_size)
    return ReplayPlan(name, invocations, notes + more, len(archived))


def _consumer_a_index(
    s3: Any, topology: Topology, records: list[Record]
) -> tuple[dict[str, Placement], dict[str, list[str]], dict[str, float]]:
    """Consumer A's objects on the records' days (and the next: arrival may cross midnight)."""
    bucket = topology.analytics_bucket
    days = set()
    for record in records:
        created = lake.from_epoch(float(record["dynamodb"].get("ApproximateCreationDateTime") or 0))
        days |= {created.date(), (created + lake.HOUR * 24).date()}
    wanted = {r["eventID"] for r in records}
    keys = [k for day in sorted(days) for k in lake.keys(s3, bucket, lake.analytics_prefix(day))]
    objects = lake.read_many(lambda key: lake.read_lines(s3, bucket, key), keys)
    placements: dict[str, Placement] = {}
    cuts: dict[str, list[str]] = {}
    created_at: dict[str, float] = {}
    for key, rows in objects.items():
        ids = [str(row.get("event_id")) for row in rows]
        seq_range = lake.analytics_range(key)
        if seq_range is None or not wanted.intersection(ids):
            continue
        cuts[key] = ids
        for row in rows:
            placements[str(row["event_id"])] = Placement(key, seq_range.shard, str(row.get("kinesis_sequence")))
            created_at[str(row["event_id"])] = float(row.get("created_at") or 0)
    return placements, cuts, created_at


def _archived_records(s3: Any, topology: Topology, ids: set[str], created: dict[str, float]) -> dict[str, Record]:
    """Archived records by eventID, read from the hours their rows say they were created in."""
    hours: set[datetime] = set()
    for moment in created.values():
        hours.update(lake.hours_between(lake.from_epoch(moment) - lake.HOUR, lake.from_epoch(moment)))
    bucket = topology.data_lake_bucket
    keys = [k for hour in sorted(hours) for k in lake.keys(s3, bucket, lake.raw_prefix(hour))]
    events = lake.read_many(lambda key: lake.read_json(s3, bucket, key), keys)
    return {r["eventID"]: r for e in events.values() for r in e.get("Records", []) if isinstance(r, dict) and r.get("eventID") in ids}


def invoke_all(lam: Any, replay: ReplayPlan, advance: Callable[[Invocation], None]) -> ReplayResult:
    """Invoke synchronously, one event at a time and in order (per-item order, as the mappings keep it)."""
    result = ReplayResult()
    for invocation in replay.invocations:
        response = lam.invoke(FunctionName=replay.function, Payload=json.dumps(invocation.event).encode("utf-8"))
        payload = response["Payload"].read()
        result.invoked += 1
        result.records += invocation.records
        if response.get("FunctionError"):
            result.failed_invocations += 1
            message = json.loads(payload or b"{}").get("errorMessage", "no message") if payload else "no message"
            result.errors.append(f"{invocation.origin}: {message}")
        else:
            answer = json.loads(payload) if payload else None
            failures = (answer or {}).get("batchItemFailures") if isinstance(answer, dict) else None
            if failures:
                result.failed_records += len(failures)
                result.errors.append(f"{invocation.origin}: {len(failures)} records reported as failed")
        advance(invocation)
    return result
