"""SinkState without sockets: idempotency, junk, deterministic faults, stats."""

from __future__ import annotations

import json
import threading

import pytest

from sandbox.httpsink_state import Faults, JunkError, Outcome, SinkState


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_each_key_is_recorded_once_and_attempts_counted() -> None:
    state = SinkState(clock=lambda: 1000.0)
    first = state.deliver("k1", body(n=1))
    again = state.deliver("k1", body(n=2))
    assert first[0] is Outcome.CREATED and again[0] is Outcome.DUPLICATE
    assert state.deliveries() == [{"key": "k1", "received_at": 1_000_000, "attempts": 2, "body": {"n": 1}}]
    assert state.stats()["duplicates"] == 1


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        (None, body(a=1), "missing Idempotency-Key header"),
        ("  ", body(a=1), "missing Idempotency-Key header"),
        ("k", b"not json", "body is not JSON"),
        ("k", b"", "body is not JSON"),
        ("k", b"\xff\xfe", "body is not JSON"),
        ("k", b"[1, 2]", "body must be a JSON object"),
        ("k", b"42", "body must be a JSON object"),
        ("k" * 300, body(a=1), "Idempotency-Key longer than 256 characters"),
    ],
)
def test_junk_is_rejected_and_not_recorded(key: str | None, raw: bytes, message: str) -> None:
    state = SinkState()
    outcome, delivery, text = state.deliver(key, raw)
    assert (outcome, delivery, text) == (Outcome.REJECTED, None, message)
    assert state.deliveries() == []
    assert state.stats()["rejected"] == 1


def test_fail_ratio_fails_exactly_that_share_and_retries_count_as_attempts() -> None:
    state = SinkState()
    state.set_faults({"fail_ratio": 0.5})
    outcomes = [state.deliver(f"k{i}", body(i=i))[0] for i in range(10)]
    assert outcomes.count(Outcome.FAULTED) == 5
    faulted = [f"k{i}" for i, o in enumerate(outcomes) if o is Outcome.FAULTED]
    state.set_faults({"fail_ratio": 0.0})
    for key in faulted:  # the sender retries
        assert state.deliver(key, body())[0] is Outcome.CREATED
    attempts = {d["key"]: d["attempts"] for d in state.deliveries()}
    assert len(attempts) == 10
    assert {k for k, n in attempts.items() if n == 2} == set(faulted)


def test_fail_ratio_one_fails_everything() -> None:
    state = SinkState(faults=Faults(fail_ratio=1.0, status=429))
    assert {state.deliver(f"k{i}", body())[0] for i in range(5)} == {Outcome.FAULTED}
    assert state.stats()["faulted"] == 5 and state.stats()["deliveries"] == 0


@pytest.mark.parametrize(
    "faults",
    [{"fail_ratio": 2}, {"fail_ratio": "x"}, {"latency_ms": -1}, {"latency_ms": 0.5},
     {"status": 200}, {"bogus": 1}, [1],
     # the fuzzer found 503.0 accepted and echoed as a float, and a map or list a TypeError (no answer)
     {"status": 503.0}, {"status": True}, {"status": {"a": 1}}, {"status": [503]}],
)
def test_bad_fault_settings_are_refused(faults: object) -> None:
    with pytest.raises(JunkError):
        SinkState().set_faults(faults)


def test_stats_latency_skips_remove_rows() -> None:
    now = 10.0  # epoch s -> received_at 10_000 ms
    state = SinkState(clock=lambda: now)
    for i, ts in enumerate([9_900, 9_800, 9_700, 9_600]):
        state.deliver(f"k{i}", body(ts=ts, event_name="INSERT"))
    state.deliver("gone", body(ts=1, event_name="REMOVE"))
    latency = state.stats()["latency_ms"]
    assert latency == {"count": 4, "p50": 200, "p95": 400, "max": 400}


def test_reset_forgets_deliveries_but_keeps_faults() -> None:
    state = SinkState()
    state.set_faults({"latency_ms": 5})
    state.deliver("k", body())
    state.reset()
    assert state.deliveries() == [] and state.stats()["requests"] == 0
    assert state.faults.latency_ms == 5
    assert state.deliver("k", body())[0] is Outcome.CREATED  # a reset key is new again


def test_concurrent_deliveries_record_each_key_once() -> None:
    state = SinkState()
    keys = [f"k{i}" for i in range(50)]

    def sender() -> None:
        for key in keys:
            state.deliver(key, body(key=key))

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deliveries = state.deliveries()
    assert sorted(d["key"] for d in deliveries) == sorted(keys)
    assert sum(d["attempts"] for d in deliveries) == 8 * 50


def test_every_body_is_kept_whole_and_every_key_stays_idempotent() -> None:
    state = SinkState(clock=lambda: 10.0)
    rows = [dict(event_id=f"e{i}", event_name="INSERT", uuid=f"u{i}", ts=9000, user="x", page="/p") for i in range(5)]
    for row in rows:
        assert state.deliver(row["event_id"], body(**row))[0] is Outcome.CREATED
    # THEN every delivery is listed in order with its whole body
    listed = state.deliveries()
    assert [d["key"] for d in listed] == ["e0", "e1", "e2", "e3", "e4"]
    assert [d["body"] for d in listed] == rows
    # AND an old key is still a duplicate, never recorded twice
    assert state.deliver("e0", body(**rows[0]))[0] is Outcome.DUPLICATE
    assert state.stats()["deliveries"] == 5


def test_deliveries_on_disk_count_attempts_list_in_order_and_reset() -> None:
    # GIVEN a sink's deliveries, on disk
    times = iter(range(1, 100))
    state = SinkState(clock=lambda: float(next(times)))
    for i in range(6):
        state.deliver(f"e{i}", body(event_id=f"e{i}", ts=0))
    # WHEN old keys come again, alone and in a batch (twice in it), with a new one
    assert state.deliver("e0", body(event_id="e0"))[1].attempts == 2  # type: ignore[union-attr]
    batch = {"records": [{"key": k, "body": {"event_id": k}} for k in ("e1", "e1", "e0", "e6")]}
    result = state.deliver_batch(json.dumps(batch).encode())
    # THEN each attempt is counted once, the rows stay in arrival order, the new key is recorded
    assert (result.created, result.duplicates) == (1, 3)
    listed = state.deliveries()
    assert [(d["key"], d["attempts"]) for d in listed] == [
        ("e0", 3), ("e1", 3), ("e2", 1), ("e3", 1), ("e4", 1), ("e5", 1), ("e6", 1)]
    assert listed[0]["body"] == {"event_id": "e0", "ts": 0}  # the first body, not a retry's
    assert json.loads(state.deliveries_json()) == listed
    assert state.stats()["first_received_at"] == 1000 and state.stats()["deliveries"] == 7
    # AND a reset forgets the spilled ones too
    state.reset()
    assert state.deliveries() == [] and state.deliver("e0", body(event_id="e0"))[0] is Outcome.CREATED
    assert state.deliveries()[0]["attempts"] == 1


def test_the_spill_is_read_back_whole_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator import append_file

    monkeypatch.setattr(append_file, "_READ_CHUNK", 7)  # one read(2) gives at most about 2 GiB
    state = SinkState(clock=lambda: 10.0)
    for i in range(20):
        state.deliver(f"e{i}", body(event_id=f"e{i}"))
    assert [d["key"] for d in json.loads(state.deliveries_json())] == [f"e{i}" for i in range(20)]


def test_a_delivery_keeps_under_300_bytes_of_heap() -> None:
    """Kept as objects, a trimmed delivery took 1,067 bytes, and a whole one more (the sink keeps every one)."""
    import tracemalloc

    state = SinkState(clock=lambda: 10.0)
    rows = [dict(event_id=f"{i:08d}-3c9a-4f1e-9b7d-2a6c1e5f8b90", event_name="INSERT", uuid=f"{i:032x}",
                 run_id="run-20261207-1530", sequence=i, kinesis_sequence=f"{i:056d}", created_at=1_765_000_000_000 + i,
                 ts=1_765_000_000_000 + i, user_id=f"user-{i % 50}", page="/products/42") for i in range(3_010)]
    payloads = [(f"shardId-000000000000/{r['kinesis_sequence']}", body(**r)) for r in rows]
    for key, raw in payloads[:10]:
        state.deliver(key, raw)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for key, raw in payloads[10:]:
        state.deliver(key, raw)
    per_delivery = (tracemalloc.get_traced_memory()[0] - before) / 3_000
    tracemalloc.stop()
    assert per_delivery < 300, f"{per_delivery:.0f} bytes of heap per delivery"


def test_latency_covers_a_bounded_window_of_the_newest_deliveries() -> None:
    state = SinkState(clock=lambda: 10.0, latency_window=2)
    for i, ts in enumerate((9_000, 9_900, 9_990)):  # latencies 1000, 100, 10 ms
        state.deliver(f"k{i}", body(ts=ts, event_name="INSERT"))
    assert state.stats()["latency_ms"] == {"count": 2, "p50": 10, "p95": 100, "max": 100}
    state.reset()
    assert state.stats()["latency_ms"]["count"] == 0
