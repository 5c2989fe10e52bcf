"""Where one click is, stage by stage: its run manifest, the table, the data lake, consumers A and B.

Why a search strategy and not a full scan: the sinks can hold thousands of objects
per hour. Evidence that is cheap to get comes first (the table item, the HTTP sink's
deliveries, the run manifest); it names the hours to look in and the sequence numbers
to look for, and object names carry their sequence-number ranges, so usually only a
few objects are read. When that narrow read finds fewer records than the run says
there must be, every object of those hours is read instead: a missing record is
reported only after a full look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from bootstrap.settings import Settings
from bootstrap.topology import Topology
from functions._stream import is_ttl_delete
from producer.errors import ProducerError
from producer.manifest import Manifest, list_runs, load
from sandbox import lake
from sandbox.sinkclient import SinkClient, SinkUnavailable

#: Manifests read (newest first) when neither the item nor a delivery names the run.
MAX_MANIFESTS = 20
#: AWS deletes expired items within about 48 h of expiry: look that far after expires_at.
TTL_LAG = timedelta(hours=48)
_deserialize = TypeDeserializer().deserialize


@dataclass(frozen=True)
class Hit:
    event: str
    ident: str
    detail: str = ""


@dataclass
class Stage:
    name: str
    missing: str  # shown when there are no hits: "not found in ..."
    hits: list[Hit] = field(default_factory=list)


@dataclass
class Trace:
    click: str
    stages: list[Stage]

    @property
    def found(self) -> bool:
        return any(stage.hits for stage in self.stages)


def _iso(epoch_s: float | None) -> str:
    return "?" if epoch_s is None else lake.from_epoch(epoch_s).strftime("%Y-%m-%d %H:%M:%S")


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class Tracer:
    """One trace's clients and clock (injected, so tests can pin them)."""

    settings: Settings
    topology: Topology
    s3: Any
    ddb: Any
    sink: SinkClient
    now: datetime
    fallback_hours: int = 24

    def trace(self, click: str) -> Trace:
        item = self._item(click)
        deliveries, sink_problem = self._deliveries(click)
        manifest, searched_runs = self._manifest(click, item, deliveries)
        hours = self._window(item, deliveries, manifest)
        expected = len(manifest.expected_events().get(click, [])) if manifest else len(deliveries)
        known = {int(d["body"]["sequence"]) for d in deliveries if str(d["body"].get("sequence", "")).isdigit()}
        records, read = self._raw(click, hours, known, expected)
        ttl_hours = self._ttl_hours(item, records) - hours
        if ttl_hours and not any(self._is_ttl(r) for _, r in records):
            more, more_read = self._raw(click, ttl_hours, set(), 1)
            records, read, hours = records + more, read + more_read, hours | ttl_hours
        stages = [
            self._producer_stage(click, manifest, searched_runs),
            self._table_stage(click, item, manifest),
            self._raw_stage(records, read, len(hours)),
            self._deleted_stage(click, hours),
            self._analytics_stage(click, hours, deliveries, len({r["eventID"] for _, r in records})),
            self._http_stage(deliveries, sink_problem),
        ]
        return Trace(click, stages)

    # --- cheap evidence first ------------------------------------------------------------
    def _item(self, click: str) -> dict[str, Any] | None:
        raw = self.ddb.get_item(TableName=self.topology.table_name, Key={self.topology.table_key: {"S": click}})
        item = raw.get("Item")
        return {k: _deserialize(v) for k, v in item.items()} if item else None

    def _deliveries(self, click: str) -> tuple[list[dict[str, Any]], str]:
        try:
            every = self.sink.deliveries()
        except SinkUnavailable as error:
            # Unknown, not absent: the stage says so (with the fix) instead of "not found".
            return [], f"HTTP sink unreachable: {error.message} (fix: {error.fix})"
        return [d for d in every if (d.get("body") or {}).get("uuid") == click], ""

    def _manifest(self, click: str, item: dict[str, Any] | None, deliveries: list[dict[str, Any]]) -> tuple[Manifest | None, int]:
        named = {str(item["run_id"])} if item and item.get("run_id") else set()
        named |= {str(d["body"]["run_id"]) for d in deliveries if d["body"].get("run_id")}
        bucket = self.topology.data_lake_bucket
        newest = list_runs(self.settings, bucket, s3=self.s3)[::-1][:MAX_MANIFESTS] if not named else []
        candidates = sorted(named) or newest
        for run_id in candidates:
            try:
                manifest = load(self.settings, run_id, bucket=bucket, s3=self.s3)
            except ProducerError:  # missing or unreadable: not evidence either way
                continue
            if click in manifest.clicks:
                return manifest, len(candidates)
        return None, len(candidates)

    def _window(self, item: dict[str, Any] | None, deliveries: list[dict[str, Any]], manifest: Manifest | None) -> set[datetime]:
        """Hours whose partitions may hold the click's records (each with the hour before:
        a batch is filed under its first record's hour)."""
        spans: list[tuple[float, float]] = []
        now_s = self.now.timestamp()
        if manifest and manifest.started_at:
            spans.append((manifest.started_at / 1000, (manifest.finished_at or now_s * 1000) / 1000))
        if item and _number(item.get("ts")) is not None:
            spans.append((float(item["ts"]) / 1000,) * 2)
        spans += [(float(d["body"]["created_at"]),) * 2 for d in deliveries if _number(d["body"].get("created_at"))]
        if not spans:
            spans.append((now_s - self.fallback_hours * 3600, now_s))
        hours: set[datetime] = set()
        for start, end in spans:
            hours.update(lake.hours_between(lake.from_epoch(start) - lake.HOUR, lake.from_epoch(max(start, min(end, now_s)))))
        return hours

    def _ttl_hours(self, item: dict[str, Any] | None, records: list[tuple[str, dict[str, Any]]]) -> set[datetime]:
        expiries = [_number(item.get(self.topology.ttl_attribute))] if item else []
        for _, record in records:
            for image in ("NewImage", "OldImage"):
                value = (record["dynamodb"].get(image) or {}).get(self.topology.ttl_attribute) or {}
                expiries.append(_number(value.get("N")))
        known = [e for e in expiries if e is not None and e <= self.now.timestamp()]
        if not known:
            return set()
        start = lake.from_epoch(max(known)) - lake.HOUR
        return set(lake.hours_between(start, min(self.now, lake.from_epoch(max(known)) + TTL_LAG)))

    # --- the sinks -----------------------------------------------------------------------
    def _raw(self, click: str, hours: set[datetime], known: set[int], expected: int) -> tuple[list[tuple[str, dict[str, Any]]], int]:
        bucket = self.topology.data_lake_bucket
        listed = [k for hour in sorted(hours) for k in lake.keys(self.s3, bucket, lake.raw_prefix(hour))]

        def matches(keys: list[str]) -> list[tuple[str, dict[str, Any]]]:
            events = lake.read_many(lambda key: lake.read_json(self.s3, bucket, key), keys)
            return [
                (key, record)
                for key, event in events.items()
                for record in event.get("Records", [])
                if isinstance(record, dict) and lake.item_of(record, self.topology.table_key) == click
            ]

        if known:
            narrow = [k for k in listed if (r := lake.raw_range(k)) and any(r.covers(s) for s in known)]
            found = matches(narrow)
            if len({r["eventID"] for _, r in found}) >= max(expected, 1):
                return found, len(narrow)
        return matches(listed), len(listed)

    @staticmethod
    def _is_ttl(record: dict[str, Any]) -> bool:
        return is_ttl_delete(record)  # the handlers' definition, LocalStack's records included

    def _raw_stage(self, records: list[tuple[str, dict[str, Any]]], read: int, hours: int) -> Stage:
        where = f"s3://{self.topology.data_lake_bucket}/raw/"
        stage = Stage("data lake (raw)", f"not found in {where} ({read} objects read, {hours} hour partitions)")
        ordered = sorted(records, key=lambda pair: int(pair[1]["dynamodb"].get("SequenceNumber") or 0))
        for key, record in ordered:
            body = record["dynamodb"]
            ttl = " · TTL deletion" if self._is_ttl(record) else ""
            detail = f"seq {body.get('SequenceNumber')} · {_iso(_number(body.get('ApproximateCreationDateTime')))}{ttl} · {key}"
            stage.hits.append(Hit(record["eventName"], record["eventID"], detail))
        return stage

    def _deleted_stage(self, click: str, hours: set[datetime]) -> Stage:
        bucket = self.topology.data_lake_bucket
        stage = Stage("data lake (deleted/)", f"no TTL backup in s3://{bucket}/deleted/ (expected only for expired clicks)")
        for hour in sorted(hours):
            for key in lake.keys(self.s3, bucket, lake.deleted_prefix(hour, click)):
                stage.hits.append(Hit("REMOVE", key.rsplit("/", 1)[-1].removesuffix(".json"), key))
        return stage

    def _analytics_stage(self, click: str, hours: set[datetime], deliveries: list[dict[str, Any]], expected: int) -> Stage:
        bucket = self.topology.analytics_bucket
        days = sorted({h.date() for h in hours} | {(h + lake.HOUR).date() for h in hours})
        listed = [k for day in days for k in lake.keys(self.s3, bucket, lake.analytics_prefix(day))]
        known = {int(s) for d in deliveries if (s := str(d["body"].get("kinesis_sequence") or "")).isdigit()}

        def matches(keys: list[str]) -> list[tuple[str, dict[str, Any]]]:
            objects = lake.read_many(lambda key: lake.read_lines(self.s3, bucket, key), keys)
            return [(key, row) for key, rows in objects.items() for row in rows if row.get("uuid") == click]

        narrow = [k for k in listed if (r := lake.analytics_range(k)) and any(r.covers(s) for s in known)]
        rows, read = (matches(narrow), len(narrow)) if known else ([], 0)
        if len({row.get("event_id") for _, row in rows}) < max(expected, 1):
            rows, read = matches(listed), len(listed)
        stage = Stage("consumer A (analytics)", f"not found in s3://{bucket}/clicks/ ({read} objects read, {len(days)} days)")
        for key, row in sorted(rows, key=lambda pair: int(pair[1].get("sequence") or 0)):
            ttl = " · TTL deletion" if row.get("ttl_delete") else ""
            stage.hits.append(Hit(str(row.get("event_name")), str(row.get("event_id")), f"kinesis seq {row.get('kinesis_sequence')}{ttl} · {key}"))
        return stage

    def _http_stage(self, deliveries: list[dict[str, Any]], problem: str) -> Stage:
        stage = Stage("consumer B (HTTP)", problem or f"not found in GET {self.sink.base}/deliveries")
        for d in deliveries:
            received = _number(d.get("received_at"))
            detail = f"received {_iso(received / 1000 if received else None)} · attempts {d.get('attempts', 1)}"
            stage.hits.append(Hit(str(d["body"].get("event_name")), str(d.get("key")), detail))
        return stage

    # --- the producer and the table ---------------------------------------------------------
    def _producer_stage(self, click: str, manifest: Manifest | None, searched: int) -> Stage:
        stage = Stage("producer", f"no run manifest lists it ({searched} newest runs searched)")
        if manifest is not None:
            for name in manifest.expected_events()[click]:
                stage.hits.append(Hit(name, manifest.run_id, f"run {manifest.status}, started {_iso(manifest.started_at / 1000)}"))
        return stage

    def _table_stage(self, click: str, item: dict[str, Any] | None, manifest: Manifest | None) -> Stage:
        why = f"deleted by run {manifest.run_id}" if manifest and click in manifest.deleted else "deleted or expired, or never written"
        stage = Stage("table", f"gone from {self.topology.table_name} ({why})")
        if item is not None:
            ts, expires = _number(item.get("ts")), _number(item.get(self.topology.ttl_attribute))
            detail = f"ts {_iso(ts / 1000 if ts else None)} · expires {_iso(expires)} · {item.get('action')} on {item.get('page')}"
            stage.hits.append(Hit("item", str(item.get("run_id", "")), detail))
        return stage
