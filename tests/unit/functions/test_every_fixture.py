"""Every stored event through the handlers, archive -> fanout -> consumers A and B.

Parametrized over tests/fixtures, so events recorded from the pipeline later
(``dynamodb_recorded_*.json``, ``kinesis_recorded_*.json``) are checked with no code change.
"""

from __future__ import annotations

import json

import pytest

from functions import archive, consumer_analytics, consumer_http, fanout
from tests.fixtures import event_names
from tests.unit.functions.conftest import ANALYTICS, DATA_LAKE
from tests.unit.functions.fakes import FakeContext

STREAM_EVENTS = event_names("dynamodb_", exclude=("junk",))
KINESIS_EVENTS = event_names("kinesis_", exclude=("junk", "aws_sample"))


def test_the_documented_and_edge_case_fixtures_are_all_there():
    assert {"dynamodb_aws_sample", "dynamodb_keys_only", "dynamodb_ttl_remove", "dynamodb_empty"} <= set(STREAM_EVENTS)
    assert {"kinesis_fanout_clicks", "kinesis_empty"} <= set(KINESIS_EVENTS)


@pytest.mark.parametrize("name", STREAM_EVENTS)
def test_stream_event_flows_through_every_handler(name, load_event, s3, kinesis, http_sink):
    event = load_event(name)
    event_ids = [record["eventID"] for record in event["Records"]]
    context = FakeContext()

    assert archive.handler(event, context) == {"batchItemFailures": []}
    raw = [key for key in s3.keys(DATA_LAKE) if key.startswith("raw/")]
    assert [s3.json(DATA_LAKE, key) for key in raw] == ([load_event(name)] if event_ids else [])

    assert fanout.handler(event, context) == {"batchItemFailures": []}
    assert kinesis.stored_records() == load_event(name)["Records"]

    shard_event = kinesis.lambda_event()
    assert consumer_analytics.handler(shard_event, context) == {"batchItemFailures": []}
    lines = [
        json.loads(line)
        for key in s3.keys(ANALYTICS)
        for line in s3.objects[(ANALYTICS, key)].decode().splitlines()
    ]
    assert [row["event_id"] for row in lines] == event_ids

    assert consumer_http.handler(shard_event, context) == {"batchItemFailures": []}
    assert sorted(http_sink.keys()) == sorted(event_ids)  # lanes: in order per key only (test_consumer_http)


@pytest.mark.parametrize("name", KINESIS_EVENTS)
def test_kinesis_event_is_fully_consumed(name, load_event, s3, http_sink):
    event = load_event(name)
    count = len(event["Records"])
    assert consumer_analytics.handler(event, FakeContext()) == {"batchItemFailures": []}
    written = sum(len(s3.objects[(ANALYTICS, key)].splitlines()) for key in s3.keys(ANALYTICS))
    assert written == count
    assert consumer_http.handler(event, FakeContext()) == {"batchItemFailures": []}
    assert len(http_sink.requests) == count
