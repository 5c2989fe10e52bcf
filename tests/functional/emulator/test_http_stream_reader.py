"""The HTTP stream reader (GetRecords through the endpoint) delivers the same events as the
in-memory one: it exists to measure the trade-off, so it must be correct too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from emulator import Emulator, EmulatorConfig
from tests.functional.emulator.support import create_function, create_stream_table, records_when, unique
from tests.functional.emulator.test_stream_delivery import _apply, _assert_dynamodb_shape
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def http_reader_aws() -> Iterator[Any]:
    with Emulator(EmulatorConfig(port=0, ttl_interval=0, stream_reader="http")) as emulator:
        def make(service: str, **_: Any) -> Any:
            return boto3.client(service, endpoint_url=emulator.endpoint_url, region_name="us-east-1",
                                aws_access_key_id="test", aws_secret_access_key="test")
        yield make


def test_http_reader_delivers_every_change_in_order(http_reader_aws, tmp_path: Path) -> None:
    aws = http_reader_aws
    table = unique("http-reader")
    stream_arn = create_stream_table(aws, table)
    out = tmp_path / "records.jsonl"
    function = unique("recorder")
    create_function(aws, function, "recorder.handler", ("recorder",), {"RECORD_FILE": str(out)})
    lam = aws("lambda")
    mapping = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=7)
    wait_until(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled", timeout=10, what="mapping Enabled")
    ops = [("put", f"k{i}", 1) for i in range(20)] + [("update", f"k{i}", 2) for i in range(10)] + [("delete", f"k{i}", 2) for i in range(5)]
    _apply(aws("dynamodb"), table, ops)
    records = [e["record"] for e in wait_until(lambda: records_when(out, len(ops)), timeout=30, what="35 records")]
    assert len(records) == len(ops)
    for record in records:
        _assert_dynamodb_shape(record, stream_arn)
    assert [r["eventName"] for r in records] == ["INSERT"] * 20 + ["MODIFY"] * 10 + ["REMOVE"] * 5
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequences == sorted(set(sequences))
