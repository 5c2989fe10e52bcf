"""Fanned-out Kinesis record -> the plain JSON row of docs/data-contracts.md.

One row shape serves consumer A (a JSONL line) and consumer B (the POST body), so
both sinks can be reconciled field by field against the table and the data lake.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from boto3.dynamodb.types import TypeDeserializer

from ._config import table_key
from ._stream import JunkRecord, is_ttl_delete, validate

#: Click attributes copied into every row (null where the stream view lacks them).
CLICK_FIELDS = ("user", "action", "page", "session", "ts", "run_id")


class StreamDeserializer(TypeDeserializer):
    """boto3's deserializer, for images as a stream record's JSON carries them.

    Two differences, both because the values come from DynamoDB, not from a caller:
    ``B``/``BS`` stay the base64 text the JSON holds (boto3 expects bytes), and ``N`` is
    read exactly as given. boto3 forces numbers through a 38-digit context that traps
    ``Rounded``, so valid DynamoDB numbers with trailing zeros such as ``1e40`` would
    fail (boto/boto3#2500, #4693).
    """

    def _deserialize_n(self, value: str) -> Decimal:
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a DynamoDB number")
        return number

    def _deserialize_b(self, value: Any) -> Any:
        return value


_deserializer = StreamDeserializer()


def decode(record: KinesisStreamRecord) -> DynamoDBRecord:
    """The DynamoDB stream record fanout put into ``Data`` (compact JSON)."""
    try:
        raw = json.loads(base64.b64decode(record.kinesis.data, validate=True))
    except (KeyError, TypeError, binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise JunkRecord(f"Kinesis data is not a JSON stream record: {error}") from None
    return validate(raw)


def plain(value: Any) -> Any:
    """A deserialized DynamoDB value as JSON: numbers stay numbers, binary is base64,
    sets become sorted lists (deterministic lines for identical items)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, set | frozenset):
        return sorted(plain(item) for item in value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def image(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """A DynamoDB-JSON image (``NewImage``/``OldImage``/``Keys``) as plain JSON."""
    try:
        return {name: plain(_deserializer.deserialize(value)) for name, value in (attributes or {}).items()}
    except (AttributeError, TypeError, IndexError, ValueError, ArithmeticError) as error:
        raise JunkRecord(f"image is not valid DynamoDB JSON: {error!r}") from None


def to_row(record: DynamoDBRecord, kinesis_sequence: str | None, processed_at_ms: int) -> dict[str, Any]:
    """The row for one stream record: the newest image it carries (NewImage, else
    OldImage for REMOVE/OLD_IMAGE views, else only the key for KEYS_ONLY)."""
    body = record.get("dynamodb") or {}
    item = image(body.get("NewImage") or body.get("OldImage"))
    keys = image(body.get("Keys"))
    key = table_key()
    row: dict[str, Any] = {
        "event_id": record.get("eventID"),
        "event_name": record.get("eventName"),
        "uuid": item.get(key, keys.get(key)),
    }
    row.update({name: item.get(name) for name in CLICK_FIELDS})
    row.update(
        {
            "sequence": body.get("SequenceNumber"),
            "created_at": body.get("ApproximateCreationDateTime"),
            "ttl_delete": is_ttl_delete(record),
            "kinesis_sequence": kinesis_sequence,
            "processed_at": processed_at_ms,
        }
    )
    return row
