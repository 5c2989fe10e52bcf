"""Consumer A: each Kinesis batch as one newline-delimited JSON object for Athena/QuickSight.

Keys in ``ANALYTICS_BUCKET`` (docs/data-contracts.md):

* ``clicks/dt=YYYY-MM-DD/<shardId>-<first kinesis seq>-<last kinesis seq>.jsonl``,
  ``dt`` from the first row's Kinesis arrival time (UTC). One line per record, the
  row of ``_rows.to_row``; first and last are the first and last rows written.
* ``rejected/dt=YYYY-MM-DD/<shardId>-<kinesis seq>.json`` for each junk record
  (``dt`` from its own arrival time): ``{"reason", "record"}`` with the Kinesis
  record exactly as received, so it can be inspected. Junk is never retried (see
  ``_batch``); the data lake still holds the raw stream record it came from.

Idempotence: the keys name exactly the records the objects hold, so a redelivered
batch overwrites its own objects (the mapping does not bisect, so a retry is the same
cut: bootstrap/topology.py). A record that fails other than as junk (a bug)
ends the written prefix: it and the rest are reported for retry, so no row is
written twice by a partial failure. Should the mapping ever redeliver a different
cut of the same records, rows repeat under a second key; ``event_id`` is the dedup
key for queries (at-least-once, as AWS). A failed S3 write raises: the whole batch
is retried.
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
from ._batch import Rejected, process_in_order
from ._config import ANALYTICS_BUCKET, required
from ._rows import decode, to_row
from ._stream import KINESIS_SEQUENCE_DIGITS, sortable_sequence

logger = Logger()
_aws.warm("s3")  # in the init phase: the first invocation finds it made


def _shard(record: KinesisStreamRecord) -> str:
    return record.get("eventID", "").split(":", 1)[0] or "shard-unknown"


def _arrival(record: KinesisStreamRecord) -> datetime:
    # Lambda always sends approximateArrivalTimestamp; hand-made events may not.
    return datetime.fromtimestamp(float(record.kinesis.get("approximateArrivalTimestamp") or time.time()), UTC)


def object_key(first: KinesisStreamRecord, last: KinesisStreamRecord) -> str:
    """The idempotent key of the object holding ``first``..``last`` of one shard."""
    first_seq, last_seq = (sortable_sequence(r.kinesis.sequence_number, KINESIS_SEQUENCE_DIGITS) for r in (first, last))
    return f"clicks/dt={_arrival(first):%Y-%m-%d}/{_shard(first)}-{first_seq}-{last_seq}.jsonl"


def rejected_key(record: KinesisStreamRecord) -> str:
    """The idempotent key of one rejected (junk) record."""
    return f"rejected/dt={_arrival(record):%Y-%m-%d}/{_shard(record)}-{sortable_sequence(record.kinesis.sequence_number, KINESIS_SEQUENCE_DIGITS)}.json"


def _row(record: KinesisStreamRecord) -> dict[str, Any]:
    # processed_at is stamped just before the write, below.
    return to_row(decode(record), record.kinesis.sequence_number, processed_at_ms=0)


def _write_rejected(s3: Any, bucket: str, rejected: list[Rejected]) -> None:
    for junk in rejected:
        body = json.dumps({"reason": junk.reason, "record": junk.record.raw_event}, ensure_ascii=False)
        s3.put_object(
            Bucket=bucket, Key=rejected_key(junk.record), Body=body.encode("utf-8"), ContentType="application/json"
        )


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Write the batch's rows as one object and each junk record under rejected/."""
    outcome = process_in_order(event, _row, logger)
    if not outcome.handled and not outcome.rejected:
        return outcome.response
    bucket = required(ANALYTICS_BUCKET)
    s3 = _aws.client("s3")
    if outcome.handled:
        key = object_key(outcome.handled[0][0], outcome.handled[-1][0])
        processed_at = int(time.time() * 1000)
        lines = [json.dumps({**row, "processed_at": processed_at}, ensure_ascii=False) for row in outcome.results]
        body = ("\n".join(lines) + "\n").encode("utf-8")
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson")
        logger.info("wrote analytics rows", extra={"key": key, "rows": len(lines)})
    _write_rejected(s3, bucket, outcome.rejected)
    return outcome.response
