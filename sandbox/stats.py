"""What the live view shows: per-stage counts, their rates, latency percentiles, errors.

Pure data and arithmetic (no I/O), so the view and the drain logic are easy to test.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from sandbox.httpsink_state import LATENCY_WINDOW


class Stage(StrEnum):
    """The pipeline's stages in flow order; the values are the view's labels."""

    PRODUCED = "produced (stream records)"
    TABLE_ITEMS = "table items"
    STREAM_RECORDS = "stream records"
    ARCHIVED = "archived records (data lake)"
    KINESIS = "Kinesis records"
    ANALYTICS = "consumer A rows (analytics)"
    HTTP = "consumer B deliveries (HTTP)"
    FAILED_BATCHES = "failed batches (SQS)"


#: Stages that end in a sink: the ones that must equal the produced count once drained.
SINK_STAGES: tuple[Stage, ...] = (Stage.ARCHIVED, Stage.ANALYTICS, Stage.HTTP)
#: Latency rows of the view (sink label -> stage) and how each is measured.
LATENCY_SINKS: dict[str, Stage] = {
    "data lake": Stage.ARCHIVED,
    "consumer A": Stage.ANALYTICS,
    "consumer B": Stage.HTTP,
}
LATENCY_NOTES: dict[str, str] = {
    "data lake": "archive's write time (object metadata) - ts",
    "consumer A": "row processed_at - ts (last 2000 rows)",
    "consumer B": f"sink received_at - ts (last {LATENCY_WINDOW} deliveries)",
}


@dataclass(frozen=True)
class Percentiles:
    p50_ms: float
    p95_ms: float
    samples: int


def percentiles(values: list[float]) -> Percentiles | None:
    """Nearest-rank p50/p95; None without samples."""
    if not values:
        return None
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return Percentiles(rank(50), rank(95), len(ordered))


class LatencyWindow:
    """The most recent end-to-end latencies of one sink (bounded memory)."""

    def __init__(self, size: int = 2000) -> None:
        self._values: deque[float] = deque(maxlen=size)

    def add(self, latency_ms: float) -> None:
        if latency_ms >= 0:
            self._values.append(latency_ms)

    def summary(self) -> Percentiles | None:
        return percentiles(list(self._values))


@dataclass
class Snapshot:
    """One refresh of the view."""

    at: float
    counts: dict[Stage, int | None]  # None: not measurable here (the note says why)
    notes: dict[Stage, str] = field(default_factory=dict)
    rates: dict[Stage, float | None] = field(default_factory=dict)
    latency: dict[str, Percentiles | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    poll_seconds: float = 0.0
    #: One run's records per sink (when the collector follows a run): records carrying its
    #: run_id, plus those that carry none (a KEYS_ONLY stream). None: all records count.
    run_counts: dict[Stage, int | None] | None = None

    def count(self, stage: Stage) -> int:
        return self.counts.get(stage) or 0

    def sink_counts(self) -> dict[Stage, int | None]:
        """What the drain compares: the followed run's records per sink, else every record."""
        source = self.counts if self.run_counts is None else self.run_counts
        return {stage: source.get(stage) for stage in SINK_STAGES}

    def drained(self, expected: int) -> bool:
        """Every sink holds exactly ``expected`` records (of the followed run; and something was produced)."""
        return expected > 0 and all(value == expected for value in self.sink_counts().values())


class RateMeter:
    """Per-stage rates over a sliding window of recent snapshots."""

    def __init__(self, window_s: float = 5.0) -> None:
        self._window = window_s
        self._history: deque[tuple[float, dict[Stage, int | None]]] = deque()

    def update(self, at: float, counts: dict[Stage, int | None]) -> dict[Stage, float | None]:
        self._history.append((at, dict(counts)))
        while len(self._history) > 2 and at - self._history[1][0] >= self._window:
            self._history.popleft()
        then, old = self._history[0]
        elapsed = at - then
        rates: dict[Stage, float | None] = {}
        for stage, value in counts.items():
            before = old.get(stage)
            if elapsed <= 0 or value is None or before is None:
                rates[stage] = None
            else:
                rates[stage] = max(0.0, (value - before) / elapsed)
        return rates


def now_ms() -> float:
    return time.time() * 1000.0
