"""Percentiles, rates and the drain condition of the live view."""

from __future__ import annotations

from sandbox.stats import LatencyWindow, Percentiles, RateMeter, Snapshot, Stage, percentiles


def test_nearest_rank_percentiles() -> None:
    assert percentiles([]) is None
    assert percentiles([7.0]) == Percentiles(7.0, 7.0, 1)
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentiles(values) == Percentiles(50.0, 95.0, 100)


def test_latency_window_keeps_the_most_recent() -> None:
    window = LatencyWindow(size=3)
    for value in (1000.0, 1000.0, 1.0, 2.0, 3.0, -5.0):
        window.add(value)
    assert window.summary() == Percentiles(2.0, 3.0, 3)


def test_rates_over_a_sliding_window() -> None:
    meter = RateMeter(window_s=5.0)
    assert meter.update(0.0, {Stage.PRODUCED: 0})[Stage.PRODUCED] is None
    assert meter.update(1.0, {Stage.PRODUCED: 5})[Stage.PRODUCED] == 5.0
    rates = meter.update(2.0, {Stage.PRODUCED: 20, Stage.KINESIS: None})
    assert rates[Stage.PRODUCED] == 10.0 and rates[Stage.KINESIS] is None
    for t in range(3, 12):
        rates = meter.update(float(t), {Stage.PRODUCED: 20})
    assert rates[Stage.PRODUCED] == 0.0  # the burst left the 5 s window


def test_drained_needs_every_sink_at_the_expected_count() -> None:
    counts = {Stage.ARCHIVED: 10, Stage.ANALYTICS: 10, Stage.HTTP: 9}
    snapshot = Snapshot(at=0.0, counts=dict(counts))
    assert not snapshot.drained(10)
    snapshot.counts[Stage.HTTP] = 10
    assert snapshot.drained(10)
    assert not Snapshot(at=0.0, counts={s: 0 for s in counts}).drained(0)
    snapshot.counts[Stage.ANALYTICS] = None
    assert not snapshot.drained(10)


def test_drained_counts_only_the_followed_runs_records() -> None:
    """Another producer's records in the sinks neither block nor fake a drain."""
    totals = {Stage.ARCHIVED: 25, Stage.ANALYTICS: 25, Stage.HTTP: 25}
    mine = {Stage.ARCHIVED: 10, Stage.ANALYTICS: 10, Stage.HTTP: 10}
    assert Snapshot(at=0.0, counts=dict(totals), run_counts=dict(mine)).drained(10)
    assert not Snapshot(at=0.0, counts=dict(totals)).drained(10)  # without a run: every record counts
    # the HTTP share is known only after a thorough poll: until then, not drained
    partial = {Stage.ARCHIVED: 10, Stage.ANALYTICS: 10}
    assert not Snapshot(at=0.0, counts={s: 10 for s in totals}, run_counts=partial).drained(10)
