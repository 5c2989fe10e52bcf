"""Counting the records of a DynamoDB stream or a Kinesis stream, reading only what is new.

One iterator per shard is kept between refreshes, so each refresh reads just the
records written since the last one (a handful at demo rates). A bounded number of
calls per refresh keeps a catch-up on a long-running stack from hogging the endpoint.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import ClientError


class StreamApi(Protocol):
    """The three calls both stream services share (names differ slightly)."""

    def shard_ids(self) -> list[str]: ...

    def iterator(self, shard_id: str, after: str | None) -> str | None: ...

    def records(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]: ...


class KinesisApi:
    def __init__(self, kinesis: Any, stream_name: str) -> None:
        self._kinesis = kinesis
        self._name = stream_name

    def shard_ids(self) -> list[str]:
        shards: list[str] = []
        kwargs: dict[str, Any] = {"StreamName": self._name}
        while True:
            page = self._kinesis.list_shards(**kwargs)
            shards += [s["ShardId"] for s in page.get("Shards", [])]
            if not page.get("NextToken"):
                return shards
            kwargs = {"NextToken": page["NextToken"]}

    def iterator(self, shard_id: str, after: str | None) -> str | None:
        kwargs: dict[str, Any] = {"StreamName": self._name, "ShardId": shard_id}
        if after:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=after)
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        return self._kinesis.get_shard_iterator(**kwargs).get("ShardIterator")

    def records(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        page = self._kinesis.get_records(ShardIterator=iterator, Limit=limit)
        return page.get("Records", []), page.get("NextShardIterator")


class DynamoDBStreamApi:
    def __init__(self, streams: Any, stream_arn: str) -> None:
        self._streams = streams
        self.stream_arn = stream_arn

    def shard_ids(self) -> list[str]:
        shards: list[str] = []
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self._streams.describe_stream(**kwargs)["StreamDescription"]
            shards += [s["ShardId"] for s in description.get("Shards", [])]
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            kwargs["ExclusiveStartShardId"] = last

    def iterator(self, shard_id: str, after: str | None) -> str | None:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
        if after:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        return self._streams.get_shard_iterator(**kwargs).get("ShardIterator")

    def records(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        page = self._streams.get_records(ShardIterator=iterator, Limit=limit)
        return page.get("Records", []), page.get("NextShardIterator")


def _sequence(record: dict[str, Any]) -> str:
    """Kinesis records carry ``SequenceNumber`` on top, DynamoDB stream records under ``dynamodb``."""
    return str(record.get("SequenceNumber") or record.get("dynamodb", {}).get("SequenceNumber", ""))


class ShardTail:
    """How many records a stream holds, read forward from where the last refresh stopped."""

    def __init__(
        self,
        api: StreamApi,
        *,
        limit: int = 1000,
        max_calls: int = 4,
        refresh_shards_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self._limit = limit
        self._max_calls = max_calls
        self._refresh_every = refresh_shards_s
        self._clock = clock
        self._shards: list[str] = []
        self._shards_at: float | None = None
        self._iterators: dict[str, str | None] = {}
        self._after: dict[str, str] = {}
        self._closed: set[str] = set()
        self.count = 0
        self.by_event: Counter[str] = Counter()
        self.caught_up = False

    def poll(self) -> int:
        """Read what is new (within the call budget); returns the total count so far."""
        now = self._clock()
        if self._shards_at is None or now - self._shards_at >= self._refresh_every:
            self._shards = self.api.shard_ids()
            self._shards_at = now
        calls = 0
        caught_up = True
        for shard in self._shards:
            while shard not in self._closed:
                if calls >= self._max_calls:
                    caught_up = False
                    break
                calls += 1
                got = self._read(shard)
                if got < self._limit:
                    break
        self.caught_up = caught_up
        return self.count

    def _read(self, shard: str) -> int:
        iterator = self._iterators.get(shard)
        try:
            if iterator is None:
                iterator = self.api.iterator(shard, self._after.get(shard))
                if iterator is None:
                    self._closed.add(shard)
                    return 0
            records, next_iterator = self.api.records(iterator, self._limit)
        except ClientError:
            # Expired/trimmed/unknown iterator: start again after the last record seen.
            self._iterators[shard] = None
            raise
        if records:
            self._after[shard] = _sequence(records[-1])
            self.count += len(records)
            self.by_event.update(str(r.get("eventName", "")) for r in records if "eventName" in r)
        if next_iterator is None:
            self._closed.add(shard)
        self._iterators[shard] = next_iterator
        return len(records)
