"""consumer A: one JSONL object per Kinesis batch, idempotent key, junk rejected under rejected/."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions import consumer_analytics
from tests.unit.functions.conftest import ANALYTICS
from tests.unit.functions.fakes import FakeContext, client_error, kinesis_event, rejected_logs

U1 = "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f"
U2 = "8a7b6c5d-4e3f-4a1b-8c2d-9e0f1a2b3c4d"
T0 = 1795701900


def kinesis_sequences(event: dict[str, Any]) -> list[str]:
    return [record["kinesis"]["sequenceNumber"] for record in event["Records"]]


def failures(*seqs: str) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in seqs]}


def rows_of(s3, key: str) -> list[dict[str, Any]]:
    body = s3.objects[(ANALYTICS, key)]
    assert body.endswith(b"\n")
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


def test_batch_becomes_one_jsonl_object_under_its_date(s3, load_event):
    event = load_event("kinesis_fanout_clicks")
    stream_records = load_event("dynamodb_clicks")["Records"]
    seqs = kinesis_sequences(event)
    before = int(time.time() * 1000)
    assert consumer_analytics.handler(event, FakeContext()) == failures()
    after = int(time.time() * 1000)

    key = f"clicks/dt=2026-11-26/shardId-000000000001-{seqs[0].zfill(56)}-{seqs[-1].zfill(56)}.jsonl"
    assert s3.keys(ANALYTICS) == [key]
    assert s3.calls[0]["ContentType"] == "application/x-ndjson"
    rows = rows_of(s3, key)
    assert [row["event_id"] for row in rows] == [r["eventID"] for r in stream_records]
    assert [row["kinesis_sequence"] for row in rows] == seqs
    assert [row["event_name"] for row in rows] == ["INSERT", "INSERT", "MODIFY", "INSERT", "REMOVE"]
    assert all(before <= row["processed_at"] <= after for row in rows)
    assert {k: v for k, v in rows[2].items() if k != "processed_at"} == {
        "event_id": stream_records[2]["eventID"],
        "event_name": "MODIFY",
        "uuid": U1,
        "user": "u-0042",
        "action": "ClickOnLogo",
        "page": "/",
        "session": "s-7f3a",
        "ts": T0 * 1000 + 5123,
        "run_id": "run-20261126-a",
        "sequence": "1100000000017454423003",
        "created_at": T0 + 3,
        "ttl_delete": False,
        "kinesis_sequence": seqs[2],
    }
    removed = rows[4]  # a user delete: the row shows the deleted document
    assert (removed["uuid"], removed["user"], removed["action"], removed["ttl_delete"]) == (
        U2, "u-0007", "ViewProduct", False)


def test_same_batch_twice_overwrites_its_own_object(s3, load_event):
    consumer_analytics.handler(load_event("kinesis_fanout_clicks"), FakeContext())
    consumer_analytics.handler(load_event("kinesis_fanout_clicks"), FakeContext())
    assert len(s3.calls) == 2
    assert len(s3.keys(ANALYTICS)) == 1


def test_ttl_deletions_are_flagged(s3, load_event):
    event = kinesis_event(load_event("dynamodb_ttl_remove")["Records"])
    consumer_analytics.handler(event, FakeContext())
    (key,) = s3.keys(ANALYTICS)
    (row,) = rows_of(s3, key)
    assert (row["event_name"], row["uuid"], row["ttl_delete"]) == ("REMOVE", U2, True)


def with_junk(event: dict[str, Any], index: int) -> dict[str, Any]:
    event["Records"][index]["kinesis"]["data"] = base64.b64encode(b"not a stream record").decode()
    return event


def clicks_keys(s3) -> list[str]:
    return [key for key in s3.keys(ANALYTICS) if key.startswith("clicks/")]


def test_junk_is_rejected_and_the_healthy_records_after_it_are_written(s3, load_event, caplog):
    event = with_junk(load_event("kinesis_fanout_clicks"), 1)
    seqs = kinesis_sequences(event)
    assert consumer_analytics.handler(event, FakeContext()) == failures()

    (key,) = clicks_keys(s3)
    assert key == f"clicks/dt=2026-11-26/shardId-000000000001-{seqs[0]}-{seqs[-1]}.jsonl"
    assert [row["kinesis_sequence"] for row in rows_of(s3, key)] == [seqs[0], *seqs[2:]]
    rejected = f"rejected/dt=2026-11-26/shardId-000000000001-{seqs[1]}.json"
    assert [k for k in s3.keys(ANALYTICS) if k.startswith("rejected/")] == [rejected]
    stored = s3.json(ANALYTICS, rejected)
    assert stored["record"] == event["Records"][1]  # as received, for inspection
    assert "not a JSON stream record" in stored["reason"]
    (line,) = rejected_logs(caplog)
    assert (line["level"], line["sequence_number"], line["event_id"]) == ("ERROR", seqs[1], event["Records"][1]["eventID"])


def test_rejected_records_keep_their_keys_on_redelivery(s3, load_event):
    consumer_analytics.handler(with_junk(load_event("kinesis_fanout_clicks"), 3), FakeContext())
    first = s3.keys(ANALYTICS)
    consumer_analytics.handler(with_junk(load_event("kinesis_fanout_clicks"), 3), FakeContext())
    assert s3.keys(ANALYTICS) == first and len(first) == 2


def test_fixture_with_trailing_junk_writes_the_good_row_and_rejects_the_rest(s3, load_event):
    event = load_event("kinesis_junk")
    seqs = kinesis_sequences(event)
    assert consumer_analytics.handler(event, FakeContext()) == failures()
    (key,) = clicks_keys(s3)
    assert key.endswith(f"-{seqs[0]}-{seqs[0]}.jsonl")
    assert [row["kinesis_sequence"] for row in rows_of(s3, key)] == seqs[:1]
    assert len([k for k in s3.keys(ANALYTICS) if k.startswith("rejected/")]) == len(seqs) - 1


def test_aws_sample_is_all_junk_and_only_rejected(s3, load_event):
    event = load_event("kinesis_aws_sample")
    assert consumer_analytics.handler(event, FakeContext()) == failures()
    assert clicks_keys(s3) == []
    assert len(s3.keys(ANALYTICS)) == len(event["Records"])


def test_failed_rejected_write_fails_the_batch(s3, load_event):
    s3.fail_once["rejected/"] = client_error("SlowDown", "PutObject")
    with pytest.raises(ClientError, match="SlowDown"):
        consumer_analytics.handler(with_junk(load_event("kinesis_fanout_clicks"), 1), FakeContext())


def test_failed_write_fails_the_batch(s3, load_event):
    s3.failures[1] = client_error("SlowDown", "PutObject")
    with pytest.raises(ClientError, match="SlowDown"):
        consumer_analytics.handler(load_event("kinesis_fanout_clicks"), FakeContext())


def test_empty_batch_writes_nothing(s3, load_event):
    assert consumer_analytics.handler(load_event("kinesis_empty"), FakeContext()) == failures()
    assert s3.calls == []


def test_record_without_sequence_number_fails_the_whole_batch(s3, load_event):
    event = load_event("kinesis_fanout_clicks")
    del event["Records"][1]["kinesis"]["sequenceNumber"]
    with pytest.raises(ValueError, match="record 1 has no sequence number"):
        consumer_analytics.handler(event, FakeContext())
    assert s3.calls == []


def test_keys_sort_in_sequence_order_across_a_digit_boundary():
    """moto's Kinesis counts from 1: unpadded, "shardId-…-10-12" sorts before "…-8-9" and a
    reader listing with StartAfter misses it until its next full listing (issue 11)."""

    def record(sequence: int) -> Any:
        return consumer_analytics.KinesisStreamRecord({
            "eventID": f"shardId-000000000001:{sequence}",
            "kinesis": {"sequenceNumber": str(sequence), "approximateArrivalTimestamp": T0},
        })

    keys = [consumer_analytics.object_key(record(a), record(b)) for a, b in ((8, 9), (10, 12), (100, 101))]
    assert sorted(keys) == keys
