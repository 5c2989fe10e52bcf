"""Process a stream batch in order with powertools' BatchProcessor: skip junk, stop at
the first failed record.

Why stop: for stream sources the event source mapping checkpoints just before the
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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from ._stream import JunkRecord


class SkippedAfterFailure(RuntimeError):
    """Not attempted: an earlier record of the batch failed (see module docstring)."""


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


def process_in_order(
    event: Any,
    handle: Callable[[KinesisStreamRecord], Any],
    logger: Logger,
) -> Outcome:
    """Run ``handle`` on each Kinesis record in order, until one raises anything but
    ``JunkRecord``; junk is rejected and skipped (see module docstring).

    The outcome's response names the failed record and every record after it.
    """
    records = records_of(event, _kinesis_sequence)
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)
    outcome = Outcome()
    failed: list[bool] = []

    def record_handler(record: KinesisStreamRecord) -> Any:
        if failed:
            raise SkippedAfterFailure(f"skipped after an earlier failure: {record.kinesis.sequence_number}")
        try:
            result = handle(record)
        except JunkRecord as junk:
            outcome.rejected.append(Rejected(record, str(junk)))
            log_rejected(logger, record.kinesis.sequence_number, str(junk), event_id=record.event_id)
            return None
        except Exception:
            failed.append(True)
            logger.exception(
                "record failed; reporting it and the records after it for retry",
                extra={"sequence_number": record.kinesis.sequence_number},
            )
            raise
        outcome.handled.append((record, result))
        return result

    with processor(records, record_handler):
        processor.process()
    outcome.response = processor.response()
    return outcome
