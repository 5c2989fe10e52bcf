"""What the dashboard shows, kept in memory: the latest snapshot, latency over time, clicks over time.

Pure data (no I/O): fed by whoever polls the ``Collector`` (``sandbox dashboard``'s own
loop, or ``sandbox up``'s live view, so one process never polls twice), and by the
collector's ``on_row`` hook with every new consumer A row. Readers get one JSON-able dict.
Bounded memory: a fixed number of latency points and click buckets.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.stats import LATENCY_NOTES, LATENCY_SINKS, Snapshot, Stage

#: Latency points kept (one per refresh: 15 minutes at one a second).
LATENCY_POINTS = 900
#: Clicks are counted per second of their ``ts`` for this long back from the newest (one hour)...
WINDOW_S = 3600
#: ...and drawn in buckets of the first of these sizes that needs at most ``MAX_BARS`` bars.
BUCKET_SIZES_S = (1, 2, 5, 10, 15, 30, 60, 120, 300)
MAX_BARS = 90
#: Pages drawn one by one; the rest are summed as "other".
TOP_PAGES = 8


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ClickSeries:
    """Clicks (INSERT rows) per action and per page over click time (bounded: ``window_s`` seconds)."""

    def __init__(self, window_s: int = WINDOW_S) -> None:
        self.window_s = window_s
        self._actions: dict[int, Counter[str]] = {}  # second -> action -> clicks
        self._pages: dict[int, Counter[str]] = {}
        self.total = 0  # every click seen (also those older than the window)

    def add(self, row: dict[str, Any]) -> None:
        if row.get("event_name") != "INSERT":
            return
        try:
            second = int(float(row["ts"]) // 1000)
        except (KeyError, TypeError, ValueError):
            return
        self.total += 1
        self._actions.setdefault(second, Counter())[str(row.get("action"))] += 1
        self._pages.setdefault(second, Counter())[str(row.get("page"))] += 1
        oldest = max(self._actions) - self.window_s + 1
        for gone in [s for s in self._actions if s < oldest]:
            del self._actions[gone], self._pages[gone]

    def bucket_s(self) -> int:
        """The bar width: the smallest size that draws the seconds held in at most MAX_BARS bars."""
        span = max(self._actions) - min(self._actions) + 1 if self._actions else 1
        return next((size for size in BUCKET_SIZES_S if span / size <= MAX_BARS), BUCKET_SIZES_S[-1])

    def to_json(self) -> dict[str, Any]:
        """Every bucket from the oldest to the newest (empty ones as zeros), per action and page."""
        size = self.bucket_s()
        if not self._actions:
            return {"bucket_s": size, "t": [], "actions": {}, "pages": {}, "total": self.total}
        actions, pages = _rebucket(self._actions, size), _rebucket(self._pages, size)
        starts = list(range(min(actions), max(actions) + 1, size))
        pages_total: Counter[str] = Counter()
        for counts in pages.values():
            pages_total.update(counts)
        top = [page for page, _ in pages_total.most_common(TOP_PAGES)]
        names = sorted({a for counts in actions.values() for a in counts})

        def series(source: dict[int, Counter[str]], name: str) -> list[int]:
            return [source.get(s, Counter())[name] for s in starts]

        by_page = {page: series(pages, page) for page in top}
        if len(pages_total) > len(top):
            by_page["other"] = [sum(v for k, v in pages.get(s, Counter()).items() if k not in top) for s in starts]
        return {
            "bucket_s": size,
            "t": [_iso(s) for s in starts],
            "actions": {a: series(actions, a) for a in names},
            "pages": by_page,
            "total": self.total,
        }


def _rebucket(seconds: dict[int, Counter[str]], size: int) -> dict[int, Counter[str]]:
    buckets: dict[int, Counter[str]] = {}
    for second, counts in seconds.items():
        buckets.setdefault(second // size * size, Counter()).update(counts)
    return buckets


@dataclass(frozen=True)
class LatencyPoint:
    at: float
    values: dict[str, tuple[float, float] | None]  # sink -> (p50, p95) ms


class DashboardState:
    """Thread-safe: the poller writes, the web server's threads read."""

    def __init__(self, header: str = "") -> None:
        self.header = header
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._latency: deque[LatencyPoint] = deque(maxlen=LATENCY_POINTS)
        self.clicks = ClickSeries()

    def add_row(self, row: dict[str, Any]) -> None:
        """The collector's ``on_row`` hook: one new consumer A row."""
        with self._lock:
            self.clicks.add(row)

    def observe(self, snapshot: Snapshot, header: str | None = None) -> None:
        with self._lock:
            self._snapshot = snapshot
            if header is not None:
                self.header = header
            values = {
                sink: (p.p50_ms, p.p95_ms) if (p := snapshot.latency.get(sink)) is not None else None
                for sink in LATENCY_SINKS
            }
            self._latency.append(LatencyPoint(snapshot.at, values))

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            snapshot = self._snapshot
            points = list(self._latency)
            clicks = self.clicks.to_json()
        latency_history = {
            "t": [_iso(p.at) for p in points],
            "sinks": {
                sink: {
                    "p50": [v[0] if (v := p.values.get(sink)) else None for p in points],
                    "p95": [v[1] if (v := p.values.get(sink)) else None for p in points],
                }
                for sink in LATENCY_SINKS
            },
        }
        return {
            "header": self.header,
            "at": _iso(snapshot.at) if snapshot else None,
            "ready": snapshot is not None,
            "stages": stages_json(snapshot),
            "latency": latency_json(snapshot),
            "latency_history": latency_history,
            "clicks": clicks,
            "errors": list(snapshot.errors) if snapshot else [],
            "poll_ms": round(snapshot.poll_seconds * 1000) if snapshot else None,
            "served_at": _iso(time.time()),
        }


def stages_json(snapshot: Snapshot | None) -> list[dict[str, Any]]:
    """The live view's stage rows: key (Stage name), label, count, rate, note."""
    rows = []
    for stage in Stage:
        rate = snapshot.rates.get(stage) if snapshot else None
        rows.append({
            "key": stage.name.lower(),
            "label": stage.value,
            "count": snapshot.counts.get(stage) if snapshot else None,
            "rate": None if rate is None else round(rate, 1),
            "note": snapshot.notes.get(stage, "") if snapshot else "",
        })
    return rows


def latency_json(snapshot: Snapshot | None) -> list[dict[str, Any]]:
    rows = []
    for sink in LATENCY_SINKS:
        summary = snapshot.latency.get(sink) if snapshot else None
        rows.append({
            "sink": sink,
            "p50_ms": None if summary is None else round(summary.p50_ms, 1),
            "p95_ms": None if summary is None else round(summary.p95_ms, 1),
            "samples": 0 if summary is None else summary.samples,
            "measured_as": LATENCY_NOTES[sink],
        })
    return rows
