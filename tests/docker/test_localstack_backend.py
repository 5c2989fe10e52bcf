"""The LocalStack backend's own promises, checked with one tiny Lambda function.

The pipeline's end-to-end assertions live in tests/e2e (one body, parametrized
by backend). This checks what that test relies on and that only Docker can
show: a Lambda container reaches LocalStack through the AWS_ENDPOINT_URL
LocalStack injects, reaches the HTTP sink by its alias on the shared network,
and the TTL trigger answers.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest

from bootstrap.clients import client
from bootstrap.settings import Settings
from tests.docker.localstack_backend import LocalStackBackend, localstack_backend

pytestmark = pytest.mark.docker

PROBE_SOURCE = '''
import json, os, urllib.request
import boto3

def handler(event, context):
    buckets = [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
    body = json.dumps({"probe": event["probe"], "buckets": buckets}).encode()
    request = urllib.request.Request(
        os.environ["HTTP_SINK_URL"], data=body, method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": event["probe"]},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        status = response.status
    return {"endpoint": os.environ.get("AWS_ENDPOINT_URL"), "buckets": buckets, "status": status}
'''


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("probe.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def backend() -> Iterator[LocalStackBackend]:
    with localstack_backend() as running:
        yield running


def test_lambda_reaches_localstack_and_the_sink_by_alias(backend: LocalStackBackend) -> None:
    settings = Settings.from_env(backend.environ())
    s3 = client("s3", settings)
    s3.create_bucket(Bucket="probe-bucket")
    # The first invoke pulls the python3.12 runtime image: allow for it, and do not retry.
    lam = client("lambda", settings, max_attempts=1, timeout=300.0)
    lam.create_function(
        FunctionName="network-probe",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/probe",
        Handler="probe.handler",
        Code={"ZipFile": _zip(PROBE_SOURCE)},
        Timeout=60,
        Environment={"Variables": {"HTTP_SINK_URL": backend.http_sink_url}},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="network-probe")

    response = lam.invoke(FunctionName="network-probe", Payload=json.dumps({"probe": "p-1"}))
    payload = json.loads(response["Payload"].read())

    assert "FunctionError" not in response, payload
    assert payload["endpoint"], "LocalStack injected no AWS_ENDPOINT_URL"
    assert "probe-bucket" in payload["buckets"]
    assert payload["status"] == 201
    assert [d["key"] for d in backend.deliveries()] == ["p-1"]


def test_expire_ttl_now_answers_with_a_count(backend: LocalStackBackend) -> None:
    assert backend.expire_ttl_now() >= 0
