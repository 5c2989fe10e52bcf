"""consumer B against a real local HTTP server: idempotency keys, retries, stop at first failure
(one lane: the scripted answers below follow the batch order), and lanes per partition key."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from functions import _batch, consumer_http
from functions._config import ConfigurationError
from tests.unit.functions.fakes import FakeContext, rejected_logs
from tests.waiting import wait_until

U1 = "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f"


def kinesis_sequences(event: dict[str, Any]) -> list[str]:
    return [record["kinesis"]["sequenceNumber"] for record in event["Records"]]


def failures(*seqs: str) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in seqs]}


def event_ids(load_event) -> list[str]:
    return [record["eventID"] for record in load_event("dynamodb_clicks")["Records"]]


@pytest.fixture(autouse=True)
def one_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripted tests need the strict batch order; the lane tests below set their own."""
    monkeypatch.setenv("HTTP_LANES", "1")


def test_each_row_is_posted_in_order_with_its_event_id_as_idempotency_key(http_sink, load_event):
    event = load_event("kinesis_fanout_clicks")
    assert consumer_http.handler(event, FakeContext()) == failures()

    assert http_sink.keys() == event_ids(load_event)
    first = http_sink.requests[0]
    assert first.headers["Content-Type"] == "application/json"
    body = first.json()
    assert body["event_id"] == first.headers["Idempotency-Key"]
    assert (body["uuid"], body["event_name"], body["action"]) == (U1, "INSERT", "ClickOnLogo")
    assert body["kinesis_sequence"] == kinesis_sequences(event)[0]
    assert body["sequence"] == "1100000000017454423001"
    assert isinstance(body["processed_at"], int)


def test_500_then_success_is_retried_with_the_same_key(http_sink, load_event, sleeps):
    http_sink.script = [500]
    assert consumer_http.handler(load_event("kinesis_fanout_clicks"), FakeContext()) == failures()
    ids = event_ids(load_event)
    assert http_sink.keys() == [ids[0], *ids]
    assert len(sleeps) == 1


def test_429_waits_as_the_sink_asks_then_delivers(http_sink, load_event, sleeps):
    http_sink.script = [(429, {"Retry-After": "1"})]
    assert consumer_http.handler(load_event("kinesis_fanout_clicks"), FakeContext()) == failures()
    assert sleeps == [1.0]
    assert len(http_sink.requests) == 6


def test_persistent_5xx_stops_the_batch_at_that_record(http_sink, load_event, sleeps, monkeypatch):
    monkeypatch.setenv("HTTP_MAX_ATTEMPTS", "3")
    http_sink.script = [200, 503, 503, 503]
    event = load_event("kinesis_fanout_clicks")
    seqs = kinesis_sequences(event)
    assert consumer_http.handler(event, FakeContext()) == failures(*seqs[1:])
    ids = event_ids(load_event)
    assert http_sink.keys() == [ids[0], ids[1], ids[1], ids[1]]  # nothing after the failed record
    assert len(sleeps) == 2


def test_a_failed_item_is_never_overtaken_by_its_next_version(http_sink, load_event, sleeps):
    """U1's INSERT is refused: its MODIFY (record 2) and everything between are not posted."""
    http_sink.script = [400]
    event = load_event("kinesis_fanout_clicks")
    assert consumer_http.handler(event, FakeContext()) == failures(*kinesis_sequences(event))
    assert http_sink.keys() == event_ids(load_event)[:1]  # a 400 is permanent: not retried
    assert sleeps == []


def test_connection_refused_is_retried_then_everything_reported(load_event, refused_url, monkeypatch, sleeps):
    monkeypatch.setenv("HTTP_SINK_URL", refused_url)
    event = load_event("kinesis_fanout_clicks")
    assert consumer_http.handler(event, FakeContext()) == failures(*kinesis_sequences(event))
    assert len(sleeps) == 3  # the default 4 attempts for the first record, then stop


def test_slow_sink_times_out_and_is_retried(http_sink, load_event, monkeypatch):
    monkeypatch.setenv("HTTP_TIMEOUT_SECONDS", "0.2")
    monkeypatch.setenv("HTTP_MAX_ATTEMPTS", "2")
    http_sink.delay_s = 10.0
    event = {"Records": load_event("kinesis_fanout_clicks")["Records"][:1]}
    assert consumer_http.handler(event, FakeContext()) == failures(*kinesis_sequences(event))
    wait_until(lambda: len(http_sink.requests) == 2, timeout=5, interval=0.01, what="both attempts at the sink")
    assert len(set(http_sink.keys())) == 1


def with_junk(event: dict[str, Any], index: int) -> dict[str, Any]:
    event["Records"][index]["kinesis"]["data"] = base64.b64encode(b"not a stream record").decode()
    return event


def test_junk_is_rejected_not_posted_and_not_reported(http_sink, load_event, caplog):
    event = load_event("kinesis_junk")
    seqs = kinesis_sequences(event)
    assert consumer_http.handler(event, FakeContext()) == failures()
    assert len(http_sink.requests) == 1
    assert [line["sequence_number"] for line in rejected_logs(caplog)] == seqs[1:]


def test_healthy_records_after_junk_are_posted(http_sink, load_event, caplog):
    event = with_junk(load_event("kinesis_fanout_clicks"), 1)
    assert consumer_http.handler(event, FakeContext()) == failures()
    ids = event_ids(load_event)
    assert http_sink.keys() == [ids[0], *ids[2:]]
    (line,) = rejected_logs(caplog)
    assert (line["level"], line["sequence_number"]) == ("ERROR", kinesis_sequences(event)[1])


def test_a_transient_failure_after_junk_still_stops_the_batch(http_sink, load_event, sleeps, monkeypatch):
    monkeypatch.setenv("HTTP_MAX_ATTEMPTS", "2")
    http_sink.script = [200, 503, 503]  # record 0 delivered, record 2 fails twice
    event = with_junk(load_event("kinesis_fanout_clicks"), 1)
    seqs = kinesis_sequences(event)
    assert consumer_http.handler(event, FakeContext()) == failures(*seqs[2:])  # junk before it: not reported
    ids = event_ids(load_event)
    assert http_sink.keys() == [ids[0], ids[2], ids[2]]


def test_junk_after_a_failure_is_reported_with_the_rest(http_sink, load_event, sleeps):
    http_sink.script = [400]
    event = with_junk(load_event("kinesis_fanout_clicks"), 3)
    assert consumer_http.handler(event, FakeContext()) == failures(*kinesis_sequences(event))


def test_no_attempt_starts_when_the_function_is_about_to_time_out(http_sink, load_event):
    event = load_event("kinesis_fanout_clicks")
    context = FakeContext(remaining_ms=int(consumer_http.SAFETY_MARGIN_SECONDS * 1000) - 500)
    assert consumer_http.handler(event, context) == failures(*kinesis_sequences(event))
    assert http_sink.requests == []


def test_empty_batch_posts_nothing(http_sink, load_event):
    assert consumer_http.handler(load_event("kinesis_empty"), FakeContext()) == failures()
    assert http_sink.requests == []


def test_missing_url_is_a_clear_error(load_event, monkeypatch):
    monkeypatch.delenv("HTTP_SINK_URL")
    with pytest.raises(ConfigurationError, match="HTTP_SINK_URL"):
        consumer_http.handler(load_event("kinesis_fanout_clicks"), FakeContext())


@pytest.mark.parametrize("setting", [("HTTP_TIMEOUT_SECONDS", "soon"), ("HTTP_MAX_ATTEMPTS", "0")])
def test_bad_tuning_values_are_refused(load_event, monkeypatch, setting):
    monkeypatch.setenv(*setting)
    with pytest.raises(ConfigurationError, match=setting[0]):
        consumer_http.handler(load_event("kinesis_fanout_clicks"), FakeContext())



def many_keys(load_event, keys: int, versions: int) -> dict[str, Any]:
    """A batch of ``keys`` partition keys with ``versions`` records each, interleaved."""
    template = load_event("kinesis_fanout_clicks")["Records"][0]
    records = []
    for position in range(keys * versions):
        record = copy.deepcopy(template)
        stream_record = json.loads(base64.b64decode(record["kinesis"]["data"]))
        stream_record["eventID"] = f"{position:032x}"
        key = f"key-{position % keys}"
        stream_record["dynamodb"]["Keys"]["uuid"]["S"] = key
        record["kinesis"]["data"] = base64.b64encode(json.dumps(stream_record).encode()).decode()
        record["kinesis"]["partitionKey"] = key
        record["kinesis"]["sequenceNumber"] = str(49658003333333333333 + position)
        records.append(record)
    return {"Records": records}


def test_lanes_keep_each_keys_order(http_sink, load_event, monkeypatch):
    monkeypatch.setenv("HTTP_LANES", "4")
    http_sink.delay_s = 0.002
    event = many_keys(load_event, keys=12, versions=4)
    assert consumer_http.handler(event, FakeContext()) == failures()
    posted = http_sink.keys()
    assert sorted(posted) == sorted(f"{n:032x}" for n in range(48))
    for key in range(12):
        mine = [eid for eid in posted if int(eid, 16) % 12 == key]
        assert mine == sorted(mine), f"key-{key} posted out of order: {mine}"


def test_lanes_reuse_their_threads_and_connections_across_invocations(http_sink, load_event, monkeypatch):
    """A warm worker keeps its lane threads, hence each thread's kept-alive connection: a pool per
    invocation opened new connections every batch (issue 11: consumer B's p95 0.2 s -> 1.4 s)."""
    import threading

    from functions import _http

    monkeypatch.setenv("HTTP_LANES", "4")
    seen: list[set[threading.Thread]] = []  # the objects, not idents (an ident is reused)
    connect = _http._connection

    def tracking(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen[-1].add(threading.current_thread())
        return connect(*args, **kwargs)

    monkeypatch.setattr(_http, "_connection", tracking)
    for _ in range(3):
        seen.append(set())
        assert consumer_http.handler(many_keys(load_event, keys=12, versions=1), FakeContext()) == failures()
    assert seen[1] <= seen[0] and seen[2] <= seen[0], "every invocation's lanes ran on the first one's threads"


def test_a_refused_record_holds_back_only_its_own_lane(http_sink, load_event, monkeypatch, sleeps):
    """key-0's first record is refused: its lane stops there, the other lanes deliver everything."""
    lanes = 4
    monkeypatch.setenv("HTTP_LANES", str(lanes))
    event = many_keys(load_event, keys=8, versions=3)
    http_sink.refuse = {f"{0:032x}": 400}
    response = consumer_http.handler(event, FakeContext())
    lane = [_batch.lane_of(r["kinesis"]["partitionKey"], lanes) for r in event["Records"]]
    held = [r["kinesis"]["sequenceNumber"] for r, n in zip(event["Records"], lane) if n == lane[0]]
    assert response == failures(*held)
    delivered = {f"{i:032x}" for i, n in enumerate(lane) if n != lane[0]}
    assert set(http_sink.keys()) == delivered | {f"{0:032x}"}
    assert len(delivered) > 0  # the batch spans more than one lane


def test_lane_of_is_stable_and_in_range():
    assert _batch.lane_of("3f2b8c1e", 8) == _batch.lane_of("3f2b8c1e", 8)
    assert {_batch.lane_of(f"k{i}", 8) for i in range(200)} == set(range(8))
    assert _batch.lane_of("anything", 1) == 0
