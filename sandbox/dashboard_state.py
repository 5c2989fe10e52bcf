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
#: Clicks are counted in buckets of this many seconds of their ``ts``...
BUCKET_S = 10
#: ...for this many buckets back from the newest (one hour).
BUCKETS = 360
#: Pages drawn one by one; the rest are summed as "other".
TOP_PAGES = 8


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ClickSeries:
    """Clicks (INSERT rows) per action and per page, per ``BUCKET_S`` of click time."""

    def __init__(self, bucket_s: int = BUCKET_S, buckets: int = BUCKETS) -> None:
        self.bucket_s = bucket_s
        self.buckets = buckets
        self._actions: dict[int, Counter[str]] = {}
        self._pages: dict[int, Counter[str]] = {}
        self.total = 0  # every click seen (also those older than the window)

    def add(self, row: dict[str, Any]) -> None:
        if row.get("event_name") != "INSERT":
            return
        try:
            start = int(float(row["ts"]) / 1000) // self.bucket_s * self.bucket_s
        except (KeyError, TypeError, ValueError):
            return
        self.total += 1
        self._actions.setdefault(start, Counter())[str(row.get("action"))] += 1
        self._pages.setdefault(start, Counter())[str(row.get("page"))] += 1
        oldest = max(self._actions) - self.bucket_s * (self.buckets - 1)
        for gone in [b for b in self._actions if b < oldest]:
            del self._actions[gone], self._pages[gone]

    def to_json(self) -> dict[str, Any]:
        """Every bucket from the oldest to the newest (empty ones as zeros), per action and page."""
        if not self._actions:
            return {"bucket_s": self.bucket_s, "t": [], "actions": {}, "pages": {}, "total": self.total}
        starts = list(range(min(self._actions), max(self._actions) + 1, self.bucket_s))
        pages_total: Counter[str] = Counter()
        for counts in self._pages.values():
            pages_total.update(counts)
        top = [page for page, _ in pages_total.most_common(TOP_PAGES)]
        actions = sorted({a for counts in self._actions.values() for a in counts})

        def series(source: dict[int, Counter[str]], name: str) -> list[int]:
            return [source.get(s, Counter())[name] for s in starts]

        pages = {page: series(self._pages, page) for page in top}
        if len(pages_total) > len(top):
            pages["other"] = [sum(v for k, v in self._pages.get(s, Counter()).items() if k not in top) for s in starts]
        return {
            "bucket_s": self.bucket_s,
            "t": [_iso(s) for s in starts],
            "actions": {a: series(self._actions, a) for a in actions},
            "pages": pages,
            "total": self.total,
        }


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
