"""Reads the state of a running pipeline through AWS APIs and the HTTP sink only.

Works the same on the embedded emulator, LocalStack and AWS: counts per stage,
end-to-end latencies per sink, the last errors. Every source is read
incrementally (stream iterators kept between refreshes, S3 listed from the last
key seen, logs from the last timestamp), so a refresh a second stays cheap. Each
stage is measured on its own: one failing source shows as a note, not a crash.

Stages are read downstream first (sinks, then Kinesis, the table stream, the table,
the producer last): a record reaches a later stage only after an earlier one, so in
one snapshot an upstream count is never below a downstream one.

A resource deleted and created again (``sandbox bootstrap destroy`` + ``apply`` under
a running view) starts its stage from zero: the tails are reset when the table
stream's ARN or the Kinesis stream's or a bucket's creation time changes, or when
it exists again after a refresh found it gone.
"""

from __future__ import annotations

import json
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from functions._stream import ARCHIVED_AT_METADATA
from sandbox import s3tail
from sandbox.errors import SandboxError
from sandbox.logtail import LogTail, error_text
from sandbox.manifests import ManifestTally
from sandbox.shards import DynamoDBStreamApi, KinesisApi, ShardTail
from sandbox.sinkclient import SinkClient, SinkUnavailable
from sandbox.sinkwatch import run_of
from sandbox.stats import LatencyWindow, Percentiles, RateMeter, Snapshot, Stage

#: Collector calls must not hang the view: short timeouts, no retries.
CALL_TIMEOUT_S = 5.0
MAX_ERRORS = 6
LOGS_EVERY_S = 5.0

#: The producer runs of this process and their live counts (their headers lag a few seconds).
LiveRunsFn = Callable[[], Mapping[str, int]]


def _short(error: BaseException) -> str:
    if isinstance(error, SandboxError):
        return error.message
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'error')}: {info.get('Message', '')}".strip()
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:160]


#: A resource a poll found gone (see ``Collector._check_identity``).
_MISSING = object()


def _common_prefix(*names: str) -> str:
    """The longest common start of the bucket names (ListBuckets' ``Prefix``)."""
    first, last = min(names), max(names)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def _ts_ms(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _archived_at_ms(metadata: dict[str, str], last_modified_ms: float) -> float:
    """When the archive wrote the object: its metadata (exact), else the end of LastModified's second.

    LastModified is truncated to the second, so without the metadata (an object written
    by an older archive function, or by hand) the end of that second is an upper bound.
    """
    try:
        return float(metadata[ARCHIVED_AT_METADATA])
    except (KeyError, ValueError):
        return last_modified_ms + 1000.0


class Collector:
    """One call to ``poll`` = one refresh of the view (see the module docstring).

    ``live_runs``: runs producing in this process, with their live counts (they replace
    the lagging header counts). ``on_row``: called with each new consumer A row (a new
    ``event_id``), e.g. the dashboard's clicks over time. ``own_run``: a run whose records are also counted on
    their own per sink (``Snapshot.run_counts``), so a drain is not fooled by other
    producers writing to the same table.
    """

    def __init__(
        self,
        settings: Settings,
        topology: Topology,
        *,
        live_runs: LiveRunsFn | None = None,
        own_run: str | None = None,
        read_table_stream: bool | None = None,
        since_ms: int | None = None,
        clock: Callable[[], float] = time.time,
        on_row: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.settings = settings
        self._on_row = on_row
        self.topology = topology
        self._clock = clock
        self._live_runs = live_runs
        self.own_run = own_run
        clients = {s: client(s, settings, max_attempts=1, timeout=CALL_TIMEOUT_S) for s in (
            "dynamodb", "dynamodbstreams", "kinesis", "s3", "sqs", "logs")}
        self._ddb = clients["dynamodb"]
        self._streams = clients["dynamodbstreams"]
        self._kinesis = clients["kinesis"]
        self._s3 = clients["s3"]
        self._sqs = clients["sqs"]
        # A third reader of a DynamoDB stream shard gets throttled on AWS (two is the limit).
        self._read_table_stream = settings.is_local if read_table_stream is None else read_table_stream
        self._stream_tail: ShardTail | None = None
        self._identity: dict[str, Any] = {}  # resource -> creation time seen last
        self._reset_kinesis()
        self._reset_data_lake()
        self._reset_analytics()
        self._sink_latency: Percentiles | None = None  # the sink computes consumer B's itself
        self._sink = SinkClient(settings.http_sink_url)
        self._manifests = ManifestTally(clients["s3"], topology.data_lake_bucket)
        self._logs = LogTail(
            clients["logs"],
            topology.function_names(),
            since_ms=int(clock() * 1000) if since_ms is None else since_ms,
        )
        self._queue_url: str | None = None
        self._table: dict[str, Any] | None = None  # DescribeTable of the current poll
        self._logs_polled = float("-inf")
        self._rates = RateMeter()
        self.errors: deque[str] = deque(maxlen=MAX_ERRORS)

    # --- public -------------------------------------------------------------------
    def add_error(self, message: str) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(self._clock()))
        entry = f"{stamp} {message}"
        if not self.errors or self.errors[-1] != entry:
            self.errors.append(entry)

    def poll(self, *, thorough: bool = False) -> Snapshot:
        """Measure every stage once; ``thorough`` re-lists recent S3 partitions in full (drain)."""
        started = time.monotonic()
        self._table = None
        self._check_identity()
        counts: dict[Stage, int | None] = {}
        notes: dict[Stage, str] = {}
        run_counts: dict[Stage, int | None] = {}
        # Downstream first, the producer last (see the module docstring).
        steps: list[tuple[Stage, Callable[[], int | None]]] = [
            (Stage.FAILED_BATCHES, self._failed_batches),
            (Stage.HTTP, lambda: self._http(notes, run_counts, thorough)),
            (Stage.ANALYTICS, lambda: self._analytics_count(thorough)),
            (Stage.ARCHIVED, lambda: self._archived(thorough)),
            (Stage.KINESIS, self._kinesis_tail.poll),
            (Stage.STREAM_RECORDS, lambda: self._stream_records(notes)),
            (Stage.TABLE_ITEMS, self._table_items),
            (Stage.PRODUCED, lambda: self._produced_count(notes)),
        ]
        for stage, measure in steps:
            try:
                counts[stage] = measure()
            except (BotoCoreError, ClientError, SinkUnavailable, s3tail.BucketMissing, OSError, ValueError) as error:
                counts[stage] = None
                notes.setdefault(stage, _short(error))
        if self.own_run is not None:
            for stage, seen in ((Stage.ARCHIVED, self._archived_by_run), (Stage.ANALYTICS, self._analytics_by_run)):
                run_counts[stage] = None if counts[stage] is None else seen[self.own_run] + seen[None]
        self._poll_logs()
        now = self._clock()
        if Stage.TABLE_ITEMS in counts and counts[Stage.TABLE_ITEMS] is not None:
            lag = "" if self.settings.is_local else " (AWS refreshes it about every 6 h)"
            notes.setdefault(Stage.TABLE_ITEMS, f"DescribeTable ItemCount{lag}")
        if self._kinesis_tail.caught_up is False:
            notes.setdefault(Stage.KINESIS, "catching up")
        notes.setdefault(Stage.ARCHIVED, "distinct eventIDs")
        notes.setdefault(Stage.ANALYTICS, "distinct event_ids" + (
            f", {self._analytics_rows} lines" if self._analytics_rows != len(self._analytics_ids) else ""))
        return Snapshot(
            at=now,
            counts=counts,
            notes=notes,
            rates=self._rates.update(now, counts),
            latency={
                **{name: window.summary() for name, window in self.latency.items()},
                "consumer B": self._sink_latency,
            },
            errors=list(self.errors),
            poll_seconds=time.monotonic() - started,
            run_counts=run_counts if self.own_run is not None else None,
        )

    # --- stages -------------------------------------------------------------------
    def _produced_count(self, notes: dict[Stage, str]) -> int | None:
        """Every run's header (only changed ones are read), live counts for this process's runs."""
        live = dict(self._live_runs()) if self._live_runs is not None else {}
        total = self._manifests.poll(live)
        others = [h for h in self._manifests.headers() if h.run_id not in live]
        running = sum(1 for h in others if h.status == "running")
        if live:
            parts = [f"this run {sum(live.values()):,}"]
            if others:
                parts.append(f"{sum(h.expected_stream_records for h in others):,} from {len(others)} other run manifest(s)")
        else:
            parts = [f"from {len(others)} run manifest(s)"]
        if running:
            parts.append(f"{running} running (a manifest lags by a few seconds)")
        notes[Stage.PRODUCED] = "; ".join(parts)
        return total

    def _describe_table(self) -> dict[str, Any]:
        if self._table is None:
            self._table = self._ddb.describe_table(TableName=self.topology.table_name)["Table"]
        return self._table

    def _table_items(self) -> int:
        return int(self._describe_table().get("ItemCount", 0))

    def _stream_records(self, notes: dict[Stage, str]) -> int | None:
        if not self._read_table_stream:
            notes[Stage.STREAM_RECORDS] = "not read on AWS (a third stream reader would be throttled)"
            return None
        arn = self._describe_table().get("LatestStreamArn")
        if not arn:
            notes[Stage.STREAM_RECORDS] = "the table has no stream"
            return None
        if self._stream_tail is None or getattr(self._stream_tail.api, "stream_arn", None) != arn:
            self._stream_tail = ShardTail(DynamoDBStreamApi(self._streams, arn))  # new table: from zero
        count = self._stream_tail.poll()
        events = self._stream_tail.by_event
        notes[Stage.STREAM_RECORDS] = " ".join(f"{k} {events[k]}" for k in ("INSERT", "MODIFY", "REMOVE") if events[k])
        if not self._stream_tail.caught_up:
            notes[Stage.STREAM_RECORDS] += " (catching up)"
        return count

    def _archived(self, thorough: bool) -> int:
        for obj in self._archive.poll(thorough=thorough):
            body, metadata = self._archive.read_with_metadata(obj)
            written_ms = _archived_at_ms(metadata, obj.last_modified.timestamp() * 1000)
            for record in json.loads(body).get("Records", []):
                event_id = str(record.get("eventID"))
                if event_id not in self._archived_ids:
                    self._archived_ids.add(event_id)
                    self._archived_by_run[run_of(record)] += 1
                ts = _ts_ms(record.get("dynamodb", {}).get("NewImage", {}).get("ts", {}).get("N"))
                if ts is not None and record.get("eventName") in ("INSERT", "MODIFY"):
                    self.latency["data lake"].add(written_ms - ts)
        return len(self._archived_ids)

    def _analytics_count(self, thorough: bool) -> int:
        for obj in self._analytics.poll(thorough=thorough):
            for line in self._analytics.read(obj).decode("utf-8").splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                self._analytics_rows += 1
                event_id = str(row.get("event_id"))
                if event_id not in self._analytics_ids:
                    self._analytics_ids.add(event_id)
                    self._analytics_by_run[row.get("run_id") or None] += 1
                    if self._on_row is not None and isinstance(row, dict):
                        self._on_row(row)
                self._row_latency("consumer A", row, row.get("processed_at"))
        return len(self._analytics_ids)

    def _http(self, notes: dict[Stage, str], run_counts: dict[Stage, int | None], thorough: bool) -> int:
        stats = self._sink.stats()
        self._sink_latency = stats.latency
        notes[Stage.HTTP] = "distinct Idempotency-Keys" + (f", {stats.extra}" if stats.extra else "")
        if self.own_run is not None and thorough:
            # The sink counts all runs; this run's share needs the delivery list (a drain reads it).
            by_run = Counter((d.get("body") or {}).get("run_id") or None for d in self._sink.deliveries())
            run_counts[Stage.HTTP] = by_run[self.own_run] + by_run[None]
        return stats.deliveries

    def _row_latency(self, sink: str, row: Any, done_ms: Any) -> None:
        if not isinstance(row, dict) or row.get("event_name") not in ("INSERT", "MODIFY"):
            return
        start, end = _ts_ms(row.get("ts")), _ts_ms(done_ms)
        if start is not None and end is not None:
            self.latency[sink].add(end - start)

    # --- recreated resources --------------------------------------------------------------
    def _reset_kinesis(self) -> None:
        self._kinesis_tail = ShardTail(KinesisApi(self._kinesis, self.topology.kinesis_stream_name))

    def _reset_data_lake(self) -> None:
        self._archive = s3tail.S3Tail(
            self._s3, self.topology.data_lake_bucket, "raw/",
            group_of=s3tail.directory_of, recent_prefixes=s3tail.hourly_partitions("raw/"),
        )
        self._archived_ids: set[str] = set()
        self._archived_by_run: Counter[str | None] = Counter()
        self.latency_data_lake = LatencyWindow()

    def _reset_analytics(self) -> None:
        self._analytics = s3tail.S3Tail(
            self._s3, self.topology.analytics_bucket, "clicks/",
            group_of=s3tail.directory_and_shard, recent_prefixes=s3tail.daily_partitions("clicks/"),
        )
        self._analytics_ids: set[str] = set()
        self._analytics_by_run: Counter[str | None] = Counter()
        self._analytics_rows = 0
        self.latency_consumer_a = LatencyWindow()

    @property
    def latency(self) -> dict[str, LatencyWindow]:
        return {"data lake": self.latency_data_lake, "consumer A": self.latency_consumer_a}

    def _check_identity(self) -> None:
        """Reset the tails of a bucket or Kinesis stream that was deleted and created again.

        A resource is new when its creation time changed, or when it exists again after a
        poll found it gone (S3 creation times have a resolution of one second).
        """
        current: dict[str, Any] = {}
        wanted = {self.topology.data_lake_bucket, self.topology.analytics_bucket}
        try:
            common = _common_prefix(*wanted)
            listed = self._s3.list_buckets(**({"Prefix": common} if common else {})).get("Buckets", [])
            created = {b["Name"]: b.get("CreationDate") for b in listed}
            current.update({name: created.get(name, _MISSING) for name in wanted})
        except (BotoCoreError, ClientError):
            pass  # unknown (not gone): the stages report what is wrong
        try:
            summary = self._kinesis.describe_stream_summary(StreamName=self.topology.kinesis_stream_name)
            current["kinesis"] = summary["StreamDescriptionSummary"].get("StreamCreationTimestamp")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                current["kinesis"] = _MISSING
        except BotoCoreError:
            pass
        resets = {
            self.topology.data_lake_bucket: self._reset_data_lake,
            self.topology.analytics_bucket: self._reset_analytics,
            "kinesis": self._reset_kinesis,
        }
        for name, created_at in current.items():
            before = self._identity.get(name)
            if before is not None and created_at is not _MISSING and created_at != before:
                resets[name]()
            self._identity[name] = created_at

    def _failed_batches(self) -> int:
        if self._queue_url is None:
            self._queue_url = self._sqs.get_queue_url(QueueName=self.topology.failure_queue_name)["QueueUrl"]
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())

    def _poll_logs(self) -> None:
        # Log queries scan whole log groups on moto/LocalStack: errors every few seconds is enough.
        if time.monotonic() - self._logs_polled < LOGS_EVERY_S:
            return
        self._logs_polled = time.monotonic()
        try:
            lines = self._logs.poll()
        except (BotoCoreError, ClientError) as error:
            self.add_error(f"logs: {_short(error)}")
            return
        for line in lines:
            text = error_text(line.message)
            if text:
                self.add_error(f"{line.function}: {text[:200]}")
