"""The HTTP sink's journal: acknowledged deliveries, faults and resets survive a restart; a torn
last line (a kill mid-write) is skipped, and the next line still stands on its own."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.httpsink_journal import Journal
from sandbox.httpsink_state import Outcome, SinkState


def _post(state: SinkState, key: str, **body: object) -> Outcome:
    return state.deliver(key, json.dumps({"event_id": key, **body}).encode())[0]


def test_deliveries_and_faults_come_back_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "httpsink.jsonl"
    first = SinkState()
    assert first.keep_in(Journal(path)) == 0
    assert _post(first, "a", ts=1) is Outcome.CREATED
    assert _post(first, "b", ts=2) is Outcome.CREATED
    assert _post(first, "a", ts=1) is Outcome.DUPLICATE  # not journaled twice
    first.set_faults({"latency_ms": 25})
    first.close()

    again = SinkState()
    assert again.keep_in(Journal(path)) == 2
    assert [d["key"] for d in again.deliveries()] == ["a", "b"] == [d["key"] for d in first.deliveries()]
    same = ("key", "received_at", "body")  # attempts: those of the recorded request (later duplicates are not journaled)
    assert [{k: d[k] for k in same} for d in again.deliveries()] == [{k: d[k] for k in same} for d in first.deliveries()]
    assert again.faults.latency_ms == 25
    assert _post(again, "a") is Outcome.DUPLICATE  # idempotency holds across the restart
    assert again.stats()["deliveries"] == 2


def test_a_reset_is_kept_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "httpsink.jsonl"
    state = SinkState()
    state.keep_in(Journal(path))
    _post(state, "old")
    state.reset()
    _post(state, "new")
    state.close()
    with path.open("ab") as out:
        out.write(b'{"delivery": {"key": "torn", "rece')  # killed mid-write: never acknowledged

    again = SinkState()
    assert again.keep_in(Journal(path)) == 1
    _post(again, "after")
    again.close()
    assert [d["key"] for d in again.deliveries()] == ["new", "after"]
    third = SinkState()
    assert third.keep_in(Journal(path)) == 2  # the line after the torn one is whole
