"""A complete example test to copy: write one click, find it in every sink.

Runs twice: on the embedded sandbox (in this process, no Docker) and on
``SandboxContainer`` (Docker; skipped with the reason where no engine answers).
Both fixtures come from ``sandbox.testing.pytest_plugin`` (see conftest.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from sandbox.testing import SandboxEndpoint

T = TypeVar("T")


@pytest.fixture(params=["embedded_sandbox", "sandbox_container"])
def sandbox(request: pytest.FixtureRequest) -> SandboxEndpoint:
    return request.getfixturevalue(request.param)


def wait_for(find: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """Poll until ``find`` returns something, or fail at the deadline saying what never came."""
    deadline = time.monotonic() + timeout
    while (found := find()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not arrive within {timeout:.0f} s")
        time.sleep(0.2)
    return found


def objects(s3: Any, bucket: str, prefix: str) -> list[bytes]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for p in pages for o in p.get("Contents", [])]


def test_a_click_reaches_every_sink(sandbox: SandboxEndpoint) -> None:
    names = sandbox.topology
    click_id = str(uuid.uuid4())
    sandbox.client("dynamodb").put_item(
        TableName=names.table_name,
        Item={"uuid": {"S": click_id}, "user": {"S": "u-1"}, "session": {"S": "s-1"}, "action": {"S": "view"},
              "page": {"S": "/home"}, "ts": {"N": str(int(time.time() * 1000))}},
    )
    s3 = sandbox.client("s3")

    def archived() -> dict[str, Any] | None:
        records = (r for body in objects(s3, names.data_lake_bucket, "raw/") for r in json.loads(body)["Records"])
        return next((r for r in records if r["dynamodb"]["Keys"]["uuid"]["S"] == click_id), None)

    def analytics_row() -> dict[str, Any] | None:
        rows = (json.loads(line) for body in objects(s3, names.analytics_bucket, "clicks/")
                for line in body.decode().splitlines() if line.strip())
        return next((row for row in rows if row["uuid"] == click_id), None)

    def delivery() -> dict[str, Any] | None:
        return next((d for d in sandbox.deliveries() if d["body"].get("uuid") == click_id), None)

    record = wait_for(archived, "the raw stream record in the data lake")
    assert record["eventName"] == "INSERT"
    row = wait_for(analytics_row, "consumer A's row")
    assert (row["event_id"], row["action"], row["page"]) == (record["eventID"], "view", "/home")
    posted = wait_for(delivery, "consumer B's POST to the HTTP sink")
    assert posted["key"] == record["eventID"]  # the Idempotency-Key: the same id in every sink
