"""Read every sink in full as ``SinkEvent``s (for `sandbox verify`; the live view reads incrementally)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from bootstrap.topology import Topology
from functions._stream import is_ttl_delete
from sandbox import s3tail
from sandbox.reconcile import SinkEvent
from sandbox.sinkclient import SinkClient


def _full(s3: Any, bucket: str, prefix: str) -> s3tail.S3Tail:
    return s3tail.S3Tail(s3, bucket, prefix, group_of=s3tail.directory_of, recent_prefixes=lambda _: [])


def data_lake(s3: Any, topology: Topology) -> Iterator[SinkEvent]:
    tail = _full(s3, topology.data_lake_bucket, "raw/")
    for obj in tail.poll():
        for record in json.loads(tail.read(obj)).get("Records", []):
            keys = record.get("dynamodb", {}).get("Keys", {})
            uuid = next(iter(keys.get(topology.table_key, {}).values()), "")
            yield SinkEvent(
                str(uuid), str(record.get("eventID")), str(record.get("eventName")), is_ttl_delete(record)
            )


def analytics(s3: Any, topology: Topology) -> Iterator[SinkEvent]:
    tail = _full(s3, topology.analytics_bucket, "clicks/")
    for obj in tail.poll():
        for line in tail.read(obj).decode("utf-8").splitlines():
            if line.strip():
                yield _row_event(json.loads(line))


def http(sink: SinkClient) -> Iterator[SinkEvent]:
    for delivery in sink.deliveries():
        yield _row_event(delivery.get("body") or {})


def _row_event(row: dict[str, Any]) -> SinkEvent:
    return SinkEvent(
        str(row.get("uuid")), str(row.get("event_id")), str(row.get("event_name")), bool(row.get("ttl_delete"))
    )
