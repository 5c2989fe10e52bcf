"""Process a stream batch in order with powertools' BatchProcessor, stopping at the
first failed record.

Why stop: for stream sources the event source mapping checkpoints just before the
lowest reported sequence number and redelivers everything after it. Handling the
records behind a failure would only produce duplicates on the retry, cost time the
failing sink may need, and could deliver a later version of an item before the
failed earlier one. So the failed record and every record after it are reported as
batch item failures (in stream order) and are not handled at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse


class SkippedAfterFailure(RuntimeError):
    """Not attempted: an earlier record of the batch failed (see module docstring)."""


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


def _kinesis_sequence(record: dict[str, Any]) -> Any:
    return record["kinesis"]["sequenceNumber"]


def process_in_order(
    event: Any,
    handle: Callable[[Any], Any],
    logger: Logger,
) -> tuple[list[Any], PartialItemFailureResponse]:
    """Run ``handle`` on each Kinesis record until one raises.

    Returns the results of the handled prefix (in order) and the partial batch
    response naming the failed record and every record after it.
    """
    records = records_of(event, _kinesis_sequence)
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)
    failed: list[bool] = []

    def record_handler(record: Any) -> Any:
        if failed:
            raise SkippedAfterFailure(f"skipped after an earlier failure: {record.kinesis.sequence_number}")
        try:
            return handle(record)
        except Exception:
            failed.append(True)
            logger.exception(
                "record failed; reporting it and the records after it for retry",
                extra={"sequence_number": record.kinesis.sequence_number},
            )
            raise

    with processor(records, record_handler):
        outcomes = processor.process()
    results = [result for status, result, _ in outcomes if status == "success"]
    return results, processor.response()
