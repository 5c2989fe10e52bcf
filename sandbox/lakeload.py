"""Rows for `sandbox query`: consumer A's objects and the data lake's raw objects, read with boto3.

Why boto3 and not DuckDB's httpfs: httpfs is an extension DuckDB downloads on first
use, and nothing but the package registries is reachable here; boto3 also follows
``AWS_ENDPOINT_URL`` and the credential chain exactly like every other command (the
emulator, LocalStack and AWS alike). Objects are read concurrently; each raw stream
record becomes one flat row (``sandbox.lakeschema.RAW_EVENTS``), TTL deletions marked by
the handlers' own rule (``functions._stream.is_ttl_delete``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bootstrap.topology import Topology
from functions._stream import is_ttl_delete
from sandbox import lake

#: Objects read at once (S3 and the emulator answer in parallel; boto3 clients are thread-safe).
READERS = 8
_DT = re.compile(r"/dt=(?P<dt>[^/]+)/")
_HOUR = re.compile(r"/year=(?P<year>\d+)/month=(?P<month>\d+)/day=(?P<day>\d+)/hour=(?P<hour>\d+)/")

#: The two S3 sinks a load may read: consumer A's rows and the data lake's raw events.
SOURCES = ("clicks", "raw")
#: ``advance(objects_done, objects_total)`` after each object read.
Advance = Callable[[int, int], None]


@dataclass
class LakeRows:
    """What one load read: rows per table and how much it took."""

    clicks: list[dict[str, Any]] = field(default_factory=list)
    raw_events: list[dict[str, Any]] = field(default_factory=list)
    objects: int = 0
    bytes: int = 0
    sources: dict[str, str] = field(default_factory=dict)  # table -> s3:// prefix read

    @property
    def empty(self) -> bool:
        return not self.clicks and not self.raw_events


def _iso(epoch_s: Any) -> str | None:
    try:
        return datetime.fromtimestamp(float(epoch_s), UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def raw_rows(event: Any, uri: str, table_key: str) -> Iterator[dict[str, Any]]:
    """One row per stream record of an archived event (junk records are skipped)."""
    records = event.get("Records", []) if isinstance(event, dict) else []
    match = _HOUR.search(uri)
    partition = match.groupdict() if match else dict.fromkeys(("year", "month", "day", "hour"))
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("dynamodb"), dict):
            continue
        body = record["dynamodb"]
        identity = record.get("userIdentity") if isinstance(record.get("userIdentity"), dict) else {}
        yield {
            "event_id": record.get("eventID"),
            "event_name": record.get("eventName"),
            "event_source": record.get("eventSource"),
            "event_version": record.get("eventVersion"),
            "aws_region": record.get("awsRegion"),
            "uuid": lake.item_of(record, table_key),
            "keys": body.get("Keys"),
            "new_image": body.get("NewImage"),
            "old_image": body.get("OldImage"),
            "sequence_number": body.get("SequenceNumber"),
            "approximate_creation_time": _iso(body.get("ApproximateCreationDateTime")),
            "size_bytes": body.get("SizeBytes"),
            "stream_view_type": body.get("StreamViewType"),
            "user_identity_type": identity.get("type"),
            "user_identity_principal": identity.get("principalId"),
            "ttl_delete": is_ttl_delete(record),
            "s3_key": uri,
            **partition,
        }


def click_rows(body: bytes, uri: str) -> Iterator[dict[str, Any]]:
    """Consumer A's rows of one object, with the ``dt`` partition of its key."""
    match = _DT.search(uri)
    dt = match["dt"] if match else None
    for line in body.decode("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if isinstance(row, dict):
                yield {**row, "dt": dt}


class LakeReader:
    """Lists and reads the two S3 sinks of one deployment."""

    def __init__(self, s3: Any, topology: Topology) -> None:
        self._s3 = s3
        self.topology = topology

    def prefixes(self, sources: Iterable[str] = SOURCES) -> list[str]:
        """The ``s3://`` prefixes of ``sources`` (``clicks``, ``raw``)."""
        where = {"clicks": f"s3://{self.topology.analytics_bucket}/clicks/", "raw": f"s3://{self.topology.data_lake_bucket}/raw/"}
        return [where[source] for source in SOURCES if source in sources]

    def plan(self, sources: Iterable[str] = SOURCES) -> tuple[list[str], list[str]]:
        """The object keys to read: consumer A's ``clicks/`` and the data lake's ``raw/`` (those in ``sources``)."""
        wanted = set(sources)
        return (
            lake.keys(self._s3, self.topology.analytics_bucket, "clicks/") if "clicks" in wanted else [],
            lake.keys(self._s3, self.topology.data_lake_bucket, "raw/") if "raw" in wanted else [],
        )

    def read(self, clicks: list[str], raw: list[str], advance: Advance | None = None) -> LakeRows:
        analytics, datalake = self.topology.analytics_bucket, self.topology.data_lake_bucket
        jobs = [(analytics, key) for key in clicks] + [(datalake, key) for key in raw]
        rows = LakeRows(sources={"clicks": f"s3://{analytics}/clicks/", "raw_events": f"s3://{datalake}/raw/"})

        def get(job: tuple[str, str]) -> bytes:
            bucket, key = job
            return bytes(self._s3.get_object(Bucket=bucket, Key=key)["Body"].read())

        with ThreadPoolExecutor(max_workers=READERS) as pool:
            for done, ((bucket, key), body) in enumerate(zip(jobs, pool.map(get, jobs), strict=True), start=1):
                uri = f"s3://{bucket}/{key}"
                rows.objects += 1
                rows.bytes += len(body)
                if bucket == analytics:
                    rows.clicks.extend(click_rows(body, uri))
                else:
                    rows.raw_events.extend(raw_rows(json.loads(body), uri, self.topology.table_key))
                if advance is not None:
                    advance(done, len(jobs))
        return rows
