"""Which recorded events `sandbox.fixtures` keeps: small, varied, the TTL deletion on its own."""

from __future__ import annotations

import base64
import json

import pytest

from sandbox.errors import SandboxError
from sandbox.fixtures import Recording, fixtures_of, pick_holding, pick_varied
from sandbox.lake import stream_records


def record(event_id: str, name: str) -> dict:
    return {"eventID": event_id, "eventName": name, "dynamodb": {"Keys": {"uuid": {"S": event_id}}}}


def stream_event(*records: dict) -> dict:
    return {"Records": list(records)}


def kinesis_event(*records: dict) -> dict:
    return {"Records": [{"kinesis": {"data": base64.b64encode(json.dumps(r).encode()).decode()}} for r in records]}


def test_kinesis_data_is_decoded_to_stream_records() -> None:
    assert stream_records(kinesis_event(record("a", "INSERT"))) == [record("a", "INSERT")]


def test_the_most_varied_small_event_wins() -> None:
    too_big = stream_event(*(record(str(i), n) for i, n in enumerate(["INSERT", "MODIFY", "REMOVE"] * 2)))
    single = stream_event(record("s", "INSERT"))
    varied = stream_event(record("a", "INSERT"), record("b", "MODIFY"), record("c", "REMOVE"))
    assert pick_varied([too_big, single, varied], max_records=5) is varied
    assert pick_varied([single, stream_event(record("x", "INSERT"), record("y", "INSERT"))])["Records"][0]["eventID"] == "x"


def test_no_small_event_is_a_clear_error() -> None:
    with pytest.raises(SandboxError, match="no recorded event has 1-1 records"):
        pick_varied([stream_event(record("a", "INSERT"), record("b", "INSERT")), stream_event()], max_records=1)


def test_ttl_deletion_gets_its_own_fixture_and_not_the_clicks_one() -> None:
    clicks = stream_event(record("a", "INSERT"), record("b", "MODIFY"))
    ttl = stream_event(record("t1", "INSERT"), record("t2", "REMOVE"), record("t3", "MODIFY"))
    recording = Recording(raw=[ttl, clicks], kinesis=[kinesis_event(*ttl["Records"]), kinesis_event(*clicks["Records"])], ttl_event_id="t2")
    chosen = fixtures_of(recording)
    assert chosen["dynamodb_recorded_clicks"] is clicks and chosen["dynamodb_recorded_ttl_remove"] is ttl
    assert stream_records(chosen["kinesis_recorded_ttl_remove"]) == ttl["Records"]
    assert stream_records(chosen["kinesis_recorded_clicks"]) == clicks["Records"]
    with pytest.raises(SandboxError, match="holds stream record nope"):
        pick_holding(recording.raw, "nope")
