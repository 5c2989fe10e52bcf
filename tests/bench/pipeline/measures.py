"""Pure arithmetic over arrival records: percentiles, stalls, growth slopes (unit-tested)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Arrival:
    """One record's first arrival at one sink: when it was written (if known) and when it landed."""

    event_id: str
    written_ms: float | None  # the click's ``ts`` (INSERT/MODIFY); a REMOVE carries none
    arrived_ms: float


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: every figure is a latency that happened)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil(n * fraction), at least 1
    return ordered[int(rank) - 1]


@dataclass(frozen=True)
class Latency:
    count: int
    p50: float
    p95: float
    p99: float
    max: float


def latency(arrivals: Sequence[Arrival]) -> Latency | None:
    """Arrival minus write time over the records whose write time is known, in ms."""
    values = [a.arrived_ms - a.written_ms for a in arrivals if a.written_ms is not None]
    if not values:
        return None
    return Latency(len(values), percentile(values, 0.50), percentile(values, 0.95), percentile(values, 0.99), max(values))


@dataclass(frozen=True)
class Stall:
    seconds: float
    at_ms: float  # when the sink stopped moving
    waiting: int  # records written before the stall ended that had not arrived when it began


def longest_stall(arrivals: Sequence[Arrival]) -> Stall | None:
    """The longest time the sink received nothing while at least one written record waited for it.

    For each gap between two consecutive arrivals, the wait starts at the later of the
    gap's start and the earliest write among the records still to arrive; a gap with
    nothing written yet (an idle pipeline) is not a stall.
    """
    ordered = sorted(arrivals, key=lambda a: a.arrived_ms)
    if len(ordered) < 2:
        return None
    # suffix_min[i]: the earliest known write time among ordered[i:]
    suffix_min: list[float] = [float("inf")] * (len(ordered) + 1)
    for i in range(len(ordered) - 1, -1, -1):
        written = ordered[i].written_ms
        suffix_min[i] = min(suffix_min[i + 1], written if written is not None else float("inf"))
    best: Stall | None = None
    for i in range(len(ordered) - 1):
        begin = max(ordered[i].arrived_ms, suffix_min[i + 1])
        end = ordered[i + 1].arrived_ms
        if end - begin > 0 and (best is None or end - begin > best.seconds * 1000):
            waiting = sum(1 for a in ordered[i + 1 :] if a.written_ms is not None and a.written_ms < end)
            best = Stall((end - begin) / 1000, begin, waiting)
    return best


def slope_per_minute(samples: Sequence[tuple[float, float]], skip_s: float = 60.0) -> float | None:
    """Least-squares slope of (seconds, value) samples after the first ``skip_s``, per minute."""
    points = [(t, v) for t, v in samples if t >= skip_s]
    if len(points) < 3:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var * 60.0
