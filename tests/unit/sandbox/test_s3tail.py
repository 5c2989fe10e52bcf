"""S3Tail: every object once, found with listings that stay small as the bucket grows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox import s3tail
from sandbox.s3tail import BucketMissing, S3Tail

from .fakes import FakeS3

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
HOUR = datetime.fromtimestamp(NOW, UTC).strftime("year=%Y/month=%m/day=%d/hour=%H")
DAY = datetime.fromtimestamp(NOW, UTC).strftime("dt=%Y-%m-%d")


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _lake(s3: FakeS3, clock: Clock, full_every: float = 15.0) -> S3Tail:
    return S3Tail(
        s3, "lake", "raw/", group_of=s3tail.directory_of, recent_prefixes=s3tail.hourly_partitions("raw/"),
        full_every_s=full_every, clock=clock, wall=lambda: NOW,
    )


def _keys(objects: list[s3tail.S3Object]) -> list[str]:
    return [o.key for o in objects]


def test_first_poll_catches_up_then_only_new_keys_return() -> None:
    s3, clock = FakeS3(page=2), Clock()
    for i in range(5):
        s3.put(f"raw/{HOUR}/{i:04d}.json", at=NOW)
    s3.put("raw/year=2020/month=01/day=01/hour=00/old.json", at=NOW - 10**8)
    tail = _lake(s3, clock)
    assert len(tail.poll()) == 6
    assert tail.poll() == []
    s3.put(f"raw/{HOUR}/0005.json", at=NOW)
    clock.t = 1.0
    assert _keys(tail.poll()) == [f"raw/{HOUR}/0005.json"]
    assert tail.seen == 7


def test_a_large_partition_is_read_from_its_newest_key_not_in_full() -> None:
    s3, clock = FakeS3(page=1000), Clock()
    for i in range(1500):
        s3.put(f"raw/{HOUR}/{i:06d}.json", at=NOW)
    tail = _lake(s3, clock)
    tail.poll()
    s3.calls.clear()
    s3.put(f"raw/{HOUR}/999999.json", at=NOW)
    clock.t = 1.0
    assert _keys(tail.poll()) == [f"raw/{HOUR}/999999.json"]
    big = [call for call in s3.calls if call["Prefix"] == f"raw/{HOUR}/"]
    assert big and all(call.get("StartAfter") for call in big), big


def test_a_key_that_sorts_early_is_found_by_the_periodic_full_listing() -> None:
    s3, clock = FakeS3(), Clock()
    for i in range(1000, 2100):
        s3.put(f"raw/{HOUR}/{i:06d}.json", at=NOW)
    tail = _lake(s3, clock, full_every=15.0)
    tail.poll()
    s3.put(f"raw/{HOUR}/000001.json", at=NOW)  # out of order (e.g. a retried batch)
    clock.t = 1.0
    assert tail.poll() == []
    clock.t = 16.0
    assert _keys(tail.poll()) == [f"raw/{HOUR}/000001.json"]


def test_a_new_shard_group_is_found_while_partitions_are_small() -> None:
    s3, clock = FakeS3(), Clock()
    tail = S3Tail(
        s3, "analytics", "clicks/", group_of=s3tail.directory_and_shard,
        recent_prefixes=s3tail.daily_partitions("clicks/"), clock=clock, wall=lambda: NOW,
    )
    s3.put(f"clicks/{DAY}/shardId-000000000001-5-9.jsonl", at=NOW)
    assert len(tail.poll()) == 1
    s3.put(f"clicks/{DAY}/shardId-000000000000-1-4.jsonl", at=NOW)  # sorts before the newest key
    clock.t = 1.0
    assert _keys(tail.poll()) == [f"clicks/{DAY}/shardId-000000000000-1-4.jsonl"]


def test_missing_bucket_is_reported() -> None:
    s3 = FakeS3()
    s3.missing = True
    with pytest.raises(BucketMissing):
        _lake(s3, Clock()).poll()


def test_groups() -> None:
    assert s3tail.directory_of("raw/a/b.json") == "raw/a/"
    assert s3tail.directory_and_shard("clicks/dt=x/shardId-000000000002-1-2.jsonl") == "clicks/dt=x/shardId-000000000002-"
    assert s3tail.directory_and_shard("clicks/dt=x/other.jsonl") == "clicks/dt=x/"


def test_consumer_a_keys_across_a_digit_boundary_are_found_at_once() -> None:
    """Issue 11's consumer A stall: moto's Kinesis counts sequence numbers from 1, and with
    unpadded keys "…-1000-1001.jsonl" sorted before "…-999-999.jsonl", so a large partition
    read from its newest key missed every later object until the next full listing (15 s).
    The function now pads sequence numbers; each new object is found on the next poll."""
    from functions.consumer_analytics import KinesisStreamRecord, object_key

    def key(first: int, last: int) -> str:
        def record(sequence: int) -> KinesisStreamRecord:
            return KinesisStreamRecord({"eventID": f"shardId-000000000001:{sequence}",
                                        "kinesis": {"sequenceNumber": str(sequence), "approximateArrivalTimestamp": NOW}})

        return object_key(record(first), record(last))

    s3, clock = FakeS3(page=1000), Clock()
    for seq in range(1, 1000):  # one object per record: 999 keys, "…-999-999" the newest
        s3.put(key(seq, seq), at=NOW)
    s3.put(f"clicks/{DAY}/shardId-000000000000-{'1'.zfill(56)}-{'1'.zfill(56)}.jsonl", at=NOW)  # a second shard: 1,000 keys
    tail = S3Tail(s3, "analytics", "clicks/", group_of=s3tail.directory_and_shard,
                  recent_prefixes=s3tail.daily_partitions("clicks/"), full_every_s=15.0, clock=clock, wall=lambda: NOW)
    assert tail.seen == 0 and len(tail.poll()) == 1000
    for step, (first, last) in enumerate(((1000, 1001), (1002, 1010)), start=1):
        s3.put(key(first, last), at=NOW)
        clock.t = float(step)  # well within full_every_s: the incremental path must find it
        assert _keys(tail.poll()) == [key(first, last)]
