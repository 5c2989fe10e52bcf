"""OnFailure destinations of stream mappings: a JSON description of the discarded batch.

Like AWS, the message describes the batch (shard, first/last sequence numbers,
arrival times); it does not carry the records. Sent through the emulator's own
public endpoint with ordinary boto3, as any other AWS client would.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import boto3
from botocore.config import Config

from emulator.moto_adapter import parse_arn


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def failure_record(
    *,
    function_arn: str,
    condition: str,
    invoke_count: int,
    function_error: str | None,
    batch_info_key: str,
    shard_id: str,
    stream_arn: str,
    sequences: list[int],
    arrivals: list[float],
) -> dict[str, Any]:
    """The document AWS sends to an OnFailure destination for a stream batch."""
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            **({"functionError": function_error} if function_error else {}),
        },
        "version": "1.0",
        "timestamp": _iso(datetime.now(timezone.utc).timestamp()),
        batch_info_key: {
            "shardId": shard_id,
            "startSequenceNumber": str(sequences[0]),
            "endSequenceNumber": str(sequences[-1]),
            "approximateArrivalOfFirstRecord": _iso(arrivals[0]),
            "approximateArrivalOfLastRecord": _iso(arrivals[-1]),
            "batchSize": len(sequences),
            "streamArn": stream_arn,
        },
    }


class DestinationSender:
    """Delivers failure documents to SQS, SNS or S3 through the emulator's endpoint."""

    def __init__(self, endpoint_url: Callable[[], str], region: str) -> None:
        self._endpoint_url = endpoint_url
        self._region = region
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, service: str, region: str) -> Any:
        with self._lock:
            key = f"{service}:{region}"
            if key not in self._clients:
                self._clients[key] = boto3.session.Session(
                    aws_access_key_id="test", aws_secret_access_key="test", region_name=region
                ).client(service, endpoint_url=self._endpoint_url(), config=Config(retries={"total_max_attempts": 2}))
            return self._clients[key]

    def send(self, destination_arn: str, document: dict[str, Any]) -> None:
        parts = parse_arn(destination_arn)
        if parts is None:
            raise ValueError(f"not an ARN: {destination_arn}")
        body = json.dumps(document)
        region = parts.region or self._region
        if parts.service == "sqs":
            queue_url = f"{self._endpoint_url()}/{parts.account}/{parts.resource}"
            self._client("sqs", region).send_message(QueueUrl=queue_url, MessageBody=body)
        elif parts.service == "sns":
            self._client("sns", region).publish(TopicArn=destination_arn, Message=body)
        elif parts.service == "s3":
            info = next(v for k, v in document.items() if k.endswith("BatchInfo"))
            key = f"aws/lambda/{document['requestContext']['requestId']}-{info['shardId']}-{info['startSequenceNumber']}.json"
            self._client("s3", region).put_object(Bucket=parts.resource, Key=key, Body=body.encode())
        else:
            raise ValueError(f"unsupported destination {destination_arn}")
