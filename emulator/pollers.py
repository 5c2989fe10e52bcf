"""Pollers: one thread per (mapping, shard) that reads, filters, batches, invokes and checkpoints.

Error semantics live here and only here: a batch is checkpointed only when it
fully succeeds; a failed batch is retried with backoff; ReportBatchItemFailures
retries from the lowest failed record; BisectBatchOnFunctionError splits a failing
batch in halves (not counted as retries); MaximumRetryAttempts and
MaximumRecordAgeInSeconds discard a batch to the OnFailure destination.

A discarded batch is checkpointed past only once its failure record is stored: while
the destination cannot be reached (it lives behind the same endpoint as everything
else), the send is retried and the shard waits, as for a failing batch. Skipping it
would lose the records without a trace (`make chaos`, endpoint-kill: 25 records
missing from the data lake after a 20 s endpoint outage).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from emulator import filters
from emulator.batch_results import WHOLE_BATCH_FAILED, parse_batch_item_failures
from emulator.change_signal import ChangeSignal
from emulator.destinations import DestinationSender, failure_record
from emulator.lambda_service.exceptions import ResourceNotFound
from emulator.lambda_service.mappings import Mapping
from emulator.moto_adapter import MotoAdapter
from emulator.sources import ShardSource, SourceRecord
from emulator.workers import Outcome

log = logging.getLogger("emulator.pollers")

IDLE_POLL_SECONDS = 0.25  # DynamoDB streams are polled 4x/s on AWS; Kinesis 1x/s
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 - 64 * 1024  # 6 MB, less the envelope
RETRY_BACKOFF = (0.1, 0.2, 0.5, 1.0, 2.0)  # seconds between retries of a failing batch
DESTINATION_RETRY_SECONDS = 1.0  # between attempts to store a failure record


Invoker = Callable[[str, dict], Outcome]  # (function name, event) -> outcome; raises ResourceNotFound


@dataclass
class PollerDeps:
    adapter: MotoAdapter
    signal: ChangeSignal
    invoke: Invoker
    destinations: DestinationSender
    role_of: Callable[[str], str]  # function name -> role ARN
    #: (function name, workers) -> start that many warm workers in the background (one per shard).
    prewarm: Callable[[str, int], None] = lambda name, count: None
    stream_reader: str = "memory"  # "http": read DynamoDB streams through the public API (benchmarks)
    streams_client: Callable[[], object] | None = None
    #: Least seconds between the starts of two reads of a shard after a batch (0: read again at once).
    min_poll_interval: float = 0.0


class ShardPoller:
    """Delivers one shard of one mapping, in order, at least once."""

    def __init__(self, mapping: Mapping, source: ShardSource, deps: PollerDeps, stop: threading.Event) -> None:
        self.mapping = mapping
        self.source = source
        self.deps = deps
        self.stop = stop
        self._drained_parents = False
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"poller-{mapping.uuid[:8]}-{source.shard_id[-8:]}")

    def start(self) -> None:
        self.thread.start()

    # --- main loop ---------------------------------------------------------------
    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self._loop()
            except Exception:  # noqa: BLE001 - a poller must never die: report, back off, resume
                log.exception("poller %s failed; resuming from its checkpoint", self.thread.name)
                self._result("PROBLEM: internal emulator error (see the emulator log)")
                self.stop.wait(1.0)

    def resolve_position(self) -> None:
        """Fix where reading starts (LATEST = the shard's end now), if not fixed yet."""
        self._position()

    def _position(self) -> int | None:
        shard = self.source.shard_id
        with self.mapping.lock:
            if shard in self.mapping.checkpoints:
                return self.mapping.checkpoints[shard]
        position = self.source.start_position(self.mapping.starting_position, self.mapping.starting_position_timestamp)
        if position is not None:
            with self.mapping.lock:
                self.mapping.checkpoints.setdefault(shard, position)
        return position

    def _checkpoint(self, next_sequence: int) -> None:
        with self.mapping.lock:
            self.mapping.checkpoints[self.source.shard_id] = next_sequence

    def _loop(self) -> None:
        seen = self.deps.signal.generation(self.source.shard_id)
        while not self.stop.is_set():
            if not self.mapping.enabled:
                seen = self.deps.signal.wait(self.source.shard_id, seen, IDLE_POLL_SECONDS)
                continue
            if not self._parents_drained():
                seen = self.deps.signal.wait(self.source.shard_id, seen, IDLE_POLL_SECONDS)
                continue
            position = self._position()
            read_at = time.monotonic()
            batch = self._collect(position) if position is not None else None
            if not batch:
                if batch is None:
                    self._result("PROBLEM: Stream not found (deleted or its stream was disabled)")
                seen = self.deps.signal.wait(self.source.shard_id, seen, IDLE_POLL_SECONDS)
                continue
            self._process(batch)
            self._pace(read_at, len(batch))

    def _pace(self, read_at: float, found: int) -> None:
        """After a batch, read the shard again no sooner than ``min_poll_interval`` after the last read started.

        Without it a poller reads again as soon as a record lands: under sustained writes
        that makes batches of one or two records, and every invocation costs its requests
        (an S3 put, a Kinesis put) and its pipe round trip for them, CPU taken from the
        writes. Measured (make bench's mixed workload, 2 cores, 10,000 clicks): 9,935
        invocations and the writes 43.4 s; with 25 ms, 6,372 and 34.3 s. The cost is
        latency under load: at 100 writes/s consumer B's p50 went from 27 to 36 ms, p99
        from 63 to 118 ms. 40 ms (the default now) cut the mixed workload's CPU per record
        by another 40 % (docs/bench.md) for consumer B's p50 at 100/s 25 -> 29 ms. An idle
        shard is still read the moment a record lands (the pause follows a batch only), a
        full batch (a backlog) is followed at once, and a mapping's own batching window
        replaces the pause. AWS polls a shard 4 x/s.
        """
        interval = self.deps.min_poll_interval
        if interval <= 0 or found >= int(self.mapping.param("BatchSize")):
            return
        if float(self.mapping.param("MaximumBatchingWindowInSeconds")) > 0:
            return  # the mapping's own batching window paces it
        remaining = read_at + interval - time.monotonic()
        if remaining > 0:
            self.stop.wait(remaining)

    def _parents_drained(self) -> bool:
        """After a Kinesis reshard, a child shard waits until this mapping read its parents to
        the end, so records of one partition key stay in order across the reshard."""
        if self._drained_parents:
            return True
        for parent in self.source.parents():
            bounds = self.deps.adapter.kinesis_bounds(self.mapping.event_source_arn, parent)
            if bounds is None:
                continue  # the parent expired: nothing left to read before this shard
            with self.mapping.lock:
                done = self.mapping.checkpoints.get(parent)
            if done is None or done < bounds[1]:
                return False
        self._drained_parents = True
        return True

    def _collect(self, position: int) -> list[SourceRecord] | None:
        """Read up to BatchSize records, waiting up to the batching window for more."""
        size = int(self.mapping.param("BatchSize"))
        window = float(self.mapping.param("MaximumBatchingWindowInSeconds"))
        records = self.source.read(position, size)
        if not records or window <= 0 or len(records) >= size:
            return self._within_payload(records)
        deadline = time.monotonic() + window
        seen = self.deps.signal.generation(self.source.shard_id)
        while len(records) < size and not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            seen = self.deps.signal.wait(self.source.shard_id, seen, min(remaining, IDLE_POLL_SECONDS))
            more = self.source.read(records[-1].sequence + 1, size - len(records))
            records.extend(more or [])
        return self._within_payload(records)

    @staticmethod
    def _within_payload(records: list[SourceRecord] | None) -> list[SourceRecord] | None:
        if not records:
            return records
        total, kept = 0, []
        for record in records:
            total += record.size + 1
            if kept and total > MAX_PAYLOAD_BYTES:
                break
            kept.append(record)
        return kept

    # --- delivery ----------------------------------------------------------------
    def _process(self, batch: list[SourceRecord]) -> None:
        patterns = filters.compile_patterns(self.mapping.param("FilterCriteria"))
        delivered = [r for r in batch if filters.keep(patterns, r.event)]
        if delivered and not self._deliver(delivered):
            return  # stopped or disabled first: the rest of the batch is read again from the checkpoint
        self._checkpoint(batch[-1].sequence + 1)

    def _interrupted(self) -> bool:
        """Stopped (deleted) or disabled: AWS stops invoking, the checkpoint stays where it is."""
        return self.stop.is_set() or not self.mapping.enabled

    def _deliver(self, records: list[SourceRecord]) -> bool:
        """Deliver ``records`` until they succeed or are discarded (True), or until interrupted (False)."""
        attempts = 0
        pending = self._drop_expired(records)
        if pending is None:
            return False  # interrupted before the expired records' failure record was stored
        while pending and not self._interrupted():
            outcome = self._invoke(pending)
            if outcome is None:  # the function does not exist (yet/anymore): wait, do not count
                self.stop.wait(1.0)
                continue
            attempts += 1
            retry_from = self._retry_index(outcome, pending)
            if retry_from is None:
                self._result("OK")
                return True
            done, pending = pending[:retry_from], pending[retry_from:]
            if done:
                self._checkpoint(done[-1].sequence + 1)
            self._result(f"PROBLEM: Function call failed ({outcome.error_type() or 'partial batch failure'})")
            if self._expired(pending):
                return self._discard(pending, "RecordAgeExceeded", attempts, outcome.function_error)
            max_retries = int(self.mapping.param("MaximumRetryAttempts"))
            if max_retries >= 0 and attempts > max_retries:
                return self._discard(pending, "RetryAttemptsExhausted", attempts, outcome.function_error)
            if self.mapping.param("BisectBatchOnFunctionError") and not outcome.ok and len(pending) > 1:
                half = len(pending) // 2
                if not self._deliver(pending[:half]):
                    return False
                self._checkpoint(pending[half - 1].sequence + 1)
                return self._deliver(pending[half:])
            self.stop.wait(RETRY_BACKOFF[min(attempts - 1, len(RETRY_BACKOFF) - 1)])
        return not pending

    def _drop_expired(self, records: list[SourceRecord]) -> list[SourceRecord] | None:
        """Discard records older than MaximumRecordAgeInSeconds before they reach the function
        (None: interrupted before their failure record was stored).

        Records of a shard arrive in order, so the expired ones are a prefix of the batch.
        """
        max_age = int(self.mapping.param("MaximumRecordAgeInSeconds"))
        if max_age < 0:
            return records
        cutoff = time.time() - max_age
        count = 0
        while count < len(records) and records[count].arrival < cutoff:
            count += 1
        if count and not self._discard(records[:count], "RecordAgeExceeded", 0, None):
            return None
        return records[count:]

    def _invoke(self, records: list[SourceRecord]) -> Outcome | None:
        try:
            return self.deps.invoke(self.mapping.function_name, {"Records": [r.event for r in records]})
        except ResourceNotFound:
            self._result("PROBLEM: Function not found")
            return None

    def _retry_index(self, outcome: Outcome, records: list[SourceRecord]) -> int | None:
        if not outcome.ok:
            return WHOLE_BATCH_FAILED.retry_from
        if "ReportBatchItemFailures" not in self.mapping.param("FunctionResponseTypes"):
            return None
        ids = [self._identifier(r) for r in records]
        return parse_batch_item_failures(outcome.payload, ids).retry_from

    @staticmethod
    def _identifier(record: SourceRecord) -> str:
        if "dynamodb" in record.event:
            return str(record.event["dynamodb"]["SequenceNumber"])
        return str(record.event["kinesis"]["sequenceNumber"])

    def _expired(self, records: list[SourceRecord]) -> bool:
        max_age = int(self.mapping.param("MaximumRecordAgeInSeconds"))
        return max_age >= 0 and time.time() - records[0].arrival > max_age

    def _discard(self, records: list[SourceRecord], condition: str, attempts: int, function_error: str | None) -> bool:
        """Send the batch's failure record, then checkpoint past it. False: interrupted
        before the record was stored (the checkpoint stays; the batch is read again)."""
        target = ((self.mapping.param("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if target:
            document = failure_record(
                function_arn=self.mapping.function_arn,
                condition=condition,
                invoke_count=attempts,
                function_error=function_error,
                batch_info_key=self.source.batch_info_key(),
                shard_id=self.source.shard_id,
                stream_arn=self.mapping.event_source_arn,
                sequences=[r.sequence for r in records],
                arrivals=[r.arrival for r in records],
            )
            while True:
                try:
                    self.deps.destinations.send(target, document)
                    break
                except Exception as exc:  # noqa: BLE001 - keep the batch until its record is stored
                    log.warning("OnFailure destination %s failed: %s; retrying before skipping the batch", target, exc)
                    self._result(f"PROBLEM: OnFailure destination {target} unreachable ({exc}); the batch waits")
                    if self.stop.wait(DESTINATION_RETRY_SECONDS) or not self.mapping.enabled:
                        return False
        self._checkpoint(records[-1].sequence + 1)
        self._result(f"PROBLEM: {condition}; batch of {len(records)} discarded" + (f" to {target}" if target else ""))
        return True

    def _result(self, text: str) -> None:
        with self.mapping.lock:
            self.mapping.last_processing_result = text
