"""Read every sink in full as ``SinkEvent``s (for one-off checks; the live view and
`sandbox verify` read incrementally, see ``sandbox.sinkwatch``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from bootstrap.topology import Topology
from sandbox import s3tail
from sandbox.reconcile import SinkEvent
from sandbox.sinkclient import SinkClient
from sandbox.sinkwatch import lake_events, row_event


def _full(s3: Any, bucket: str, prefix: str) -> s3tail.S3Tail:
    return s3tail.S3Tail(s3, bucket, prefix, group_of=s3tail.directory_of, recent_prefixes=lambda _: [])


def data_lake(s3: Any, topology: Topology) -> Iterator[SinkEvent]:
    tail = _full(s3, topology.data_lake_bucket, "raw/")
    for obj in tail.poll():
        yield from lake_events(json.loads(tail.read(obj)), topology.table_key)


def analytics(s3: Any, topology: Topology) -> Iterator[SinkEvent]:
    tail = _full(s3, topology.analytics_bucket, "clicks/")
    for obj in tail.poll():
        for line in tail.read(obj).decode("utf-8").splitlines():
            if line.strip():
                yield row_event(json.loads(line))


def http(sink: SinkClient) -> Iterator[SinkEvent]:
    for delivery in sink.deliveries():
        yield row_event(delivery.get("body") or {})
