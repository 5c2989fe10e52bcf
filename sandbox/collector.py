"""Reads the state of a running pipeline through AWS APIs and the HTTP sink only.

Works the same on the embedded emulator, LocalStack and AWS: counts per stage,
end-to-end latencies per sink, the last errors. Every source is read
incrementally (stream iterators kept between refreshes, S3 listed from the last
key seen, logs from the last timestamp), so a refresh a second stays cheap. Each
stage is measured on its own: one failing source shows as a note, not a crash.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from sandbox import s3tail
from sandbox.logtail import LogTail, error_text
from sandbox.manifests import ManifestTally
from sandbox.shards import DynamoDBStreamApi, KinesisApi, ShardTail
from sandbox.sinkclient import SinkClient, SinkUnavailable
from sandbox.stats import LatencyWindow, Percentiles, RateMeter, Snapshot, Stage

#: Collector calls must not hang the view: short timeouts, no retries.
CALL_TIMEOUT_S = 5.0
MAX_ERRORS = 6
LOGS_EVERY_S = 5.0

ProducedFn = Callable[[], int | None]


def _short(error: BaseException) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'error')}: {info.get('Message', '')}".strip()
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:160]


def _ts_ms(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class Collector:
    """One call to ``poll`` = one refresh of the view (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        topology: Topology,
        *,
        produced: ProducedFn | None = None,
        read_table_stream: bool | None = None,
        since_ms: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.topology = topology
        self._clock = clock
        self._produced = produced
        clients = {s: client(s, settings, max_attempts=1, timeout=CALL_TIMEOUT_S) for s in (
            "dynamodb", "dynamodbstreams", "kinesis", "s3", "sqs", "logs")}
        self._ddb = clients["dynamodb"]
        self._streams = clients["dynamodbstreams"]
        self._sqs = clients["sqs"]
        # A third reader of a DynamoDB stream shard gets throttled on AWS (two is the limit).
        self._read_table_stream = settings.is_local if read_table_stream is None else read_table_stream
        self._stream_tail: ShardTail | None = None
        self._kinesis_tail = ShardTail(KinesisApi(clients["kinesis"], topology.kinesis_stream_name))
        self._archive = s3tail.S3Tail(
            clients["s3"], topology.data_lake_bucket, "raw/",
            group_of=s3tail.directory_of, recent_prefixes=s3tail.hourly_partitions("raw/"),
        )
        self._analytics = s3tail.S3Tail(
            clients["s3"], topology.analytics_bucket, "clicks/",
            group_of=s3tail.directory_and_shard, recent_prefixes=s3tail.daily_partitions("clicks/"),
        )
        self._archived_ids: set[str] = set()
        self._analytics_ids: set[str] = set()
        self._analytics_rows = 0
        self.latency = {"data lake": LatencyWindow(), "consumer A": LatencyWindow()}
        self._sink_latency: Percentiles | None = None  # the sink computes consumer B's itself
        self._sink = SinkClient(settings.http_sink_url)
        self._manifests = ManifestTally(clients["s3"], topology.data_lake_bucket) if produced is None else None
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
        counts: dict[Stage, int | None] = {}
        notes: dict[Stage, str] = {}
        steps: list[tuple[Stage, Callable[[], int | None]]] = [
            (Stage.PRODUCED, lambda: self._produced_count(notes)),
            (Stage.TABLE_ITEMS, self._table_items),
            (Stage.STREAM_RECORDS, lambda: self._stream_records(notes)),
            (Stage.ARCHIVED, lambda: self._archived(thorough)),
            (Stage.KINESIS, self._kinesis_tail.poll),
            (Stage.ANALYTICS, lambda: self._analytics_count(thorough)),
            (Stage.HTTP, lambda: self._http(notes)),
            (Stage.FAILED_BATCHES, self._failed_batches),
        ]
        for stage, measure in steps:
            try:
                counts[stage] = measure()
            except (BotoCoreError, ClientError, SinkUnavailable, s3tail.BucketMissing, OSError, ValueError) as error:
                counts[stage] = None
                notes.setdefault(stage, _short(error))
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
        )

    # --- stages -------------------------------------------------------------------
    def _produced_count(self, notes: dict[Stage, str]) -> int | None:
        if self._produced is not None:
            return self._produced()
        assert self._manifests is not None
        total = self._manifests.poll()
        running = self._manifests.running
        notes[Stage.PRODUCED] = f"from {self._manifests.runs} run manifest(s)" + (
            f"; {running} running (its manifest lags by a few seconds)" if running else "")
        return total

    def _table_items(self) -> int:
        self._table = self._ddb.describe_table(TableName=self.topology.table_name)["Table"]
        return int(self._table.get("ItemCount", 0))

    def _stream_records(self, notes: dict[Stage, str]) -> int | None:
        if not self._read_table_stream:
            notes[Stage.STREAM_RECORDS] = "not read on AWS (a third stream reader would be throttled)"
            return None
        table = self._table or self._ddb.describe_table(TableName=self.topology.table_name)["Table"]
        arn = table.get("LatestStreamArn")
        if not arn:
            notes[Stage.STREAM_RECORDS] = "the table has no stream"
            return None
        if self._stream_tail is None or getattr(self._stream_tail.api, "stream_arn", None) != arn:
            self._stream_tail = ShardTail(DynamoDBStreamApi(self._streams, arn))
        count = self._stream_tail.poll()
        events = self._stream_tail.by_event
        notes[Stage.STREAM_RECORDS] = " ".join(f"{k} {events[k]}" for k in ("INSERT", "MODIFY", "REMOVE") if events[k])
        if not self._stream_tail.caught_up:
            notes[Stage.STREAM_RECORDS] += " (catching up)"
        return count

    def _archived(self, thorough: bool) -> int:
        for obj in self._archive.poll(thorough=thorough):
            written_ms = obj.last_modified.timestamp() * 1000
            for record in json.loads(self._archive.read(obj)).get("Records", []):
                self._archived_ids.add(str(record.get("eventID")))
                ts = _ts_ms(record.get("dynamodb", {}).get("NewImage", {}).get("ts", {}).get("N"))
                if ts is not None and record.get("eventName") in ("INSERT", "MODIFY"):
                    # LastModified is truncated to the second: the end of that second is an upper bound.
                    self.latency["data lake"].add(written_ms + 1000.0 - ts)
        return len(self._archived_ids)

    def _analytics_count(self, thorough: bool) -> int:
        for obj in self._analytics.poll(thorough=thorough):
            for line in self._analytics.read(obj).decode("utf-8").splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                self._analytics_rows += 1
                self._analytics_ids.add(str(row.get("event_id")))
                self._row_latency("consumer A", row, row.get("processed_at"))
        return len(self._analytics_ids)

    def _http(self, notes: dict[Stage, str]) -> int:
        stats = self._sink.stats()
        self._sink_latency = stats.latency
        notes[Stage.HTTP] = "distinct Idempotency-Keys" + (f", {stats.extra}" if stats.extra else "")
        return stats.deliveries

    def _row_latency(self, sink: str, row: Any, done_ms: Any) -> None:
        if not isinstance(row, dict) or row.get("event_name") not in ("INSERT", "MODIFY"):
            return
        start, end = _ts_ms(row.get("ts")), _ts_ms(done_ms)
        if start is not None and end is not None:
            self.latency[sink].add(end - start)

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
