"""Consumer A: each Kinesis batch as one newline-delimited JSON object for Athena/QuickSight.

Key in ``ANALYTICS_BUCKET`` (CONTRACTS.md):
``clicks/dt=YYYY-MM-DD/<shardId>-<first kinesis seq>-<last kinesis seq>.jsonl``,
``dt`` from the first record's Kinesis arrival time (UTC). One line per record, the
row of ``_rows.to_row``.

Idempotence: the key names exactly the records the object holds, so a redelivered
batch overwrites its own object. A junk record ends the written prefix (see
``_batch``): the object holds the rows before it, and the junk record plus the rest
are reported for retry, so no row is written twice by a partial failure. Should the
mapping ever redeliver a different cut of the same records, rows repeat under a
second key; ``event_id`` is the dedup key for queries (at-least-once, as AWS).
A failed S3 write raises: the whole batch is retried.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from . import _aws
from ._batch import process_in_order
from ._config import ANALYTICS_BUCKET, required
from ._rows import decode, to_row

logger = Logger()


def object_key(first: KinesisStreamRecord, last: KinesisStreamRecord) -> str:
    """The idempotent key of the object holding ``first``..``last`` of one shard."""
    shard = first.get("eventID", "").split(":", 1)[0] or "shard-unknown"
    # Lambda always sends approximateArrivalTimestamp; hand-made events may not.
    arrival_s = float(first.kinesis.get("approximateArrivalTimestamp") or time.time())
    arrival = datetime.fromtimestamp(arrival_s, UTC)
    first_seq, last_seq = first.kinesis.sequence_number, last.kinesis.sequence_number
    return f"clicks/dt={arrival:%Y-%m-%d}/{shard}-{first_seq}-{last_seq}.jsonl"


def _row(record: KinesisStreamRecord) -> dict[str, Any]:
    # processed_at is stamped just before the write, below.
    return to_row(decode(record), record.kinesis.sequence_number, processed_at_ms=0)


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Decode the batch's prefix up to the first junk record and write it as one object."""
    rows, response = process_in_order(event, _row, logger)
    if not rows:
        return response
    written = [KinesisStreamRecord(raw) for raw in event["Records"][: len(rows)]]
    key = object_key(written[0], written[-1])
    processed_at = int(time.time() * 1000)
    lines = [json.dumps({**row, "processed_at": processed_at}, ensure_ascii=False) for row in rows]
    body = ("\n".join(lines) + "\n").encode("utf-8")
    _aws.client("s3").put_object(
        Bucket=required(ANALYTICS_BUCKET), Key=key, Body=body, ContentType="application/x-ndjson"
    )
    logger.info("wrote analytics rows", extra={"key": key, "rows": len(rows)})
    return response
