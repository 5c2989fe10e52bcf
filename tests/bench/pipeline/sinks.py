"""Every sink read directly (S3 objects, the HTTP sink's delivery list), as ``Arrival``s of one run.

Independent of the live view's collector: objects are listed in full and each new
key read once, so the figures do not depend on the code whose speed is measured.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from bootstrap.topology import Topology
from functions._stream import ARCHIVED_AT_METADATA
from sandbox.sinkclient import SinkClient
from sandbox.sinkwatch import run_of
from tests.bench.pipeline.measures import Arrival

SINKS = ("data lake", "consumer A", "consumer B")


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class _Objects:
    """New objects under a prefix: each key fetched once (with its metadata)."""

    def __init__(self, s3: Any, bucket: str, prefix: str) -> None:
        self._s3, self._bucket, self._prefix = s3, bucket, prefix
        self._seen: set[str] = set()

    def new(self) -> Iterator[tuple[bytes, dict[str, str], float]]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=self._prefix)
        for page in pages:
            for entry in page.get("Contents", []):
                if entry["Key"] in self._seen:
                    continue
                self._seen.add(entry["Key"])
                response = self._s3.get_object(Bucket=self._bucket, Key=entry["Key"])
                yield response["Body"].read(), response.get("Metadata") or {}, entry["LastModified"].timestamp() * 1000


class RunArrivals:
    """Accumulates one run's first arrival per event id at every sink; ``poll()`` reads what is new."""

    def __init__(self, s3: Any, sink_url: str, topology: Topology, run_id: str) -> None:
        self.run_id = run_id
        self.arrivals: dict[str, dict[str, Arrival]] = {name: {} for name in SINKS}
        self.inexact_lake = 0  # objects without the archive's timestamp (LastModified + 1 s used)
        self._lake = _Objects(s3, topology.data_lake_bucket, "raw/")
        self._rows = _Objects(s3, topology.analytics_bucket, "clicks/")
        self._sink = SinkClient(sink_url)

    def counts(self) -> dict[str, int]:
        return {name: len(found) for name, found in self.arrivals.items()}

    def poll(self, *, final: bool = False) -> dict[str, int]:
        """Counts per sink. Consumer B's is the sink's own distinct-key count (the sink serves
        only this run) until ``final``, which reads the delivery list once for the arrival times."""
        self._poll_lake()
        self._poll_rows()
        counts = self.counts()
        if final:
            self._read_http()
            counts = self.counts()
        else:
            counts["consumer B"] = self._sink.stats().deliveries
        return counts

    def _add(self, sink: str, event_id: str, written: float | None, arrived: float) -> None:
        found = self.arrivals[sink]
        if event_id not in found or arrived < found[event_id].arrived_ms:
            found[event_id] = Arrival(event_id, written, arrived)

    def _poll_lake(self) -> None:
        for body, metadata, modified_ms in self._lake.new():
            arrived = _number(metadata.get(ARCHIVED_AT_METADATA))
            if arrived is None:
                self.inexact_lake += 1
                arrived = modified_ms + 1000.0
            for record in json.loads(body).get("Records", []):
                if run_of(record) != self.run_id:
                    continue
                image = record.get("dynamodb", {}).get("NewImage") or {}
                written = _number((image.get("ts") or {}).get("N")) if record.get("eventName") != "REMOVE" else None
                self._add("data lake", str(record.get("eventID")), written, arrived)

    def _row(self, sink: str, row: dict[str, Any], arrived: float | None) -> None:
        if row.get("run_id") != self.run_id or arrived is None:
            return
        written = _number(row.get("ts")) if row.get("event_name") != "REMOVE" else None
        self._add(sink, str(row.get("event_id")), written, arrived)

    def _poll_rows(self) -> None:
        for body, _, _ in self._rows.new():
            for line in body.decode("utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    self._row("consumer A", row, _number(row.get("processed_at")))

    def _read_http(self) -> None:
        for delivery in self._sink.deliveries():
            self._row("consumer B", delivery.get("body") or {}, _number(delivery.get("received_at")))
