"""Reconciling a run's manifest against one sink's events."""

from __future__ import annotations

from producer.manifest import Manifest
from sandbox.reconcile import SinkEvent, reconcile


def _manifest() -> Manifest:
    return Manifest(run_id="r1", table="t", seed=1, clicks=["a", "b", "c"], updated=["a"], deleted=["b"])


def _complete() -> list[SinkEvent]:
    return [
        SinkEvent("a", "e1", "INSERT"),
        SinkEvent("a", "e2", "MODIFY"),
        SinkEvent("b", "e3", "INSERT"),
        SinkEvent("b", "e4", "REMOVE"),
        SinkEvent("c", "e5", "INSERT"),
        SinkEvent("zz", "e9", "INSERT"),  # another run's click: ignored
    ]


def test_a_complete_sink_reconciles() -> None:
    report = reconcile(_manifest(), "lake", _complete())
    assert report.ok and report.records == report.expected == 5
    assert report.unexpected == 0 and report.ttl_deletes == 0


def test_missing_event_names_its_click() -> None:
    events = [e for e in _complete() if e.event_id != "e2"]
    report = reconcile(_manifest(), "lake", events)
    assert not report.ok and report.missing_ids == ["a"]


def test_an_event_stored_twice_is_a_duplicate() -> None:
    report = reconcile(_manifest(), "A", [*_complete(), SinkEvent("c", "e5", "INSERT")])
    assert not report.ok and report.duplicate_ids == ["c"] and report.missing_ids == []


def test_ttl_deletes_and_extra_events_are_reported_not_failed() -> None:
    events = [*_complete(), SinkEvent("c", "e6", "REMOVE", ttl_delete=True), SinkEvent("c", "e7", "MODIFY")]
    report = reconcile(_manifest(), "B", events)
    assert report.ok and report.ttl_deletes == 1 and report.unexpected == 1
