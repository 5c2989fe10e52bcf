"""A throw-away Kinesis consumer that stores every event Lambda delivers to it, verbatim.

Why: consumers A and B see Kinesis events only inside their invocations, and a
hand-built event (GetRecords plus our own idea of the envelope) would test the
handlers against our assumptions. A third consumer on the same stream, with the
same role and mapping settings as A and B, receives events of exactly their shape
from the endpoint's own event source mapping (emulator, LocalStack or AWS alike)
and writes each one to S3 unchanged. Only public AWS APIs; nothing emulator-internal.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from bootstrap.topology import LAMBDA_RUNTIME, FunctionSpec, Topology
from bootstrap.waiters import wait_until

HANDLER_SOURCE = '''\
import json
import os

import boto3

_s3 = boto3.client("s3")


def handler(event, context):
    """Store the event exactly as delivered, one object per invocation."""
    key = os.environ["RECORD_PREFIX"] + context.aws_request_id + ".json"
    _s3.put_object(Bucket=os.environ["RECORD_BUCKET"], Key=key, Body=json.dumps(event).encode("utf-8"))
    return {"batchItemFailures": []}
'''
RECORD_PREFIX = "recorded/kinesis/"
READY_TIMEOUT_S = 60.0


def package() -> bytes:
    """The recorder's deployment zip (one module; boto3 comes with the Lambda runtime)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("recorder.py", date_time=(2020, 1, 1, 0, 0, 0)), HANDLER_SOURCE)
    return buffer.getvalue()


@dataclass(frozen=True)
class KinesisRecorder:
    """Deploys the recorder next to ``like`` (a consumer spec) and reads what it stored."""

    topology: Topology
    lambda_client: Any
    s3: Any
    like: FunctionSpec

    @property
    def function_name(self) -> str:
        return f"{self.topology.prefix}-recorder"

    def deploy(self) -> None:
        """Create the function and its mapping (TRIM_HORIZON) and wait until both are ready."""
        lam = self.lambda_client
        lam.create_function(
            FunctionName=self.function_name,
            Runtime=LAMBDA_RUNTIME,
            Role=self.topology.role_arn,
            Handler="recorder.handler",
            Code={"ZipFile": package()},
            Timeout=self.like.timeout_seconds,
            Environment={
                "Variables": {"RECORD_BUCKET": self.topology.data_lake_bucket, "RECORD_PREFIX": RECORD_PREFIX}
            },
            Description="Records the Kinesis events consumers receive (test fixtures)",
        )
        wait_until(
            lambda: _state(lam.get_function_configuration(FunctionName=self.function_name), "State", "Active"),
            what=f"function {self.function_name} to be Active",
            timeout=READY_TIMEOUT_S,
        )
        mapping = lam.create_event_source_mapping(
            FunctionName=self.function_name,
            EventSourceArn=self.topology.kinesis_stream_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=self.like.batch_size,
            MaximumBatchingWindowInSeconds=self.like.batching_window_seconds,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        wait_until(
            lambda: _state(lam.get_event_source_mapping(UUID=mapping["UUID"]), "State", "Enabled"),
            what=f"the mapping of {self.function_name} to be Enabled",
            timeout=READY_TIMEOUT_S,
        )

    def remove(self) -> None:
        """Delete the mapping and the function (on a shared endpoint; a fresh emulator just stops)."""
        lam = self.lambda_client
        for mapping in lam.list_event_source_mappings(FunctionName=self.function_name)["EventSourceMappings"]:
            lam.delete_event_source_mapping(UUID=mapping["UUID"])
        lam.delete_function(FunctionName=self.function_name)

    def events(self) -> list[dict[str, Any]]:
        """Every event recorded so far, in the order their first record entered the stream."""
        found: list[dict[str, Any]] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.topology.data_lake_bucket, Prefix=RECORD_PREFIX):
            for obj in page.get("Contents", []):
                body = self.s3.get_object(Bucket=self.topology.data_lake_bucket, Key=obj["Key"])["Body"].read()
                found.append(json.loads(body))
        return sorted((e for e in found if e.get("Records")), key=_first_arrival)


def _first_arrival(event: dict[str, Any]) -> tuple[float, str]:
    first = event["Records"][0]["kinesis"]
    return float(first.get("approximateArrivalTimestamp") or 0), str(first.get("sequenceNumber"))


def _state(config: dict[str, Any], field: str, wanted: str) -> tuple[bool, str]:
    value = str(config.get(field, ""))
    return value == wanted, f"{field}={value}"
