"""Archived stream records -> the events a replay sends to each function (pure, no AWS).

Why so careful about Kinesis coordinates: a replay must not create duplicates, and
consumer A's idempotence is its object key, ``<shardId>-<first seq>-<last seq>``. A
replayed record consumer A already stored is therefore re-sent *within its original
cut* (the same records, shard and sequence numbers, as listed by the object it sits
in), so the object is rewritten with the same rows. A record consumer A never stored
gets deterministic coordinates instead: pseudo-shard ``replay`` and its DynamoDB
SequenceNumber, so a second replay of it rewrites the same ``replay-...`` object.
Consumer B needs none of this (its sink deduplicates by eventID), so it gets the
selected records only, with the same deterministic coordinates where A has none.
Records are encoded by fanout's own ``to_entry``: the bytes fanout would have put.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from functions._stream import JunkRecord
from functions.fanout import to_entry
from sandbox import lambda_events

REPLAY_SHARD = "replay"
Record = dict[str, Any]


@dataclass(frozen=True)
class Archived:
    """One data-lake ``raw/`` object: the stream event exactly as archive received it."""

    key: str
    event: dict[str, Any]

    @property
    def records(self) -> list[Record]:
        return [r for r in self.event.get("Records", []) if isinstance(r, dict)]


@dataclass(frozen=True)
class Placement:
    """Where consumer A stored a record: its object and the record's Kinesis coordinates."""

    object_key: str
    shard: str
    sequence: str


@dataclass(frozen=True)
class KinesisSource:
    """The stream the consumers read, as it appears in their events."""

    stream_arn: str
    role_arn: str
    region: str


@dataclass(frozen=True)
class Invocation:
    event: dict[str, Any]
    records: int
    origin: str  # what it re-sends, for progress and --dry-run


def table_stream_invocations(archived: list[Archived]) -> list[Invocation]:
    """archive and fanout: each archived event exactly as it was received."""
    return [Invocation(a.event, len(a.event.get("Records", [])), a.key) for a in archived if a.event.get("Records")]


def _created(record: Record) -> float:
    return float((record.get("dynamodb") or {}).get("ApproximateCreationDateTime") or 0)


def _arrival(record: Record, day: date | None) -> float:
    """An arrival time on ``day`` (consumer A files an object under its first record's arrival date)."""
    created = _created(record)
    if day is None or datetime.fromtimestamp(created, UTC).date() == day:
        return created
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def kinesis_record(record: Record, shard: str, sequence: str, arrival: float, source: KinesisSource) -> Record:
    """One Kinesis record in the Lambda event shape, its data the way fanout puts it."""
    entry = to_entry(record)
    return lambda_events.kinesis_record(
        partition_key=entry.partition_key, data=entry.data, sequence=sequence, shard_id=shard, arrival=arrival,
        role_arn=source.role_arn, region=source.region, stream_arn=source.stream_arn,
    )


def _replay_coordinates(record: Record, source: KinesisSource) -> Record:
    sequence = str(record["dynamodb"]["SequenceNumber"])
    return kinesis_record(record, REPLAY_SHARD, sequence, _created(record), source)


def _chunks(items: list[Record], size: int) -> Iterator[list[Record]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def valid(records: list[Record]) -> tuple[list[Record], list[str]]:
    """Records fanout could encode, and a note per record it could not (fanout would have refused it too)."""
    good, notes = [], []
    for record in records:
        try:
            to_entry(record)
        except JunkRecord as error:
            notes.append(f"skipped {record.get('eventID', 'a record')}: {error}")
            continue
        good.append(record)
    return good, notes


def http_invocations(records: list[Record], source: KinesisSource, batch_size: int) -> list[Invocation]:
    """Consumer B: the selected records, in order, in batches of the mapping's size."""
    return [
        Invocation({"Records": [_replay_coordinates(r, source) for r in chunk]}, len(chunk), f"{len(chunk)} archived records")
        for chunk in _chunks(records, batch_size)
    ]


def analytics_invocations(
    records: list[Record],
    placements: dict[str, Placement],
    cuts: dict[str, list[str]],
    lookup: dict[str, Record],
    source: KinesisSource,
    batch_size: int,
) -> tuple[list[Invocation], list[str]]:
    """Consumer A: whole original cuts for stored records, deterministic new cuts for the rest.

    ``cuts``: consumer A object key -> the eventIDs it holds, in order; ``lookup``:
    eventID -> archived record (to rebuild cuts that reach beyond the selection).
    Returns the invocations and a note per cut that cannot be rebuilt (its records
    are then left alone rather than rewritten with fewer rows).
    """
    invocations, notes = [], []
    touched = list(dict.fromkeys(placements[r["eventID"]].object_key for r in records if r["eventID"] in placements))
    for object_key in touched:
        ids = cuts[object_key]
        missing = [i for i in ids if i not in lookup]
        if missing:
            notes.append(f"left {object_key} as it is: {len(missing)} of its records are not in the data lake")
            continue
        day = _day_of(object_key)
        event = [
            kinesis_record(lookup[i], placements[i].shard, placements[i].sequence, _arrival(lookup[i], day), source)
            for i in ids
        ]
        invocations.append(Invocation({"Records": event}, len(event), f"rewrites {object_key}"))
    fresh = [r for r in records if r["eventID"] not in placements]
    for chunk in _chunks(fresh, batch_size):
        first, last = chunk[0]["dynamodb"]["SequenceNumber"], chunk[-1]["dynamodb"]["SequenceNumber"]
        event = {"Records": [_replay_coordinates(r, source) for r in chunk]}
        invocations.append(Invocation(event, len(chunk), f"restores {len(chunk)} records as {REPLAY_SHARD}-{first}-{last}"))
    return invocations, notes


def _day_of(object_key: str) -> date | None:
    for part in object_key.split("/"):
        if part.startswith("dt="):
            try:
                return date.fromisoformat(part[3:])
            except ValueError:
                return None
    return None
