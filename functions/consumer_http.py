"""Consumer B: POST each record's row to ``HTTP_SINK_URL``, in order per partition key.

Each row is keyed by its DynamoDB eventID (the ``Idempotency-Key`` header of a single POST,
the ``key`` of a batch entry), so redeliveries (ours and the mapping's) are recorded once by
the sink. Timeouts and bounded retries with backoff cover 5xx, 429 and connection errors
(``_http``). With ``HTTP_BATCH_SIZE`` above 1 (bootstrap's default, for our own sink), a
lane posts its rows that many at a time to the sink's batch endpoint (``_http_batch``);
with 1, each row is its own POST, which any webhook accepts.

Per-item order, and the choice made for it: the batch is split by partition key into
``HTTP_LANES`` lanes (``_batch``; a key always lands in the same lane), posted side by
side; each lane posts in batch order and *stops at its first record that still
fails*; that record and all after it in its lane are reported as batch item failures
(Kinesis sequence numbers) and not posted.

Why lanes: with one lane, a 30 % flaky sink cost each record ~0.3 x 0.15 s of backoff
sleep, serialized over the whole shard: consumer B capped at ~20 records/s per shard
and its p95 grew to 22-29 s at 50 writes/s (docs/chaos.md). With 8 lanes the sleeps
of different keys overlap. The mapping still retries from the lowest reported record,
so records of other lanes after it that were delivered are posted again on the retry:
the sink's Idempotency-Key makes those repeats no-ops (at-least-once, as on AWS). Junk records (not decodable as stream
records) are the exception: never posted, logged and skipped for good, since no
retry can fix them (``_batch``). Any sink answer is a failure that stops the batch,
a 400 included. Stopping each
lane (rather than only the failed key) keeps the cost of a sink that is down bounded:
at most one record per lane burns its retries before the invocation returns.

The time budget comes from the Lambda context: no new attempt starts within
``SAFETY_MARGIN_SECONDS`` of the function's timeout, so the failure report is
always returned rather than lost to a timeout.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from ._batch import process_in_chunks
from ._config import (
    DEFAULT_HTTP_BATCH_SIZE,
    DEFAULT_HTTP_MAX_ATTEMPTS,
    DEFAULT_HTTP_TIMEOUT_SECONDS,
    DEFAULT_HTTP_LANES,
    HTTP_BATCH_SIZE,
    HTTP_LANES,
    HTTP_MAX_ATTEMPTS,
    HTTP_SINK_URL,
    HTTP_TIMEOUT_SECONDS,
    MAX_HTTP_BATCH_SIZE,
    number,
    required,
)
from ._http import post_json
from ._http_batch import batch_url, post_rows
from ._rows import decode, to_row

logger = Logger()

SAFETY_MARGIN_SECONDS = 2.0
#: Without a context (local calls), assume Lambda's default-ish budget.
DEFAULT_BUDGET_SECONDS = 30.0


def deadline_for(context: Any) -> float:
    """A ``time.monotonic()`` deadline from the context's remaining time."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    budget = remaining_ms() / 1000.0 if callable(remaining_ms) else DEFAULT_BUDGET_SECONDS
    return time.monotonic() + budget - SAFETY_MARGIN_SECONDS


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Deliver the batch in order per lane, skipping junk; report each lane's first undelivered record and the rest."""
    url = required(HTTP_SINK_URL)
    timeout = number(HTTP_TIMEOUT_SECONDS, DEFAULT_HTTP_TIMEOUT_SECONDS, 0.05, 60)
    attempts = int(number(HTTP_MAX_ATTEMPTS, DEFAULT_HTTP_MAX_ATTEMPTS, 1, 10))
    lanes = int(number(HTTP_LANES, DEFAULT_HTTP_LANES, 1, 64))
    batch_size = int(number(HTTP_BATCH_SIZE, DEFAULT_HTTP_BATCH_SIZE, 1, MAX_HTTP_BATCH_SIZE))
    deadline = deadline_for(context)

    def prepare(record: KinesisStreamRecord) -> tuple[str, dict[str, Any]]:
        row = to_row(decode(record), record.kinesis.sequence_number, int(time.time() * 1000))
        return str(row["event_id"]), row

    def post_one(rows: list[tuple[str, dict[str, Any]]]) -> None:
        (key, row), = rows
        post_json(url, row, {"Idempotency-Key": key}, timeout=timeout, attempts=attempts, deadline=deadline)

    def post_many(rows: list[tuple[str, dict[str, Any]]]) -> None:
        post_rows(batch_url(url), rows, timeout=timeout, attempts=attempts, deadline=deadline)

    deliver = post_one if batch_size == 1 else post_many
    outcome = process_in_chunks(event, prepare, deliver, logger, lanes=lanes, chunk_size=batch_size)
    logger.info(
        "delivered batch",
        extra={
            "delivered": len(outcome.handled),
            "rejected_records": len(outcome.rejected),
            "failed": len(outcome.response["batchItemFailures"]),
        },
    )
    return outcome.response
