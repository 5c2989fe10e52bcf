"""Every sink's events, read incrementally: what `sandbox verify --wait` polls once a second.

``sandbox.sinkread`` reads each sink in full, which is right for one check but not
for a loop: re-listing and re-reading whole buckets every second grows with the
data. Here each bucket has one ``S3Tail`` kept across polls (only new objects are
read; recent partitions are re-listed in full, so late keys are found too) and the
HTTP sink's delivery list is fetched again only when its /stats count changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from bootstrap.topology import Topology
from functions._stream import is_ttl_delete
from sandbox import s3tail
from sandbox.reconcile import SinkEvent
from sandbox.sinkclient import SinkClient

SINKS = ("data lake", "A (analytics)", "B (HTTP)")


def lake_events(event: Any, table_key: str) -> Iterator[SinkEvent]:
    """A data-lake ``raw/`` object (the stream event as archived) -> one SinkEvent per record."""
    for record in event.get("Records", []) if isinstance(event, dict) else []:
        keys = record.get("dynamodb", {}).get("Keys", {})
        uuid = next(iter(keys.get(table_key, {}).values()), "")
        yield SinkEvent(
            str(uuid), str(record.get("eventID")), str(record.get("eventName")), is_ttl_delete(record), run_of(record)
        )


def run_of(record: dict[str, Any]) -> str | None:
    """The producer run a stream record belongs to (its image's ``run_id``), if the view carries it."""
    body = record.get("dynamodb", {})
    for image in ("NewImage", "OldImage"):
        value = (body.get(image) or {}).get("run_id")
        if isinstance(value, dict) and value.get("S"):
            return str(value["S"])
    return None


def row_event(row: dict[str, Any]) -> SinkEvent:
    """A row (consumer A's line, consumer B's body) -> its SinkEvent."""
    return SinkEvent(
        str(row.get("uuid")), str(row.get("event_id")), str(row.get("event_name")), bool(row.get("ttl_delete")),
        str(row["run_id"]) if row.get("run_id") else None,
    )


class SinkWatch:
    """Keeps every sink's events between polls; ``poll()`` reads only what is new."""

    def __init__(self, s3: Any, sink: SinkClient, topology: Topology) -> None:
        self._topology = topology
        self._sink = sink
        self._lake = s3tail.S3Tail(
            s3, topology.data_lake_bucket, "raw/",
            group_of=s3tail.directory_of, recent_prefixes=s3tail.hourly_partitions("raw/"),
        )
        self._analytics = s3tail.S3Tail(
            s3, topology.analytics_bucket, "clicks/",
            group_of=s3tail.directory_and_shard, recent_prefixes=s3tail.daily_partitions("clicks/"),
        )
        self.events: dict[str, list[SinkEvent]] = {name: [] for name in SINKS}
        self._http_count: int | None = None
        self.objects_read = 0

    def poll(self) -> dict[str, list[SinkEvent]]:
        """Every event found so far, per sink (the lists grow; do not modify them)."""
        for obj in self._lake.poll(thorough=True):
            self.objects_read += 1
            self.events["data lake"] += lake_events(json.loads(self._lake.read(obj)), self._topology.table_key)
        for obj in self._analytics.poll(thorough=True):
            self.objects_read += 1
            for line in self._analytics.read(obj).decode("utf-8").splitlines():
                if line.strip():
                    self.events["A (analytics)"].append(row_event(json.loads(line)))
        count = self._sink.stats().deliveries
        if count != self._http_count:  # GET /deliveries is the whole list: only when it grew
            self.events["B (HTTP)"] = [row_event(d.get("body") or {}) for d in self._sink.deliveries()]
            self._http_count = count
        return self.events
