"""Facts about one DynamoDB stream record, shared by every handler.

The table stream readers get these records directly; the Kinesis consumers get the
same raw record back from fanout's ``Data``. Both wrap it in powertools'
``DynamoDBRecord`` and ask the same questions here, so a TTL deletion, an item key
or a time partition means the same thing in the data lake, in Kinesis and in rows.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from ._config import table_key, ttl_attribute

TTL_PRINCIPAL = "dynamodb.amazonaws.com"
EVENT_NAMES = frozenset({"INSERT", "MODIFY", "REMOVE"})
#: S3 user metadata of a data-lake raw object: when the archive wrote it (ms since the epoch).
ARCHIVED_AT_METADATA = "archived-at-ms"
#: Sequence numbers in S3 keys are zero-padded to AWS's widest, so that keys sort in sequence
#: order on every backend: AWS's numbers are wide (DynamoDB streams: 21 to 40 digits, Kinesis:
#: 56), but moto's and LocalStack's count from 1, and "10" sorts before "9". A reader listing
#: with ``StartAfter`` (the live view's S3 tail) would otherwise miss every key after a
#: digit-count boundary until its next full listing: consumer A's 10 s stall in issue 11.
DYNAMODB_SEQUENCE_DIGITS = 40
KINESIS_SEQUENCE_DIGITS = 56


def sortable_sequence(value: str, digits: int) -> str:
    """``value`` as it goes into an S3 key: a decimal number zero-padded to ``digits``."""
    return value.zfill(digits) if value.isdigit() else value


class JunkRecord(ValueError):
    """Not a DynamoDB stream record this pipeline can process (retrying will not help)."""


def validate(raw: Any) -> DynamoDBRecord:
    """Wrap ``raw`` after checking the fields every handler relies on."""
    if not isinstance(raw, dict):
        raise JunkRecord(f"stream record is a {type(raw).__name__}, not an object")
    body = raw.get("dynamodb")
    if raw.get("eventName") not in EVENT_NAMES or not isinstance(body, dict):
        raise JunkRecord("not a DynamoDB stream record (eventName/dynamodb missing or invalid)")
    if not isinstance(raw.get("eventID"), str) or not raw["eventID"]:
        raise JunkRecord("stream record has no eventID (the sinks' idempotency key)")
    if not isinstance(body.get("Keys"), dict) or not body["Keys"]:
        raise JunkRecord(f"stream record {raw.get('eventID')!r} has no Keys")
    return DynamoDBRecord(raw)


def item_key(record: DynamoDBRecord) -> str:
    """The item's key (``TABLE_KEY``, a string); otherwise a stable digest of the Keys.

    Used as the Kinesis partition key and the ``deleted/`` folder, so every version
    of one item lands on one shard (per-item order) and in one folder.
    """
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    value = keys.get(table_key())
    if isinstance(value, dict) and isinstance(value.get("S"), str) and value["S"]:
        return value["S"]
    if not keys:
        raise JunkRecord(f"stream record {record.event_id!r} has no Keys")
    canonical = json.dumps(keys, sort_keys=True, separators=(",", ":"))
    return "key-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def created_at(record: DynamoDBRecord) -> int | None:
    """``ApproximateCreationDateTime`` in epoch seconds, or None when absent or garbled."""
    body = record.get("dynamodb")
    if not isinstance(body, dict):
        return None
    try:
        return record.dynamodb.approximate_creation_date_time  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None


def is_ttl_delete(record: DynamoDBRecord | dict[str, Any]) -> bool:
    """True when DynamoDB's TTL process, not a user, deleted the item.

    The one definition for the handlers and the sandbox tools (which pass the raw
    record as a dict).

    AWS (and the embedded emulator) mark TTL deletions with ``userIdentity``
    ``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``. LocalStack's
    TTL REMOVE records carry no ``userIdentity`` at all, so a REMOVE without one is
    also treated as a TTL deletion when the old image's TTL attribute is at or
    before the record's ``ApproximateCreationDateTime``: the item had expired when
    it vanished. (A user deleting an already-expired, not yet swept item looks the
    same; for a backup of expired documents that is the right call anyway.) Without
    an old image (KEYS_ONLY / NEW_IMAGE views) only ``userIdentity`` can tell.
    """
    if not isinstance(record, DynamoDBRecord):
        record = DynamoDBRecord(record)
    body = record.get("dynamodb")
    if record.get("eventName") != "REMOVE" or not isinstance(body, dict):
        return False
    identity = record.get("userIdentity")
    if isinstance(identity, dict) and identity:
        return identity.get("type") == "Service" and identity.get("principalId") == TTL_PRINCIPAL
    old = body.get("OldImage")
    expires = _number(old.get(ttl_attribute())) if isinstance(old, dict) else None
    created = created_at(record)
    return expires is not None and created is not None and expires <= created


def hour_partition(epoch_seconds: float | None) -> str:
    """``year=YYYY/month=MM/day=DD/hour=HH`` (UTC); now when the time is unknown.

    AWS's own documented sample events omit ApproximateCreationDateTime; real
    streams always carry it, so the fallback only matters for such fixtures.
    """
    moment = datetime.fromtimestamp(time.time() if epoch_seconds is None else epoch_seconds, UTC)
    return moment.strftime("year=%Y/month=%m/day=%d/hour=%H")


def _number(attribute: Any) -> Decimal | None:
    if not isinstance(attribute, dict) or not isinstance(attribute.get("N"), str):
        return None
    try:
        return Decimal(attribute["N"])
    except ArithmeticError:
        return None
