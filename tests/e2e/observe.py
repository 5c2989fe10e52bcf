"""Reading what the pipeline delivered: the data lake, consumer A's rows, the HTTP sink.

Objects are read incrementally (each key once: a key's content never changes,
the same batch always lands on the same key), so polling stays cheap.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def stream_event_records(body: bytes) -> list[dict[str, Any]]:
    """A data-lake object: the stream event exactly as received."""
    return list(json.loads(body)["Records"])


def single_record(body: bytes) -> list[dict[str, Any]]:
    """A deleted/ backup: one stream record."""
    return [json.loads(body)]


def json_lines(body: bytes) -> list[dict[str, Any]]:
    """An analytics object: one JSON row per line."""
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


@dataclass
class BucketReader:
    """Every object under ``prefix`` of ``bucket``, each fetched and parsed once."""

    s3: Any
    bucket: str
    prefix: str
    parse: Callable[[bytes], list[dict[str, Any]]] = stream_event_records
    bodies: dict[str, bytes] = field(default_factory=dict)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: key -> when this reader first saw it (epoch s). S3's LastModified has 1 s resolution
    #: on the emulator, too coarse for latency; polling every 0.2 s bounds the error instead.
    seen_at: dict[str, float] = field(default_factory=dict)

    def refresh(self) -> None:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents", []):
                if obj["Key"] not in self.bodies:
                    self.seen_at[obj["Key"]] = time.time()
                    body = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                    self.bodies[obj["Key"]] = body
                    self.items[obj["Key"]] = self.parse(body)


def run_of(record: dict[str, Any]) -> str | None:
    """The producer run that wrote a stream record (from whichever image carries it)."""
    body = record["dynamodb"]
    image = body.get("NewImage") or body.get("OldImage") or {}
    return image.get("run_id", {}).get("S")


def lake_records(reader: BucketReader, run_id: str) -> list[tuple[dict[str, Any], float]]:
    """(stream record, when the test first saw it in the data lake) for one producer run."""
    return [
        (record, reader.seen_at[key])
        for key, records in reader.items.items()
        for record in records
        if run_of(record) == run_id
    ]


def analytics_rows(reader: BucketReader, run_id: str) -> list[dict[str, Any]]:
    return [row for rows in reader.items.values() for row in rows if row.get("run_id") == run_id]


def sink_deliveries(deliveries: list[dict[str, Any]], run_id: str) -> list[dict[str, Any]]:
    return [d for d in deliveries if d.get("body", {}).get("run_id") == run_id]


def event_names_in_order(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """(uuid, event name) pairs in arrival order -> per uuid, the names in that order."""
    order: dict[str, list[str]] = {}
    for uuid, name in pairs:
        order.setdefault(uuid, []).append(name)
    return order


@dataclass(frozen=True)
class Latency:
    """Milliseconds from the write to the sink (p50/p95/max over records)."""

    p50: float
    p95: float
    max: float
    count: int

    @classmethod
    def of(cls, samples: list[float]) -> Latency:
        if not samples:
            return cls(0.0, 0.0, 0.0, 0)
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(statistics.median(ordered), p95, ordered[-1], len(ordered))

    def __str__(self) -> str:
        return f"p50 {self.p50:.0f} ms, p95 {self.p95:.0f} ms, max {self.max:.0f} ms (n={self.count})"
