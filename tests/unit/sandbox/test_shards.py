"""ShardTail: counts every record once across refreshes, within a call budget."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.shards import ShardTail


class FakeStream:
    """Shards of sequential records; iterators are "shard:position" strings."""

    def __init__(self, shards: dict[str, int]) -> None:
        self.records = {shard: [self._record(shard, i) for i in range(n)] for shard, n in shards.items()}
        self.calls = 0
        self.fail_next = False

    @staticmethod
    def _record(shard: str, i: int) -> dict[str, Any]:
        return {"SequenceNumber": f"{i + 1:021d}", "eventName": "INSERT" if i % 2 == 0 else "MODIFY"}

    def add(self, shard: str, n: int) -> None:
        start = len(self.records[shard])
        self.records[shard] += [self._record(shard, start + i) for i in range(n)]

    def shard_ids(self) -> list[str]:
        return list(self.records)

    def iterator(self, shard_id: str, after: str | None) -> str | None:
        position = 0 if after is None else int(after)
        return f"{shard_id}:{position}"

    def records_(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        self.calls += 1
        if self.fail_next:
            self.fail_next = False
            raise ClientError({"Error": {"Code": "ExpiredIteratorException", "Message": "x"}}, "GetRecords")
        shard, position = iterator.rsplit(":", 1)
        batch = self.records[shard][int(position) : int(position) + limit]
        return batch, f"{shard}:{int(position) + len(batch)}"



class Api:
    def __init__(self, stream: FakeStream) -> None:
        self.stream = stream

    def shard_ids(self) -> list[str]:
        return self.stream.shard_ids()

    def iterator(self, shard_id: str, after: str | None) -> str | None:
        return self.stream.iterator(shard_id, after)

    def records(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        return self.stream.records_(iterator, limit)


def test_counts_new_records_only() -> None:
    stream = FakeStream({"a": 3, "b": 2})
    tail = ShardTail(Api(stream), limit=10)
    assert tail.poll() == 5 and tail.caught_up
    assert tail.by_event == {"INSERT": 3, "MODIFY": 2}
    stream.add("b", 4)
    assert tail.poll() == 9


def test_a_backlog_is_read_within_the_call_budget() -> None:
    stream = FakeStream({"a": 100})
    tail = ShardTail(Api(stream), limit=10, max_calls=3)
    assert tail.poll() == 30 and not tail.caught_up
    assert stream.calls == 3
    while not tail.caught_up:
        tail.poll()
    assert tail.count == 100


def test_an_expired_iterator_resumes_after_the_last_record() -> None:
    stream = FakeStream({"a": 4})
    tail = ShardTail(Api(stream), limit=10)
    tail.poll()
    stream.add("a", 3)
    stream.fail_next = True
    with pytest.raises(ClientError):
        tail.poll()
    assert tail.poll() == 7  # nothing counted twice, nothing lost
