"""POST /deliveries/batch: records held in order, each key once, junk stops the batch where it
is, an injected fault fails the whole request; over HTTP and in the journal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.httpsink import BATCH_PATH, HttpSink
from sandbox.httpsink_journal import Journal
from sandbox.httpsink_state import MAX_BATCH_RECORDS, Outcome, SinkState
from tests.functional.httpsink.test_server import request


def batch(*entries: Any) -> bytes:
    return json.dumps({"records": list(entries)}).encode()


def entry(key: str, **fields: Any) -> dict[str, Any]:
    return {"key": key, "body": fields}


def test_records_are_held_in_order_each_key_once() -> None:
    state = SinkState(clock=lambda: 1000.0)
    state.deliver("b", json.dumps({"n": 0}).encode())
    result = state.deliver_batch(batch(entry("a", n=1), entry("b", n=2), entry("c", n=3), entry("a", n=4)))
    assert (result.outcome, result.recorded, result.created, result.duplicates) == (Outcome.CREATED, 4, 2, 2)
    assert [(d["key"], d["body"], d["attempts"]) for d in state.deliveries()] == [
        ("b", {"n": 0}, 2), ("a", {"n": 1}, 2), ("c", {"n": 3}, 1)]
    stats = state.stats()
    assert (stats["requests"], stats["created"], stats["duplicates"]) == (2, 3, 2)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("not a map", "record 1: must be an object"),
        ({"body": {}}, "record 1: missing key"),
        ({"key": " ", "body": {}}, "record 1: key must be a non-empty string"),
        ({"key": 123, "body": {}}, "record 1: key must be a non-empty string"),
        ({"key": "k" * 300, "body": {}}, "record 1: key longer than 256"),
        ({"key": "x", "body": [1]}, "record 1: body must be a JSON object"),
    ],
)
def test_junk_stops_the_batch_where_it_is(bad: Any, message: str) -> None:
    state = SinkState()
    result = state.deliver_batch(batch(entry("a"), bad, entry("c")))
    assert (result.outcome, result.recorded) == (Outcome.REJECTED, 1)
    assert message in result.message
    assert [d["key"] for d in state.deliveries()] == ["a"]  # nothing after the junk


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"nope", "not JSON"),
        (b"[]", "records"),
        (json.dumps({"records": []}).encode(), "at least one record"),
        (json.dumps({"records": {"a": 1}}).encode(), "records"),
        (batch(*[entry(str(n)) for n in range(MAX_BATCH_RECORDS + 1)]), f"at most {MAX_BATCH_RECORDS}"),
    ],
)
def test_a_body_that_is_no_batch_is_refused_whole(raw: bytes, message: str) -> None:
    state = SinkState()
    result = state.deliver_batch(raw)
    assert (result.outcome, result.recorded) == (Outcome.REJECTED, 0)
    assert message in result.message
    assert state.deliveries() == [] and state.stats()["rejected"] == 1


def test_a_fault_fails_the_whole_request_and_counts_an_attempt_of_each_key() -> None:
    state = SinkState()
    state.set_faults({"fail_ratio": 0.5})  # the second of every two requests fails
    assert state.deliver_batch(batch(entry("a"))).outcome is Outcome.CREATED
    assert state.deliver_batch(batch(entry("b"), entry("c"))).outcome is Outcome.FAULTED
    assert [d["key"] for d in state.deliveries()] == ["a"]
    assert state.deliver_batch(batch(entry("b"), entry("c"))).outcome is Outcome.CREATED
    assert [d["attempts"] for d in state.deliveries()] == [1, 2, 2]
    assert state.stats()["faulted"] == 1


def test_a_batch_of_only_recorded_keys_never_faults() -> None:
    state = SinkState()
    state.deliver_batch(batch(entry("a")))
    state.set_faults({"fail_ratio": 1.0})
    result = state.deliver_batch(batch(entry("a")))
    assert (result.outcome, result.duplicates) == (Outcome.CREATED, 1)


def test_batch_deliveries_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sink.jsonl"
    first = SinkState(clock=lambda: 2.0)
    first.keep_in(Journal(path))
    first.deliver_batch(batch(entry("a", n=1), entry("b", n=2), entry("a", n=3)))
    first.close()
    again = SinkState()
    assert again.keep_in(Journal(path)) == 2
    assert [(d["key"], d["body"], d["received_at"]) for d in again.deliveries()] == [("a", {"n": 1}, 2000), ("b", {"n": 2}, 2000)]


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    with HttpSink() as running:
        yield running


def post_batch(sink: HttpSink, data: Any) -> tuple[int, dict[str, str], Any]:
    return request(f"{sink.base_url}{BATCH_PATH}", "POST", data, {"Content-Type": "application/json"})


def test_over_http(sink: HttpSink) -> None:
    assert post_batch(sink, {"records": [entry("a", ts=1), entry("b", ts=2)]})[::2] == (
        200, {"status": "recorded", "recorded": 2, "created": 2, "duplicates": 0})
    status, _, answer = post_batch(sink, {"records": [entry("a"), {"key": "c"}]})
    assert (status, answer["recorded"]) == (400, 1) and "record 1" in answer["error"]
    status, _, answer = post_batch(sink, b"[1]")
    assert (status, answer["recorded"]) == (400, 0)
    sink.set_faults(fail_ratio=1.0)
    status, headers, answer = post_batch(sink, {"records": [entry("z")]})
    assert (status, headers["Retry-After"], answer["recorded"]) == (503, "0", 0)
    assert [d["key"] for d in sink.deliveries()] == ["a", "b"]
    assert request(f"{sink.base_url}{BATCH_PATH}")[0] == 405


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe{",
        b"",
        b"[" * 5000 + b"]" * 5000,
        b'{"records": null}',
        b'{"records": [{"key": "a", "body": {"ts": 1e999}}, 7]}',
        b'{"records": [{"key": "a", "body": {}}, {"key": "b", "body": "not an object"}]}',
    ],
)
def test_hostile_batches_get_a_4xx_and_the_sink_keeps_serving(sink: HttpSink, raw: bytes) -> None:
    """(An over-1-MiB body is refused before it is read, by the code every POST shares; sending
    one here races the refusal into a broken pipe. The fuzz test's Content-Length probes,
    tests/functional/fuzz/sink_requests.py, cover it.)"""
    status, _, answer = post_batch(sink, raw)
    assert 400 <= status < 500 and "error" in answer
    assert request(f"{sink.base_url}/health")[0] == 200
