"""Stored records -> the exact event shapes AWS Lambda delivers (see FACTS.md).

moto's stream records differ from AWS's: eventVersion "1.0", no eventSourceARN,
awsRegion always us-east-1, a datetime for ApproximateCreationDateTime. They
are corrected here, on the way out, and nowhere else.
"""

from __future__ import annotations

import base64
from typing import Any

from emulator.moto_adapter import StoredKinesisRecord, StoredStreamRecord, parse_arn


def _wire(value: Any) -> Any:
    """A deep copy in JSON wire form: binary (B, BS) values become base64 text, as on AWS."""
    if isinstance(value, dict):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wire(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


def dynamodb_record(stored: StoredStreamRecord, stream_arn: str) -> dict[str, Any]:
    """One DynamoDB Streams record as the Lambda event carries it."""
    source = stored.record
    body = _wire(source["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    body["ApproximateCreationDateTime"] = float(int(stored.created)) if stored.created else (
        float(int(created.timestamp())) if hasattr(created, "timestamp") else created
    )
    arn = parse_arn(stream_arn)
    record: dict[str, Any] = {
        "eventID": source["eventID"],
        "eventName": source["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": arn.region if arn else source.get("awsRegion", "us-east-1"),
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in source:
        record["userIdentity"] = dict(source["userIdentity"])
    return record


def kinesis_record(
    stored: StoredKinesisRecord, stream_arn: str, shard_id: str, role_arn: str
) -> dict[str, Any]:
    """One Kinesis record as the Lambda event carries it (data stays base64)."""
    arn = parse_arn(stream_arn)
    sequence = str(stored.sequence_number)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": stored.partition_key,
            "sequenceNumber": sequence,
            "data": stored.data_b64,
            "approximateArrivalTimestamp": round(stored.arrival, 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": arn.region if arn else "us-east-1",
        "eventSourceARN": stream_arn,
    }
