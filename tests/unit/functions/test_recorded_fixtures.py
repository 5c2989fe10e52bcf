"""The events recorded from the pipeline (`make fixtures`) mean what their names say.

The "every fixture" tests only check that records flow; these pin down what the
recording is for: a TTL deletion as the emulator emits it is backed up under
deleted/ and becomes a ``ttl_delete`` row, and fanout's recorded ``Data`` is the
stream record exactly as archive received it.
"""

from __future__ import annotations

import base64
import json

from functions import archive, consumer_analytics
from tests.unit.functions.conftest import ANALYTICS, DATA_LAKE
from tests.unit.functions.fakes import FakeContext


def test_recorded_ttl_deletion_is_backed_up_under_deleted(s3, load_event) -> None:
    event = load_event("dynamodb_recorded_ttl_remove")
    (ttl,) = [r for r in event["Records"] if r.get("userIdentity")]
    archive.handler(event, FakeContext())
    (key,) = [k for k in s3.keys(DATA_LAKE) if k.startswith("deleted/")]
    assert key.endswith(f"/{ttl['dynamodb']['Keys']['uuid']['S']}/{ttl['eventID']}.json")
    assert s3.json(DATA_LAKE, key) == ttl


def test_recorded_kinesis_ttl_deletion_becomes_a_ttl_row(s3, load_event) -> None:
    consumer_analytics.handler(load_event("kinesis_recorded_ttl_remove"), FakeContext())
    (key,) = s3.keys(ANALYTICS)
    rows = [json.loads(line) for line in s3.objects[(ANALYTICS, key)].decode().splitlines()]
    assert [(r["event_name"], r["ttl_delete"]) for r in rows] == [("INSERT", False), ("REMOVE", True)]


def test_recorded_kinesis_data_is_the_archived_stream_record(load_event) -> None:
    # Both recordings come from one run: fanout's Data must be archive's record, byte for byte in JSON.
    archived = {r["eventID"]: r for r in load_event("dynamodb_recorded_clicks")["Records"]}
    fanned = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in load_event("kinesis_recorded_clicks")["Records"]]
    shared = [r for r in fanned if r["eventID"] in archived]
    assert shared, "re-record with `make fixtures`: the two clicks events share no record"
    assert all(r == archived[r["eventID"]] for r in shared)
