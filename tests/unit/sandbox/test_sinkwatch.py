"""`sandbox verify --wait`'s readers: each object read once across polls, /deliveries only when it grew."""

from __future__ import annotations

import json
import time
from typing import Any

from bootstrap.settings import Settings
from bootstrap.topology import Topology
from sandbox.reconcile import SinkEvent
from sandbox.sinkclient import SinkStats
from sandbox.sinkwatch import SinkWatch

from .fakes import FakeS3

TOPOLOGY = Topology.from_settings(Settings(endpoint_url="http://127.0.0.1:9"))


class CountingS3(FakeS3):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        self.reads.append(Key)
        return super().get_object(Bucket=Bucket, Key=Key)


class FakeSink:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.fetches = 0

    def stats(self) -> SinkStats:
        return SinkStats(deliveries=len(self.rows), duplicates=0, faulted=0, latency=None)

    def deliveries(self) -> list[dict[str, Any]]:
        self.fetches += 1
        return [{"key": r["event_id"], "body": r} for r in self.rows]


def _record(n: int) -> dict[str, Any]:
    return {"eventID": f"e{n}", "eventName": "INSERT", "dynamodb": {"Keys": {"uuid": {"S": f"u{n}"}}}}


def _row(n: int) -> dict[str, Any]:
    return {"event_id": f"e{n}", "event_name": "INSERT", "uuid": f"u{n}", "ttl_delete": False}


def test_objects_are_read_once_and_deliveries_only_when_they_grew() -> None:
    s3, sink, now = CountingS3(), FakeSink(), time.time()
    hour = time.strftime("year=%Y/month=%m/day=%d/hour=%H", time.gmtime(now))
    day = time.strftime("dt=%Y-%m-%d", time.gmtime(now))
    s3.put(f"raw/{hour}/1-1-a.json", json.dumps({"Records": [_record(1)]}).encode(), at=now)
    s3.put(f"clicks/{day}/shardId-000-1-1.jsonl", (json.dumps(_row(1)) + "\n").encode(), at=now)
    sink.rows.append(_row(1))
    watch = SinkWatch(s3, sink, TOPOLOGY)  # type: ignore[arg-type]
    first = {name: list(events) for name, events in watch.poll().items()}
    assert first == {name: [SinkEvent("u1", "e1", "INSERT", False)] for name in first}
    # WHEN nothing changed THEN a poll reads no object and does not fetch /deliveries again
    watch.poll()
    assert len(s3.reads) == 2 and sink.fetches == 1
    # WHEN one more record reached each sink THEN only the new object is read
    s3.put(f"raw/{hour}/2-2-b.json", json.dumps({"Records": [_record(2)]}).encode(), at=now)
    s3.put(f"clicks/{day}/shardId-000-2-2.jsonl", (json.dumps(_row(2)) + "\n").encode(), at=now)
    sink.rows.append(_row(2))
    events = watch.poll()
    assert {name: [e.event_id for e in found] for name, found in events.items()} == {name: ["e1", "e2"] for name in events}
    assert len(s3.reads) == 4 and sink.fetches == 2
