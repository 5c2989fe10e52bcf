"""Counting what reached each sink, independently of the code under test.

Reads the producer's manifest, the two buckets and the HTTP sink's deliveries with
plain boto3 and urllib: no sandbox reader, reconciler or manifest loader is reused, so
a bug there cannot hide a loss here (``sandbox verify`` is run separately and compared).
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from dataclasses import dataclass
from typing import Any, NamedTuple

SINKS = ("data lake", "consumer A", "HTTP sink")


class Event(NamedTuple):
    uuid: str
    event_id: str
    event_name: str


@dataclass(frozen=True)
class SinkCount:
    expected: int
    found: int
    duplicated: int

    @property
    def missing(self) -> int:
        return self.expected - self.found

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.duplicated == 0

    def cell(self) -> str:
        return f"{self.found}/{self.missing}/{self.duplicated}"


#: Object bodies by (bucket, key, ETag): the ETag is the body's MD5, so a cached body is
#: exactly what S3 holds; a drain wait re-reads only new or rewritten objects.
_BODIES: dict[tuple[str, str, str], bytes] = {}


def _body(s3: Any, bucket: str, key: str, etag: str = "") -> bytes:
    cached = _BODIES.get((bucket, key, etag)) if etag else None
    if cached is None:
        cached = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if etag:
            _BODIES[(bucket, key, etag)] = cached
    return cached


def _objects(s3: Any, bucket: str, prefix: str) -> list[tuple[str, str]]:
    """(key, ETag) of every object under ``prefix``."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [(obj["Key"], obj["ETag"]) for page in pages for obj in page.get("Contents", [])]


def planned(s3: Any, bucket: str, run_id: str) -> dict[str, list[str]]:
    """Per click id of the run, the stream event names its successful writes cause."""
    header = json.loads(_body(s3, bucket, f"manifests/{run_id}.json"))
    lists: dict[str, list[str]] = {"clicks": [], "updated": [], "deleted": []}
    for number in range(1, header["parts"] + 1):
        part = json.loads(_body(s3, bucket, f"manifests/{run_id}/part-{number:06d}.json"))
        for name in lists:
            lists[name] += part.get(name, [])
    updated, deleted = set(lists["updated"]), set(lists["deleted"])
    return {
        uuid: ["INSERT"] + (["MODIFY"] if uuid in updated else []) + (["REMOVE"] if uuid in deleted else [])
        for uuid in lists["clicks"]
    }


def lake(s3: Any, bucket: str, table_key: str = "uuid") -> list[Event]:
    """Every record of every raw/ object (each object is one archived stream event)."""
    events = []
    for key, etag in _objects(s3, bucket, "raw/"):
        for record in json.loads(_body(s3, bucket, key, etag)).get("Records", []):
            value = record["dynamodb"]["Keys"][table_key]
            events.append(Event(str(next(iter(value.values()))), record["eventID"], record["eventName"]))
    return events


def analytics(s3: Any, bucket: str) -> list[Event]:
    """Every row of consumer A's clicks/ objects (newline-delimited JSON)."""
    events = []
    for key, etag in _objects(s3, bucket, "clicks/"):
        for line in _body(s3, bucket, key, etag).decode("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                events.append(Event(str(row["uuid"]), str(row["event_id"]), str(row["event_name"])))
    return events


def rejected(s3: Any, bucket: str) -> list[str]:
    """Consumer A's rejected/ objects: the junk records it named and skipped."""
    return [key for key, _ in _objects(s3, bucket, "rejected/")]


def deliveries(sink_url: str) -> list[Event]:
    """The HTTP sink's recorded deliveries (GET on the deliveries URL)."""
    with urllib.request.urlopen(sink_url, timeout=30) as response:
        data = json.loads(response.read())
    rows = data if isinstance(data, list) else data.get("deliveries", [])
    return [
        Event(str(d["body"].get("uuid")), str(d["body"].get("event_id")), str(d["body"].get("event_name")))
        for d in rows
    ]


def count(plan: dict[str, list[str]], events: list[Event]) -> SinkCount:
    """Found = planned (click, event name) pairs present; duplicated = extra copies of an
    event id plus events beyond the plan for a planned click. Other clicks are ignored."""
    mine = [e for e in events if e.uuid in plan]
    copies = Counter(e.event_id for e in mine)
    names: dict[str, Counter[str]] = {}
    for event in {e.event_id: e for e in mine}.values():
        names.setdefault(event.uuid, Counter())[event.event_name] += 1
    found = extra = 0
    for uuid, wanted in plan.items():
        have, want = names.get(uuid, Counter()), Counter(wanted)
        found += sum(min(have[n], want[n]) for n in want)
        extra += sum(max(0, have[n] - want[n]) for n in have)
    expected = sum(len(names_) for names_ in plan.values())
    return SinkCount(expected, found, sum(c - 1 for c in copies.values()) + extra)
