"""The benchmark's arithmetic: percentiles, the longest stall while records wait, RSS slopes."""

from __future__ import annotations

import pytest

from tests.bench.pipeline.measures import Arrival, latency, longest_stall, percentile, slope_per_minute


def test_nearest_rank_percentiles_are_values_that_happened() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50.0, 95.0, 99.0)
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_latency_ignores_records_without_a_write_time() -> None:
    arrivals = [Arrival("a", 1000, 1010), Arrival("b", 1000, 1030), Arrival("r", None, 5000)]
    stats = latency(arrivals)
    assert stats is not None and (stats.count, stats.p50, stats.max) == (2, 10, 30)
    assert latency([Arrival("r", None, 1)]) is None


def test_a_gap_while_a_record_waits_is_a_stall() -> None:
    # b was written at 1.0 s but arrived at 3.0 s; nothing arrived between 1.1 s and 3.0 s
    arrivals = [Arrival("a", 1000, 1100), Arrival("b", 1000, 3000), Arrival("c", 3000, 3010)]
    stall = longest_stall(arrivals)
    assert stall is not None and stall.seconds == pytest.approx(1.9) and stall.at_ms == 1100 and stall.waiting == 1


def test_an_idle_pipeline_is_not_a_stall() -> None:
    # nothing was written between the two arrivals' records: the gap is idle time, not waiting
    arrivals = [Arrival("a", 1000, 1010), Arrival("b", 9000, 9010)]
    stall = longest_stall(arrivals)
    assert stall is not None and stall.seconds == pytest.approx(0.01)


def test_the_wait_starts_when_the_record_is_written_not_at_the_previous_arrival() -> None:
    arrivals = [Arrival("a", 0, 10), Arrival("b", 5000, 7000)]
    stall = longest_stall(arrivals)
    assert stall is not None and stall.seconds == pytest.approx(2.0) and stall.at_ms == 5000


def test_slope_skips_the_first_minute_and_fits_the_rest() -> None:
    samples = [(t, 100.0 + (50.0 if t < 60 else 0.0) + t / 60 * 2.0) for t in range(0, 600, 5)]
    slope = slope_per_minute(samples)
    assert slope == pytest.approx(2.0)
    assert slope_per_minute([(0, 1.0), (70, 2.0)]) is None
