"""Process a stream batch in order with powertools' BatchProcessor: skip junk, stop at
the first failed record of each lane.

Lanes: the records are split by partition key into ``lanes`` ordered sub-sequences
(a key always falls into the same lane), run side by side. Each lane is handled in
stream order and stops at its first failure, so per-key order holds exactly as with
one lane, while a slow or retried record holds back only its own lane instead of the
whole shard (consumer B at a 30 % flaky sink: one lane spent most of its time in
backoff sleeps; see docs/chaos.md). ``lanes=1`` is the strict shard order.

Chunks (``process_in_chunks``): a lane may hand its records to the sink several at a time
(consumer B posts up to ``HTTP_BATCH_SIZE`` rows per request). The sink answers how many
of a chunk's leading items it recorded; the first one it did not is the lane's failure, and
everything after it is skipped, exactly as if the records had been sent one by one. A batch
with chunks above one then uses only as many lanes as it fills chunks (at most ``lanes``):
five records and chunks of 50 are one request, not five requests of one; 100 records, two.
Lanes need to be stable only within one invocation, since a shard's invocations never
overlap. ``process_in_order`` is the chunk size of one, whose handler does the work.

Why stop (per lane): for stream sources the event source mapping checkpoints just before the
lowest reported sequence number and redelivers everything after it. Handling the
records behind a failure would only produce duplicates on the retry, cost time the
failing sink may need, and could deliver a later version of an item before the
failed earlier one. So the failed record and every record after it are reported as
batch item failures (in stream order) and are not handled at all.

Why junk is skipped instead: a record that is not a stream record this pipeline can
read (``_stream.JunkRecord``) fails the same way on every retry. Reporting it would
only hold the healthy records behind it until the retries run out and then send
them all to the failure queue. So it is rejected for good: logged (error level, with
its sequence number) and left out of the report. Nothing is lost: the archive keeps
every raw record the table stream carried.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from ._stream import JunkRecord


class SkippedAfterFailure(RuntimeError):
    """Not attempted: an earlier record of the batch failed (see module docstring)."""


class PartialDelivery(RuntimeError):
    """Only the first ``delivered`` items of a chunk were accepted; ``cause`` says why the next was not."""

    def __init__(self, delivered: int, cause: BaseException) -> None:
        super().__init__(f"{delivered} delivered, then: {cause}")
        self.delivered = delivered
        self.cause = cause


@dataclass(frozen=True)
class Rejected:
    """A junk record: skipped for good, never reported for retry."""

    record: KinesisStreamRecord
    reason: str


@dataclass
class Outcome:
    """What became of a batch: handled records with their results (in order), the
    rejected junk (in order) and the partial batch response for the mapping."""

    handled: list[tuple[KinesisStreamRecord, Any]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    response: PartialItemFailureResponse = field(default_factory=lambda: {"batchItemFailures": []})

    @property
    def results(self) -> list[Any]:
        return [result for _, result in self.handled]


def records_of(event: Any, identifier: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
    """The event's records, each checked to carry the identifier a failure report needs.

    A record we could not name in ``batchItemFailures`` can only be retried by
    failing the whole invocation, so such an event raises here, before any side effect.
    """
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise ValueError("not a stream event: no 'Records' list")
    for position, record in enumerate(records):
        try:
            name = identifier(record)
        except (KeyError, TypeError, AttributeError):
            name = None
        if not isinstance(name, str) or not name:
            raise ValueError(f"record {position} has no sequence number; failing the whole batch")
    return records


def log_rejected(logger: Logger, sequence_number: str, reason: str, **identifiers: Any) -> None:
    """The one structured log line of a rejected junk record (searchable by ``rejected``)."""
    logger.error(
        "junk record rejected: skipped, not retried (the data lake keeps the raw record)",
        extra={"rejected": True, "sequence_number": sequence_number, "reason": reason, **identifiers},
        stacklevel=2,
    )


def _kinesis_sequence(record: dict[str, Any]) -> Any:
    return record["kinesis"]["sequenceNumber"]


#: One pool per lane count, kept for the life of the (warm) worker: its threads, and the HTTP
#: connections each keeps (functions/_http.py keeps them per thread), serve every invocation.
#: A pool per invocation opened up to ``lanes`` new connections per batch: at 100 writes/s that
#: doubled consumer B's p50 and sent its p95 from 0.2 s to 1.4 s (`make bench`, issue 11).
_pools: dict[int, ThreadPoolExecutor] = {}


def _pool(lanes: int) -> ThreadPoolExecutor:
    pool = _pools.get(lanes)
    if pool is None:
        pool = _pools[lanes] = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="lane")
    return pool


def lane_of(partition_key: str, lanes: int) -> int:
    """The lane of a partition key: stable across invocations (crc32, not ``hash``)."""
    return zlib.crc32(partition_key.encode("utf-8")) % lanes if lanes > 1 else 0


@dataclass
class _Result:
    """What became of one record before the processor reports it."""

    value: Any = None
    junk: str | None = None
    error: BaseException | None = None


def _failed(logger: Logger, sequence: str, error: BaseException) -> _Result:
    logger.error(
        "record failed; reporting it and the records after it in its lane for retry",
        exc_info=error,
        extra={"sequence_number": sequence},
        stacklevel=3,
    )
    return _Result(error=error)


def _skipped(sequence: str) -> _Result:
    return _Result(error=SkippedAfterFailure(f"skipped after an earlier failure: {sequence}"))


@dataclass
class _ChunkedLane:
    """One lane that prepares each record and delivers the prepared items ``size`` at a time."""

    prepare: Callable[[KinesisStreamRecord], Any]
    deliver: Callable[[list[Any]], None]
    size: int
    logger: Logger
    results: dict[str, _Result] = field(default_factory=dict)
    #: Records since the last delivery, in order: (record, its item, or None for junk with its reason).
    pending: list[tuple[KinesisStreamRecord, Any, str | None]] = field(default_factory=list)
    items: int = 0
    failed: bool = False

    def run(self, records: list[KinesisStreamRecord]) -> dict[str, _Result]:
        for record in records:
            sequence = record.kinesis.sequence_number
            if self.failed:
                self.results[sequence] = _skipped(sequence)
                continue
            try:
                self.pending.append((record, self.prepare(record), None))
                self.items += 1
            except JunkRecord as junk:
                self.pending.append((record, None, str(junk)))
            except Exception as error:  # noqa: BLE001 - this record fails; what is pending goes first
                self._flush()
                if not self.failed:
                    self.failed = True
                    self.results[sequence] = _failed(self.logger, sequence, error)
                else:
                    self.results[sequence] = _skipped(sequence)
                continue
            if self.items >= self.size:
                self._flush()
        self._flush()
        return self.results

    def _flush(self) -> None:
        """Deliver the pending items; settle every pending record by the count the sink took."""
        items = [item for _, item, junk in self.pending if junk is None]
        delivered, error = len(items), None
        if items:
            try:
                self.deliver(items)
            except PartialDelivery as partial:
                delivered, error = max(0, min(partial.delivered, len(items))), partial.cause
            except Exception as exc:  # noqa: BLE001 - nothing of the chunk counts as delivered
                delivered, error = 0, exc
        position = 0
        for record, item, junk in self.pending:
            sequence = record.kinesis.sequence_number
            if self.failed:
                self.results[sequence] = _skipped(sequence)
            elif junk is not None:
                self.results[sequence] = _Result(junk=junk)
            elif position < delivered:
                self.results[sequence] = _Result(value=item)
                position += 1
            else:
                self.failed = True
                self.results[sequence] = _failed(self.logger, sequence, error or RuntimeError("not delivered"))
        self.pending.clear()
        self.items = 0


def _lanes_of(parsed: list[KinesisStreamRecord], lanes: int) -> list[list[KinesisStreamRecord]]:
    """The non-empty lanes, each in stream order."""
    split: list[list[KinesisStreamRecord]] = [[] for _ in range(max(1, lanes))]
    for record in parsed:
        split[lane_of(record.kinesis.partition_key, len(split))].append(record)
    return [lane for lane in split if lane]


def _run_lanes(
    parsed: list[KinesisStreamRecord],
    lanes: int,
    run: Callable[[list[KinesisStreamRecord]], dict[str, _Result]],
    pool_size: int | None = None,
) -> dict[str, _Result]:
    """Every lane's results: side by side on the kept pool (of ``pool_size`` threads, the
    configured lanes) when more than one lane has records."""
    busy = _lanes_of(parsed, lanes)
    results: dict[str, _Result] = {}
    if len(busy) <= 1:
        for lane in busy:
            results.update(run(lane))
    else:
        for done in _pool(max(1, pool_size or lanes)).map(run, busy):
            results.update(done)
    return results


def _report(records: list[dict[str, Any]], results: dict[str, _Result], logger: Logger) -> Outcome:
    """The outcome, with powertools' BatchProcessor building the partial batch response in stream order."""
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)
    outcome = Outcome()

    def record_handler(record: KinesisStreamRecord) -> Any:
        """Replays each record's result in stream order, so the response keeps that order."""
        result = results[record.kinesis.sequence_number]
        if result.error is not None:
            raise result.error
        if result.junk is not None:
            outcome.rejected.append(Rejected(record, result.junk))
            log_rejected(logger, record.kinesis.sequence_number, result.junk, event_id=record.event_id)
            return None
        outcome.handled.append((record, result.value))
        return result.value

    with processor(records, record_handler):
        processor.process()
    outcome.response = processor.response()
    return outcome


def process_in_order(
    event: Any,
    handle: Callable[[KinesisStreamRecord], Any],
    logger: Logger,
    lanes: int = 1,
) -> Outcome:
    """Run ``handle`` on each Kinesis record in order (per lane, see module docstring),
    until one raises anything but ``JunkRecord``; junk is rejected and skipped.

    The outcome's response names each lane's failed record and every record after it there.
    """
    # A chunk of one is one record: ``handle`` does the work as it prepares it, nothing is left to deliver.
    return process_in_chunks(event, handle, _nothing_to_deliver, logger, lanes=lanes, chunk_size=1)


def _nothing_to_deliver(items: list[Any]) -> None:
    """``process_in_order``'s delivery: its handler has already done the work."""


def process_in_chunks(
    event: Any,
    prepare: Callable[[KinesisStreamRecord], Any],
    deliver: Callable[[list[Any]], None],
    logger: Logger,
    lanes: int = 1,
    chunk_size: int = 1,
) -> Outcome:
    """As ``process_in_order``, with the side effect done ``chunk_size`` records at a time, on
    at most one lane per ``chunk_size`` records (module docstring).

    ``prepare`` turns a record into an item (raising ``JunkRecord`` for junk, which is
    skipped); ``deliver`` sends a lane's items in order and either returns (all taken) or
    raises: ``PartialDelivery`` when only the first ``delivered`` were taken, anything else
    when none were. A handled record's result is its item.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    records = records_of(event, _kinesis_sequence)
    parsed = [KinesisStreamRecord(record) for record in records]
    # Chunks of one are the old row-by-row posting, lanes unchanged; larger chunks use as many
    # lanes as the batch fills.
    used = lanes if chunk_size == 1 else max(1, min(lanes, -(-len(parsed) // chunk_size)))
    results = _run_lanes(
        parsed, used, lambda lane: _ChunkedLane(prepare, deliver, chunk_size, logger).run(lane), pool_size=lanes
    )
    return _report(records, results, logger)
