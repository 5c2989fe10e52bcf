"""How a poller reads one shard: DynamoDB stream shard or Kinesis shard.

Both read moto's in-memory shard through the adapter instead of the HTTP API.
Measured trade-off (FACTS.md): moto's GetRecords serializer costs 40-75 ms per
100 DynamoDB stream records and leaks an iterator per call; a direct read is a
list slice under the moto lock. Keeping the choice behind this interface means a
poller never knows which one it has.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from emulator import events
from emulator.moto_adapter import MotoAdapter, StoredStreamRecord


@dataclass(frozen=True)
class SourceRecord:
    """A record ready to be put into a Lambda event."""

    sequence: int
    event: dict[str, Any]
    size: int  # bytes of its JSON, for the 6 MB payload limit
    arrival: float  # epoch seconds


class ShardSource(Protocol):
    shard_id: str

    def start_position(self, starting_position: str, timestamp: float | None) -> int | None:
        """The first sequence number to read; None when the shard is gone."""

    def read(self, from_seq: int, limit: int) -> list[SourceRecord] | None:
        """Up to ``limit`` records from ``from_seq`` on; None when the shard is gone."""

    def batch_info_key(self) -> str:
        """The key of the batch description in an OnFailure record."""

    def parents(self) -> list[str]:
        """Shards that must be read to their end before this one (Kinesis resharding)."""


def _sized(sequence: int, event: dict[str, Any], arrival: float) -> SourceRecord:
    return SourceRecord(sequence, event, len(json.dumps(event, default=str)), arrival)


class DynamoStreamSource:
    """The (single) shard of a table's stream as moto keeps it."""

    def __init__(self, adapter: MotoAdapter, stream_arn: str, shard_id: str) -> None:
        self.adapter = adapter
        self.stream_arn = stream_arn
        self.shard_id = shard_id

    def start_position(self, starting_position: str, timestamp: float | None) -> int | None:
        bounds = self.adapter.stream_bounds(self.stream_arn)
        if bounds is None:
            return None
        first, nxt = bounds
        return nxt if starting_position == "LATEST" else first

    def read(self, from_seq: int, limit: int) -> list[SourceRecord] | None:
        stored = self.adapter.read_stream(self.stream_arn, from_seq, limit)
        if stored is None:
            return None
        return [_sized(s.sequence_number, events.dynamodb_record(s, self.stream_arn), s.created) for s in stored]

    def batch_info_key(self) -> str:
        return "DDBStreamBatchInfo"

    def parents(self) -> list[str]:
        return []


class HttpDynamoStreamSource(DynamoStreamSource):
    """The same shard read through the public GetShardIterator/GetRecords API.

    Kept to measure the trade-off (``make bench-emulator`` runs both readers):
    it costs two HTTP round trips and moto's response serializer per read, and
    leaks one server-side iterator per call (FACTS.md). Select it with
    ``EMULATOR_STREAM_READER=http``.
    """

    def __init__(self, adapter: MotoAdapter, stream_arn: str, shard_id: str, client: Callable[[], object]) -> None:
        super().__init__(adapter, stream_arn, shard_id)
        self._client = client

    def read(self, from_seq: int, limit: int) -> list[SourceRecord] | None:
        streams = self._client()
        bounds = self.adapter.stream_bounds(self.stream_arn)
        if bounds is None:
            return None
        if from_seq >= bounds[1]:
            return []
        start = max(from_seq, bounds[0])
        iterator = streams.get_shard_iterator(  # type: ignore[attr-defined]
            StreamArn=self.stream_arn, ShardId=self.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=str(start),
        )["ShardIterator"]
        response = streams.get_records(ShardIterator=iterator, Limit=min(limit, 1000))  # type: ignore[attr-defined]
        out = []
        for record in response["Records"]:
            created = record["dynamodb"]["ApproximateCreationDateTime"].timestamp()
            stored = StoredStreamRecord(int(record["dynamodb"]["SequenceNumber"]), record, created)
            out.append(_sized(stored.sequence_number, events.dynamodb_record(stored, self.stream_arn), created))
        return out


class KinesisShardSource:
    """One Kinesis shard; ``role_arn`` is read per batch (the function's role may change)."""

    def __init__(self, adapter: MotoAdapter, stream_arn: str, shard_id: str, role_arn: Callable[[], str]) -> None:
        self.adapter = adapter
        self.stream_arn = stream_arn
        self.shard_id = shard_id
        self.role_arn = role_arn

    def start_position(self, starting_position: str, timestamp: float | None) -> int | None:
        bounds = self.adapter.kinesis_bounds(self.stream_arn, self.shard_id)
        if bounds is None:
            return None
        first, nxt = bounds
        if starting_position == "LATEST":
            return nxt
        if starting_position == "AT_TIMESTAMP" and timestamp is not None:
            return self.adapter.kinesis_seq_at(self.stream_arn, self.shard_id, timestamp)
        return first

    def read(self, from_seq: int, limit: int) -> list[SourceRecord] | None:
        stored = self.adapter.read_kinesis(self.stream_arn, self.shard_id, from_seq, limit)
        if stored is None:
            return None
        role = self.role_arn()
        return [
            _sized(s.sequence_number, events.kinesis_record(s, self.stream_arn, self.shard_id, role), s.arrival)
            for s in stored
        ]

    def batch_info_key(self) -> str:
        return "KinesisBatchInfo"

    def parents(self) -> list[str]:
        return self.adapter.kinesis_parents(self.stream_arn, self.shard_id)
