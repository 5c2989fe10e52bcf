"""Stream records in the exact shape a Lambda event source mapping delivers them.

The one builder in sandbox/ for what `replay` and `redrive` invoke functions with;
the shapes match emulator/events.py and AWS's documentation (FACTS.md).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any


def wire(value: Any) -> Any:
    """JSON wire form of boto3's parsed values: bytes as base64 text, times as epoch seconds."""
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    return value


def dynamodb_record(record: dict[str, Any], *, region: str, stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams GetRecords record as the Lambda event carries it."""
    body = wire(record["dynamodb"])
    if isinstance(body.get("ApproximateCreationDateTime"), float):
        body["ApproximateCreationDateTime"] = float(int(body["ApproximateCreationDateTime"]))
    event: dict[str, Any] = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }
    if record.get("userIdentity"):
        event["userIdentity"] = wire(record["userIdentity"])
    return event


def kinesis_record(
    *, partition_key: str, data: bytes, sequence: str, shard_id: str, arrival: float,
    role_arn: str, region: str, stream_arn: str,
) -> dict[str, Any]:
    """One Kinesis record as the Lambda event carries it (``invokeIdentityArn`` = the function's role)."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence,
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": round(arrival, 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }
