"""Archive: every DynamoDB stream event, raw and exactly as received, into the data lake.

S3 keys in ``DATA_LAKE_BUCKET`` (docs/data-contracts.md):

* ``raw/year=YYYY/month=MM/day=DD/hour=HH/<first seq>-<last seq>-<digest>.json``
  (sequence numbers zero-padded to 40 digits, so keys sort in stream order) holds the whole event (``{"Records": [...]}``). The hour comes from the first
  record's ApproximateCreationDateTime; ``digest`` (12 hex of SHA-256 over the
  records' eventIDs and sequence numbers) tells apart batches that reuse sequence
  numbers after a table is recreated (moto and LocalStack restart them). The same
  batch delivered twice lands on the same key, so a retry overwrites, never duplicates.
* ``deleted/year=.../hour=HH/<uuid>/<eventID>.json`` additionally holds each TTL
  deletion's raw record, whose ``OldImage`` (DynamoDB JSON, ready for put_item) is
  the backup of the expired document. See ``_stream.is_ttl_delete`` for how TTL
  deletions are recognised, including LocalStack's records without userIdentity.

Each raw object carries the time the function wrote it as S3 user metadata
(``x-amz-meta-archived-at-ms``, milliseconds since the epoch), so the data lake's
latency is measured exactly (object metadata, not LastModified's whole seconds) while
the body stays the event exactly as received.

The archive is the audit log, so it validates nothing: odd records are stored as
they came. Any failure raises: the mapping does not use ReportBatchItemFailures for
this function, so the whole batch is retried and the idempotent keys absorb repeats.

Why the mapping does not bisect this function (bootstrap/topology.py): a retry of the
same cut writes the same raw key, so a timeout or crash even *after* the final put
(the function's work done, its answer lost) is absorbed by the overwrite. Bisected
halves would get raw keys of their own and archive such a batch twice (`make chaos`,
worker-kill, found 5 duplicated records in 6,500 that way).

Write order, in case a mapping bisects anyway (a hand-made deployment): the
``deleted/`` backups (one key per eventID, the same in any cut) go first and the raw
object *last*: a failure before the final put leaves no raw object for that batch, and
each eventID ends up in the one raw object of the cut that finally succeeds. Readers of
``raw/`` still deduplicate by eventID (a different cut after a restart is possible).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from . import _aws
from ._config import DATA_LAKE_BUCKET, required
from ._stream import (
    ARCHIVED_AT_METADATA,
    DYNAMODB_SEQUENCE_DIGITS,
    JunkRecord,
    created_at,
    hour_partition,
    is_ttl_delete,
    item_key,
    sortable_sequence,
)

logger = Logger()
_aws.warm("s3")  # in the init phase: the first invocation finds it made


def _sequence(record: DynamoDBRecord) -> str:
    body = record.get("dynamodb")
    value = body.get("SequenceNumber") if isinstance(body, dict) else None
    return str(value) if value is not None else "none"


def raw_key(records: list[DynamoDBRecord]) -> str:
    """The idempotent data-lake key of one batch (see module docstring)."""
    identity = "\n".join(f"{record.get('eventID')}:{_sequence(record)}" for record in records)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    partition = hour_partition(created_at(records[0]))
    first, last = (sortable_sequence(_sequence(r), DYNAMODB_SEQUENCE_DIGITS) for r in (records[0], records[-1]))
    return f"raw/{partition}/{first}-{last}-{digest}.json"


def deleted_key(record: DynamoDBRecord) -> str:
    """Where one TTL deletion's backup goes: by item, then by stream event."""
    try:
        item = quote(item_key(record), safe="")
    except JunkRecord:
        item = "unknown-item"
    name = record.get("eventID") or _sequence(record)
    return f"deleted/{hour_partition(created_at(record))}/{item}/{name}.json"


def _json(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Write the TTL backups, then the raw event (see module docstring); raise on any failure."""
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        raise ValueError("not a DynamoDB stream event: no 'Records' list")
    # Non-object records are archived as received but take part in nothing else.
    records = [DynamoDBRecord(raw if isinstance(raw, dict) else {}) for raw in event["Records"]]
    if not records:
        logger.info("empty batch: nothing to archive")
        return {"batchItemFailures": []}
    bucket = required(DATA_LAKE_BUCKET)
    s3 = _aws.client("s3")

    expired = [record for record in records if is_ttl_delete(record)]
    for record in expired:
        backup = _json(record.raw_event)
        s3.put_object(Bucket=bucket, Key=deleted_key(record), Body=backup, ContentType="application/json")
    key = raw_key(records)  # last: no raw object unless everything before it landed
    s3.put_object(Bucket=bucket, Key=key, Body=_json(event), ContentType="application/json",
                  Metadata={ARCHIVED_AT_METADATA: str(int(time.time() * 1000))})
    logger.info("archived batch", extra={"key": key, "records": len(records), "ttl_deletions": len(expired)})
    return {"batchItemFailures": []}
