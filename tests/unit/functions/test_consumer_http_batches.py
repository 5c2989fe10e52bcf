"""consumer B with HTTP_BATCH_SIZE above 1: a lane's rows go to the sink's batch endpoint together,
against our own sink (sandbox.httpsink) and, for the answers ours never gives, a scripted one."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions import _batch, _http_batch, consumer_http
from functions._config import ConfigurationError
from sandbox import httpsink
from sandbox.httpsink import HttpSink as RealSink
from tests.unit.functions.fakes import FakeContext, rejected_logs
from tests.unit.functions.test_consumer_http import event_ids, failures, kinesis_sequences, many_keys, with_junk


@pytest.fixture(autouse=True)
def batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_BATCH_SIZE", "50")
    monkeypatch.setenv("HTTP_LANES", "1")


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[RealSink]:
    with RealSink(port=0) as real:
        monkeypatch.setenv("HTTP_SINK_URL", real.url)
        yield real


def held(sink: RealSink) -> list[tuple[str, dict[str, Any]]]:
    """What the sink holds, without the time each row was made."""
    return [(d["key"], {k: v for k, v in d["body"].items() if k != "processed_at"}) for d in sink.deliveries()]


def test_a_lane_is_one_request_holding_the_same_rows_as_single_posts(sink, load_event, monkeypatch):
    event = load_event("kinesis_fanout_clicks")
    assert consumer_http.handler(event, FakeContext()) == failures()
    assert sink.stats()["requests"] == 1
    batched = held(sink)
    assert [key for key, _ in batched] == event_ids(load_event)

    sink.reset()
    monkeypatch.setenv("HTTP_BATCH_SIZE", "1")
    assert consumer_http.handler(event, FakeContext()) == failures()
    assert sink.stats()["requests"] == len(event["Records"])
    assert held(sink) == batched


def test_a_redelivered_batch_is_held_once(sink, load_event):
    event = load_event("kinesis_fanout_clicks")
    consumer_http.handler(event, FakeContext())
    assert consumer_http.handler(event, FakeContext()) == failures()
    stats = sink.stats()
    assert (stats["deliveries"], stats["duplicates"]) == (len(event["Records"]), len(event["Records"]))
    assert {d["attempts"] for d in sink.deliveries()} == {2}


def test_a_faulted_batch_is_retried_whole(sink, load_event, sleeps):
    """fail_ratio 0.5 fails the second of every two requests: the second invocation's first try."""
    sink.set_faults(fail_ratio=0.5)
    first, second = many_keys(load_event, keys=3, versions=1), many_keys(load_event, keys=6, versions=1)
    second["Records"] = second["Records"][3:]
    assert consumer_http.handler(first, FakeContext()) == failures()
    assert consumer_http.handler(second, FakeContext()) == failures()
    assert len(sleeps) == 1
    assert (sink.stats()["requests"], sink.stats()["faulted"]) == (3, 1)
    assert [d["attempts"] for d in sink.deliveries()] == [1, 1, 1, 2, 2, 2]


def test_rows_before_a_refused_one_count_as_delivered(http_sink, load_event, sleeps):
    http_sink.script = [(400, {}, {"error": "record 2: missing key", "recorded": 2})]
    event = load_event("kinesis_fanout_clicks")
    assert consumer_http.handler(event, FakeContext()) == failures(*kinesis_sequences(event)[2:])
    (request,) = http_sink.requests
    assert request.path == "/deliveries/batch"
    assert [entry["key"] for entry in request.json()["records"]] == event_ids(load_event)
    assert sleeps == []  # a refusal is permanent


@pytest.mark.parametrize("answer", [{"recorded": "2"}, {"recorded": True}, {"recorded": -1}, ["not", "a", "map"], {}])
def test_a_refusal_that_does_not_say_what_it_holds_holds_nothing(http_sink, load_event, answer):
    http_sink.script = [(400, {}, answer)]
    event = load_event("kinesis_fanout_clicks")
    assert consumer_http.handler(event, FakeContext()) == failures(*kinesis_sequences(event))


def test_a_sink_that_stays_down_gets_the_whole_lane_reported(http_sink, load_event, sleeps, monkeypatch):
    monkeypatch.setenv("HTTP_MAX_ATTEMPTS", "2")
    http_sink.script = [503, 503]
    event = load_event("kinesis_fanout_clicks")
    assert consumer_http.handler(event, FakeContext()) == failures(*kinesis_sequences(event))
    assert len(http_sink.requests) == 2 and len(sleeps) == 1


def test_the_batch_size_bounds_each_request(http_sink, load_event, monkeypatch):
    monkeypatch.setenv("HTTP_BATCH_SIZE", "2")
    event = many_keys(load_event, keys=5, versions=1)
    assert consumer_http.handler(event, FakeContext()) == failures()
    assert [len(request.json()["records"]) for request in http_sink.requests] == [2, 2, 1]


def test_rows_over_the_byte_limit_go_in_requests_of_their_own(http_sink, load_event, monkeypatch):
    """The second request is refused: the first one's row is delivered, the rest reported."""
    monkeypatch.setattr(_http_batch, "MAX_REQUEST_BYTES", 1)
    http_sink.script = [200, (400, {}, {"recorded": 0})]
    event = load_event("kinesis_fanout_clicks")
    assert consumer_http.handler(event, FakeContext()) == failures(*kinesis_sequences(event)[1:])
    assert [len(request.json()["records"]) for request in http_sink.requests] == [1, 1]


def test_junk_is_left_out_of_the_batch_and_not_reported(sink, load_event, caplog):
    event = with_junk(load_event("kinesis_fanout_clicks"), 1)
    assert consumer_http.handler(event, FakeContext()) == failures()
    ids = event_ids(load_event)
    assert [key for key, _ in held(sink)] == [ids[0], *ids[2:]]
    assert sink.stats()["requests"] == 1
    assert [line["sequence_number"] for line in rejected_logs(caplog)] == kinesis_sequences(event)[1:2]


def test_lanes_post_their_own_batches_and_keep_each_keys_order(sink, load_event, monkeypatch):
    """48 records in batches of 5 fill 10 chunks: all 4 lanes post, each in order."""
    monkeypatch.setenv("HTTP_LANES", "4")
    monkeypatch.setenv("HTTP_BATCH_SIZE", "5")
    event = many_keys(load_event, keys=12, versions=4)
    assert consumer_http.handler(event, FakeContext()) == failures()
    posted = [key for key, _ in held(sink)]
    assert sorted(posted) == sorted(f"{n:032x}" for n in range(48))
    for key in range(12):
        mine = [eid for eid in posted if int(eid, 16) % 12 == key]
        assert mine == sorted(mine), f"key-{key} held out of order: {mine}"
    lanes = {_batch.lane_of(r["kinesis"]["partitionKey"], 4) for r in event["Records"]}
    assert len(lanes) == 4 and sink.stats()["requests"] >= 10


def test_a_refused_record_holds_back_only_its_own_lane(http_sink, load_event, monkeypatch, sleeps):
    """key-0's first record is refused inside its lane's batch: the rows before it in that batch
    are held, it and the rest of its lane are reported, the other lanes deliver everything."""
    lanes = 4
    monkeypatch.setenv("HTTP_LANES", str(lanes))
    monkeypatch.setenv("HTTP_BATCH_SIZE", "3")
    event = many_keys(load_event, keys=8, versions=3)
    refused = f"{8:032x}"  # key-0's second version
    http_sink.refuse = {refused: 400}
    response = consumer_http.handler(event, FakeContext())
    lane = [_batch.lane_of(r["kinesis"]["partitionKey"], lanes) for r in event["Records"]]
    mine = [r for r, n in zip(event["Records"], lane) if n == lane[0]]
    from_refused = [r["kinesis"]["sequenceNumber"] for r in mine][[json.loads(base64.b64decode(r["kinesis"]["data"]))["eventID"] for r in mine].index(refused):]
    assert response == failures(*from_refused)
    assert len(set(lane)) > 1 and sleeps == []


def test_bad_batch_sizes_are_refused(load_event, monkeypatch):
    monkeypatch.setenv("HTTP_SINK_URL", "http://127.0.0.1:9/deliveries")
    for value in ("0", "501", "some"):
        monkeypatch.setenv("HTTP_BATCH_SIZE", value)
        with pytest.raises(ConfigurationError, match="HTTP_BATCH_SIZE"):
            consumer_http.handler(load_event("kinesis_fanout_clicks"), FakeContext())


def test_the_batch_url_is_the_sinks_batch_endpoint():
    with RealSink(port=0) as real:
        assert _http_batch.batch_url(real.url) == real.base_url + httpsink.BATCH_PATH
    assert _http_batch.batch_url("http://h:1/deliveries/") == "http://h:1/deliveries/batch"
    assert _http_batch.batch_url("https://h/in?token=x") == "https://h/in/batch?token=x"


@pytest.mark.parametrize(("records", "most_requests"), [(5, 1), (12, 1), (120, 5)])
def test_a_batch_uses_only_the_lanes_it_fills(sink, load_event, monkeypatch, records, most_requests):
    """Five records and batches of 50 are one request, not one per lane; 120 records take 3 lanes."""
    monkeypatch.setenv("HTTP_LANES", "8")
    event = many_keys(load_event, keys=records, versions=1)
    assert consumer_http.handler(event, FakeContext()) == failures()
    assert len(sink.deliveries()) == records
    assert sink.stats()["requests"] <= most_requests


def test_a_sink_without_a_batch_endpoint_is_told_apart(http_sink, load_event, caplog):
    """A webhook of the user's answers 404 on …/batch: the log says to deploy one row per POST."""
    http_sink.script = [(404, {}, {"error": "no route /deliveries/batch"})]
    event = load_event("kinesis_fanout_clicks")
    assert consumer_http.handler(event, FakeContext()) == failures(*kinesis_sequences(event))
    assert "SANDBOX_HTTP_BATCH_SIZE=1" in caplog.text and "no route /deliveries/batch" in caplog.text


def test_row_by_row_keeps_every_lane(http_sink, load_event, monkeypatch):
    """HTTP_BATCH_SIZE 1 splits by the configured lanes as before, however few the records."""
    monkeypatch.setenv("HTTP_BATCH_SIZE", "1")
    monkeypatch.setenv("HTTP_LANES", "8")
    seen: list[int] = []
    real = _batch._lanes_of
    monkeypatch.setattr(_batch, "_lanes_of", lambda parsed, lanes: seen.append(lanes) or real(parsed, lanes))
    consumer_http.handler(many_keys(load_event, keys=2, versions=1), FakeContext())
    assert seen == [8]
