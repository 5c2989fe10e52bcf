"""fanout: stream records into Kinesis in per-item order, retrying only what failed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from functions import _aws, fanout
from functions._config import ConfigurationError
from tests.unit.functions.conftest import STREAM
from tests.unit.functions.fakes import FakeContext, FakeKinesis, client_error, fail_keys, rejected_logs

U1 = "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f"
U2 = "8a7b6c5d-4e3f-4a1b-8c2d-9e0f1a2b3c4d"
U3 = "c0ffee00-1234-4abc-8def-0123456789ab"


def install(kinesis: FakeKinesis) -> FakeKinesis:
    _aws._clients["kinesis"] = kinesis
    return kinesis


def sequences(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]


def failures(*seqs: str) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in seqs]}


def keys_per_call(kinesis: FakeKinesis) -> list[list[str]]:
    return [[record["PartitionKey"] for record in call] for call in kinesis.calls]


def make_records(count: int, padding: int = 0) -> dict[str, Any]:
    """``count`` INSERTs of distinct items, each optionally padded to a given size."""
    return {"Records": [
        {"eventID": f"{n:032x}", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
         "awsRegion": "us-east-1",
         "dynamodb": {"ApproximateCreationDateTime": 1795701900, "Keys": {"uuid": {"S": f"item-{n}"}},
                      "NewImage": {"uuid": {"S": f"item-{n}"}, "pad": {"S": "x" * padding}},
                      "SequenceNumber": str(1000 + n), "SizeBytes": padding + 50, "StreamViewType": "NEW_IMAGE"}}
        for n in range(count)
    ]}


def test_every_record_goes_to_kinesis_raw_with_its_uuid_as_partition_key(kinesis, load_event):
    event = load_event("dynamodb_clicks")
    assert fanout.handler(event, FakeContext()) == failures()
    assert kinesis.stored_records() == event["Records"]  # exactly as received, in stream order
    assert [r["PartitionKey"] for r in kinesis.stored] == [U1, U2, U1, U3, U2]
    assert kinesis.stored[0]["Data"] == json.dumps(event["Records"][0], separators=(",", ":")).encode()


def test_one_item_appears_at_most_once_per_call(kinesis, load_event):
    fanout.handler(load_event("dynamodb_clicks"), FakeContext())
    assert keys_per_call(kinesis) == [[U1, U2], [U1, U3, U2]]


def test_calls_hold_at_most_500_records(kinesis):
    fanout.handler(make_records(1201), FakeContext())
    assert [len(call) for call in kinesis.calls] == [500, 500, 201]
    assert len(kinesis.stored) == 1201


def test_calls_hold_at_most_5_mib(kinesis):
    fanout.handler(make_records(7, padding=900_000), FakeContext())
    sizes = [sum(len(r["Data"]) + len(r["PartitionKey"]) for r in call) for call in kinesis.calls]
    assert [len(call) for call in kinesis.calls] == [5, 2]
    assert max(sizes) <= 5 * 1024 * 1024


def test_record_over_the_kinesis_limit_is_rejected_and_the_rest_goes_on(kinesis, caplog):
    event = make_records(3)
    event["Records"][1]["dynamodb"]["NewImage"]["pad"] = {"S": "x" * (1024 * 1024)}
    assert fanout.handler(event, FakeContext()) == failures()
    assert [r["PartitionKey"] for r in kinesis.stored] == ["item-0", "item-2"]
    (line,) = rejected_logs(caplog)
    assert (line["sequence_number"], line["event_id"]) == ("1001", event["Records"][1]["eventID"])
    assert "over Kinesis' 1 MiB limit" in line["reason"]


def test_partial_failure_resends_only_the_failed_subset(load_event, sleeps):
    kinesis = install(FakeKinesis([fail_keys(U2)]))
    event = load_event("dynamodb_clicks")
    assert fanout.handler(event, FakeContext()) == failures()
    assert keys_per_call(kinesis) == [[U1, U2], [U2], [U1, U3, U2]]
    assert kinesis.stored_records() == event["Records"]  # the retried record still precedes its item's next version
    assert len(sleeps) == 1


def test_records_still_failing_are_reported_from_the_earliest_and_later_chunks_are_not_sent(load_event, sleeps):
    kinesis = install(FakeKinesis([fail_keys(U2)] * fanout.MAX_ATTEMPTS))
    event = load_event("dynamodb_clicks")
    seq = sequences(event)
    assert fanout.handler(event, FakeContext()) == failures(seq[1], seq[2], seq[3], seq[4])
    assert keys_per_call(kinesis) == [[U1, U2]] + [[U2]] * (fanout.MAX_ATTEMPTS - 1)
    assert kinesis.stored_records() == event["Records"][:1]  # sent once, never re-sent
    steps = [min(fanout.BACKOFF_CAP_SECONDS, fanout.BACKOFF_BASE_SECONDS * 2**n) for n in range(len(sleeps))]
    assert len(sleeps) == fanout.MAX_ATTEMPTS - 1
    assert all(step / 2 <= wait <= step for wait, step in zip(sleeps, steps, strict=True))  # exponential, capped


def test_throttled_call_is_retried(load_event, sleeps):
    kinesis = install(FakeKinesis([client_error("ProvisionedThroughputExceededException", "PutRecords")]))
    event = load_event("dynamodb_clicks")
    assert fanout.handler(event, FakeContext()) == failures()
    assert keys_per_call(kinesis) == [[U1, U2], [U1, U2], [U1, U3, U2]]
    assert kinesis.stored_records() == event["Records"]
    assert len(sleeps) == 1


def test_connection_error_is_retried(load_event):
    kinesis = install(FakeKinesis([EndpointConnectionError(endpoint_url="http://127.0.0.1:4566")]))
    event = load_event("dynamodb_clicks")
    assert fanout.handler(event, FakeContext()) == failures()
    assert kinesis.stored_records() == event["Records"]


def test_missing_stream_is_not_retried_and_everything_is_reported(load_event, sleeps):
    kinesis = install(FakeKinesis([client_error("ResourceNotFoundException", "PutRecords")]))
    event = load_event("dynamodb_clicks")
    assert fanout.handler(event, FakeContext()) == failures(*sequences(event))
    assert len(kinesis.calls) == 1 and sleeps == []


def test_other_key_schemas_use_a_stable_key_digest(kinesis, load_event):
    fanout.handler(load_event("dynamodb_aws_sample"), FakeContext())
    first, second = (r["PartitionKey"] for r in kinesis.stored)
    assert first == second and first.startswith("key-")
    assert len(kinesis.calls) == 2  # the same item twice: two calls, in order


def test_junk_record_is_rejected_and_logged_and_the_healthy_records_after_it_are_sent(kinesis, load_event, caplog):
    event = load_event("dynamodb_junk")
    seq = sequences(event)
    assert fanout.handler(event, FakeContext()) == failures()
    assert kinesis.stored_records() == [event["Records"][n] for n in (0, 1, 3)]
    (line,) = rejected_logs(caplog)
    assert (line["level"], line["sequence_number"], line["event_id"]) == ("ERROR", seq[2], event["Records"][2]["eventID"])
    assert "has no Keys" in line["reason"]


def test_a_transient_failure_after_junk_still_stops_the_batch_and_the_junk_is_not_reported(load_event, sleeps):
    event = load_event("dynamodb_junk")  # records 0, 1 are good, 2 is junk, 3 is good
    kinesis = install(FakeKinesis([client_error("ResourceNotFoundException", "PutRecords")]))
    seq = sequences(event)
    assert fanout.handler(event, FakeContext()) == failures(seq[0], seq[1], seq[3])
    assert kinesis.stored == []


def test_all_junk_sends_nothing_and_reports_nothing(kinesis, load_event):
    event = load_event("dynamodb_junk")
    event["Records"] = [event["Records"][2]] * 2
    assert fanout.handler(event, FakeContext()) == failures()
    assert kinesis.calls == []


def test_record_without_sequence_number_fails_the_whole_batch(kinesis, load_event):
    event = load_event("dynamodb_clicks")
    del event["Records"][3]["dynamodb"]["SequenceNumber"]
    with pytest.raises(ValueError, match="record 3 has no sequence number"):
        fanout.handler(event, FakeContext())
    assert kinesis.calls == []


def test_empty_batch_sends_nothing(kinesis, load_event):
    assert fanout.handler(load_event("dynamodb_empty"), FakeContext()) == failures()
    assert kinesis.calls == []


def test_missing_stream_setting_is_a_clear_error(kinesis, load_event, monkeypatch):
    monkeypatch.delenv("KINESIS_STREAM_NAME")
    with pytest.raises(ConfigurationError, match="KINESIS_STREAM_NAME"):
        fanout.handler(load_event("dynamodb_clicks"), FakeContext())


def test_real_client_is_created_lazily_from_the_environment(load_event, monkeypatch):
    """The boto3 client picks up AWS_ENDPOINT_URL set after import (LocalStack, emulator)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    event = {"Records": load_event("dynamodb_clicks")["Records"][:2]}
    client = _aws.client("kinesis")
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    expected = {
        "StreamName": STREAM,
        "Records": [
            {"Data": json.dumps(r, separators=(",", ":")).encode(), "PartitionKey": key}
            for r, key in zip(event["Records"], [U1, U2], strict=True)
        ],
    }
    answer = {"Records": [{"SequenceNumber": "1", "ShardId": "shardId-000000000000"},
                          {"SequenceNumber": "2", "ShardId": "shardId-000000000000"}]}
    with Stubber(client) as stub:
        stub.add_response("put_records", answer, expected)
        assert fanout.handler(event, FakeContext()) == failures()
        stub.assert_no_pending_responses()
