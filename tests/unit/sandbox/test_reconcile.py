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


def test_ttl_deletes_are_reported_not_failed() -> None:
    report = reconcile(_manifest(), "B", [*_complete(), SinkEvent("c", "e6", "REMOVE", ttl_delete=True)])
    assert report.ok and report.ttl_deletes == 1 and report.other == 0


def test_an_event_beyond_the_plan_is_other_and_not_reconciled() -> None:
    report = reconcile(_manifest(), "B", [*_complete(), SinkEvent("c", "e7", "MODIFY")])
    assert not report.ok and report.unexpected == 1 and report.other == 1 and report.missing_ids == []


def test_events_of_this_run_for_clicks_the_manifest_does_not_list_are_other() -> None:
    """A reused run id: the second run overwrote the manifest, the first run's rows carry the same run_id."""
    earlier = [SinkEvent("old1", "e20", "INSERT", run_id="r1"), SinkEvent("old2", "e21", "INSERT", run_id="r1")]
    another_run = [SinkEvent("zz", "e22", "INSERT", run_id="r0"), SinkEvent("yy", "e23", "INSERT")]
    report = reconcile(_manifest(), "lake", [*_complete(), *earlier, *another_run])
    assert not report.ok
    assert report.unlisted_ids == ["old1", "old2"] and report.other == 2
    assert report.records == 5 + 2  # this run's events, listed or not; other runs' ignored


def test_expected_comes_from_the_header_when_given() -> None:
    """A running run: the header counts writes whose ids are not in a manifest part yet."""
    report = reconcile(_manifest(), "A", _complete(), expected=9)
    assert report.expected == 9 and report.records == 5
