"""The HTTP sink's state: deliveries recorded once per Idempotency-Key, counters, faults.

Pure logic behind one lock, no HTTP: sandbox/httpsink.py only translates
requests to these calls, so this part is unit-testable without sockets.

Memory stays small for a sink that runs for days: idempotency needs every key, for as long
as the sink runs, but not every body in the heap. Each delivery's row, its whole body
included, goes to disk as it is recorded (sandbox/httpsink_spill.py); the heap keeps its key
and where its line is, about 170 bytes (docs/bench.md: the newest 10,000 bodies used to
stay in the heap). A key delivered again rewrites its row with one more attempt: retries
are rare, and the file is only appended to. The latency percentiles cover the newest
``LATENCY_WINDOW`` deliveries.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from sandbox.httpsink_journal import Journal
from sandbox.httpsink_spill import Spill

MAX_KEY_LENGTH = 256
#: Records one POST /deliveries/batch may carry (consumer B's HTTP_BATCH_SIZE is at most this).
MAX_BATCH_RECORDS = 500
#: Deliveries the latency percentiles cover (the newest).
LATENCY_WINDOW = 10_000
#: Statuses a fault may answer with (consumer B retries 5xx and 429).
FAULT_STATUSES = frozenset({429, 500, 502, 503, 504})


class Outcome(StrEnum):
    CREATED = "created"  # first successful delivery of this key
    DUPLICATE = "duplicate"  # key already recorded: counted, not recorded again
    FAULTED = "faulted"  # an injected failure: nothing recorded, the sender should retry
    REJECTED = "rejected"  # junk: no key, not JSON, not an object


class JunkError(ValueError):
    """The request is not a delivery (answered with 400 and this message)."""


@dataclass
class Delivery:
    key: str
    received_at: int  # epoch ms of the recorded (first successful) request
    attempts: int  # requests seen for this key, including faulted and duplicate ones
    body: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "received_at": self.received_at, "attempts": self.attempts, "body": dict(self.body)}


@dataclass(frozen=True)
class Faults:
    """Fail a share of deliveries with ``status`` and/or delay every delivery."""

    fail_ratio: float = 0.0
    latency_ms: int = 0
    status: int = 503

    @classmethod
    def parse(cls, data: Any, current: Faults | None = None) -> Faults:
        """Validate a /faults body; fields left out keep their current value."""
        if not isinstance(data, dict):
            raise JunkError("faults must be a JSON object")
        unknown = set(data) - {"fail_ratio", "latency_ms", "status"}
        if unknown:
            raise JunkError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        base = current or cls()
        ratio = data.get("fail_ratio", base.fail_ratio)
        latency = data.get("latency_ms", base.latency_ms)
        status = data.get("status", base.status)
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio <= 1:
            raise JunkError("fail_ratio must be a number between 0 and 1")
        if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency <= 60_000:
            raise JunkError("latency_ms must be a whole number between 0 and 60000")
        if isinstance(status, bool) or not isinstance(status, int) or status not in FAULT_STATUSES:  # 503.0 == 503
            raise JunkError(f"status must be one of {sorted(FAULT_STATUSES)}")
        return cls(fail_ratio=float(ratio), latency_ms=latency, status=status)


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one batch request: ``recorded`` leading records are held (new or before)."""

    outcome: Outcome  # CREATED: all held; FAULTED: none, retry; REJECTED: junk at record ``recorded``
    recorded: int
    created: int = 0
    duplicates: int = 0
    message: str = ""


@dataclass
class _Counters:
    requests: int = 0
    created: int = 0
    duplicates: int = 0
    faulted: int = 0
    rejected: int = 0


@dataclass
class SinkState:
    """Thread-safe store of deliveries. Fault injection is deterministic: exactly
    ``floor(n * fail_ratio)`` of the first n valid requests fail, evenly spread."""

    clock: Callable[[], float] = time.time
    faults: Faults = field(default_factory=Faults)
    latency_window: int = LATENCY_WINDOW
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _by_key: dict[str, int] = field(default_factory=dict, repr=False)  # where each key's row is, in arrival order
    _spill: Spill = field(default_factory=Spill, repr=False)
    _latencies: deque[float] = field(init=False, repr=False)
    _failed_attempts: dict[str, int] = field(default_factory=dict, repr=False)
    _counters: _Counters = field(default_factory=_Counters, repr=False)
    _valid_seen: int = 0
    _journal: Journal | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._latencies = deque(maxlen=self.latency_window)

    def deliver(self, key: str | None, raw_body: bytes) -> tuple[Outcome, Delivery | None, str]:
        """Handle one POST /deliveries; returns the outcome, the delivery and a message."""
        try:
            body = self._parse(key, raw_body)
        except JunkError as error:
            with self._lock:
                self._counters.requests += 1
                self._counters.rejected += 1
            return Outcome.REJECTED, None, str(error)
        assert key is not None
        key = key.strip()
        with self._lock:
            self._counters.requests += 1
            existing = self._by_key.get(key)
            if existing is not None:
                self._counters.duplicates += 1
                return Outcome.DUPLICATE, self._attempted_again(key, existing), "already recorded"
            if self._faulted([key]):
                return Outcome.FAULTED, None, "injected fault"
            delivery = Delivery(
                key=key,
                received_at=int(self.clock() * 1000),
                attempts=self._failed_attempts.pop(key, 0) + 1,
                body=body,
            )
            if self._journal is not None:  # before the 201: an acknowledged delivery survives a kill
                self._journal.append({"delivery": delivery.as_dict()})
            self._add(delivery)
            return Outcome.CREATED, delivery, "recorded"

    def deliver_batch(self, raw_body: bytes) -> BatchOutcome:
        """Handle one POST /deliveries/batch: its records in order, each as ``deliver`` would,
        up to the first junk one; an injected fault fails the whole request (one draw of the
        fault ratio per request that carries a new key, so a flaky sink fails requests as a real one does)."""
        try:
            entries = self._parse_batch(raw_body)
        except JunkError as error:
            with self._lock:
                self._counters.requests += 1
                self._counters.rejected += 1
            return BatchOutcome(Outcome.REJECTED, 0, message=str(error))
        valid: list[tuple[str, dict[str, Any]]] = []
        junk: str | None = None
        for position, entry in enumerate(entries):
            try:
                valid.append(self._parse_entry(entry))
            except JunkError as error:
                junk = f"record {position}: {error}"
                break
        with self._lock:
            self._counters.requests += 1
            new = [key for key, _ in valid if key not in self._by_key]
            if new and self._faulted(new):
                return BatchOutcome(Outcome.FAULTED, 0, message="injected fault")
            received_at = int(self.clock() * 1000)
            created: dict[str, Delivery] = {}  # a key twice in one batch: the second is a duplicate
            repeated: list[str] = []
            for key, body in valid:
                if key in self._by_key or key in created:
                    repeated.append(key)
                else:
                    created[key] = Delivery(key, received_at, self._failed_attempts.get(key, 0) + 1, body)
            if self._journal is not None:  # before the answer: acknowledged deliveries survive a kill
                self._journal.append_many([{"delivery": d.as_dict()} for d in created.values()])
            for delivery in created.values():
                self._failed_attempts.pop(delivery.key, None)
                self._add(delivery)
            for key in repeated:
                self._attempted_again(key, self._by_key[key])
            duplicates = len(repeated)
            self._counters.duplicates += duplicates
            held = len(valid)
            if junk is not None:
                self._counters.rejected += 1
                return BatchOutcome(Outcome.REJECTED, held, len(created), duplicates, junk)
            return BatchOutcome(Outcome.CREATED, held, len(created), duplicates, f"{held} recorded")

    def _faulted(self, keys: list[str]) -> bool:
        """Whether this request (carrying the new ``keys``) gets the injected fault: one draw
        of the ratio, and a failed attempt counted for each key (the lock held)."""
        n, ratio = self._valid_seen, self.faults.fail_ratio
        self._valid_seen += 1
        if math.floor((n + 1) * ratio) <= math.floor(n * ratio):
            return False
        for key in dict.fromkeys(keys):
            self._failed_attempts[key] = self._failed_attempts.get(key, 0) + 1
        self._counters.faulted += 1
        return True

    def _add(self, delivery: Delivery) -> None:
        """Record a new delivery, its row to disk (the lock held)."""
        self._by_key[delivery.key] = self._spill.write(delivery.as_dict())
        self._counters.created += 1
        latency = _latency_ms(delivery)
        if latency is not None:
            self._latencies.append(latency)

    def _attempted_again(self, key: str, location: int) -> Delivery:
        """Count one more attempt of a recorded key (the lock held): its row is written anew."""
        row = self._spill.read(location)
        row["attempts"] += 1
        self._by_key[key] = self._spill.write(row)
        return _delivery(row)

    def _row(self, key: str) -> dict[str, Any]:
        return self._spill.read(self._by_key[key])

    # --- persistence: sandbox/httpsink_journal.py ---------------------------------
    def keep_in(self, journal: Journal) -> int:
        """Replay ``journal`` (deliveries, faults, resets), then record every change in it; returns
        the deliveries restored. Counters of faulted and duplicate requests start from zero, and a
        delivery's ``attempts`` are those up to its recorded request (later duplicates are not journaled)."""
        with self._lock:
            for entry in journal.replay():
                if "delivery" in entry:
                    data = entry["delivery"]
                    if data.get("key") not in self._by_key:
                        self._add(_delivery(data))
                elif "faults" in entry:
                    self.faults = Faults.parse(entry["faults"])
                elif entry.get("reset"):
                    self._forget()
            self._counters.requests = self._counters.created
            journal.open()
            self._journal = journal
            return len(self._by_key)

    def close(self) -> None:
        """Stop journaling (the sink has stopped)."""
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    def set_faults(self, data: Any) -> Faults:
        with self._lock:
            self.faults = Faults.parse(data, self.faults)
            self._valid_seen = 0  # a new ratio applies from the next request on
            if self._journal is not None:  # a fault scenario goes on across a restart
                self._journal.append({"faults": asdict(self.faults)})
            return self.faults

    def deliveries(self) -> list[dict[str, Any]]:
        """Deliveries in arrival order (copies, safe to change)."""
        rows: list[dict[str, Any]] = json.loads(self.deliveries_json())
        return rows

    def deliveries_json(self) -> bytes:
        """Deliveries in arrival order as a JSON array: the rows' lines as they are on disk, cut
        from one read of the file (the read under the lock, the cutting outside it)."""
        with self._lock:
            contents = self._spill.contents()
            locations = list(self._by_key.values())  # a key's row rewritten keeps its place
        return b"[" + b",".join(Spill.slice(contents, location) for location in locations) + b"]"

    def stats(self) -> dict[str, Any]:
        """Counters and latency percentiles; the window is copied under the lock, sorted outside it."""
        with self._lock:
            latencies = list(self._latencies)
            stats = {
                "deliveries": len(self._by_key),
                **asdict(self._counters),
                "first_received_at": self._row(next(iter(self._by_key)))["received_at"] if self._by_key else None,
                "last_received_at": self._row(next(reversed(self._by_key)))["received_at"] if self._by_key else None,
                "faults": asdict(self.faults),
            }
        stats["latency_ms"] = _percentiles(sorted(latencies))
        return stats

    def reset(self) -> None:
        """Forget deliveries and counters (faults stay as configured)."""
        with self._lock:
            if self._journal is not None:
                self._journal.append({"reset": True})
            self._forget()

    def _forget(self) -> None:
        """Drop every delivery and counter (the lock held)."""
        self._by_key.clear()
        self._spill.clear()
        self._latencies.clear()
        self._failed_attempts.clear()
        self._counters = _Counters()
        self._valid_seen = 0

    @staticmethod
    def _parse_batch(raw_body: bytes) -> list[Any]:
        document = _json(raw_body)
        records = document.get("records") if isinstance(document, dict) else None
        if not isinstance(records, list) or not records:
            raise JunkError('body must be {"records": [{"key": …, "body": {…}}, …]} with at least one record')
        if len(records) > MAX_BATCH_RECORDS:
            raise JunkError(f"at most {MAX_BATCH_RECORDS} records per batch, not {len(records)}")
        return records

    @staticmethod
    def _parse_entry(entry: Any) -> tuple[str, dict[str, Any]]:
        if not isinstance(entry, dict):
            raise JunkError('must be an object {"key": …, "body": {…}}')
        key = entry.get("key")
        if key is None:
            raise JunkError("missing key")
        if not isinstance(key, str) or not key.strip():
            raise JunkError("key must be a non-empty string")
        if len(key) > MAX_KEY_LENGTH:
            raise JunkError(f"key longer than {MAX_KEY_LENGTH} characters")
        body = entry.get("body")
        if not isinstance(body, dict):
            raise JunkError("body must be a JSON object")
        return key.strip(), body

    @staticmethod
    def _parse(key: str | None, raw_body: bytes) -> dict[str, Any]:
        if key is None or not key.strip():
            raise JunkError("missing Idempotency-Key header")
        if len(key) > MAX_KEY_LENGTH:
            raise JunkError(f"Idempotency-Key longer than {MAX_KEY_LENGTH} characters")
        body = _json(raw_body)
        if not isinstance(body, dict):
            raise JunkError("body must be a JSON object")
        return body


def _delivery(row: dict[str, Any]) -> Delivery:
    """A delivery from its row (``Delivery.as_dict``: the journal's, the spill's)."""
    return Delivery(row["key"], int(row["received_at"]), int(row["attempts"]), dict(row["body"]))


def _json(raw_body: bytes) -> Any:
    """A request body's JSON, or JunkError."""
    try:
        return json.loads(raw_body)
    except (ValueError, RecursionError):  # RecursionError: nested past the parser
        raise JunkError("body is not JSON") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _latency_ms(delivery: Delivery) -> float | None:
    """End-to-end latency: receive time minus the click's write ts.

    REMOVE rows are left out: their ts is the deleted item's last write, not the delete.
    """
    ts = delivery.body.get("ts")
    if not _is_number(ts) or delivery.body.get("event_name") == "REMOVE":
        return None
    return delivery.received_at - ts


def _percentiles(sorted_values: list[float]) -> dict[str, float | int | None]:
    """Nearest-rank percentiles of the latency window."""
    if not sorted_values:
        return {"count": 0, "p50": None, "p95": None, "max": None}

    def rank(p: float) -> float:
        return sorted_values[max(0, math.ceil(p * len(sorted_values)) - 1)]

    return {
        "count": len(sorted_values),
        "p50": rank(0.50),
        "p95": rank(0.95),
        "max": sorted_values[-1],
    }
