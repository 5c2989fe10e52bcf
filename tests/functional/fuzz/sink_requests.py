"""Fuzz probes for the HTTP sink's endpoints (sandbox/httpsink.py), with an oracle that knows its faults."""

from __future__ import annotations

import json
import random
from typing import Any

from tests.functional.fuzz.harness import Probe
from tests.functional.fuzz.junk import SHORT_STRINGS, Junk
from tests.rawhttp import Answer

PATHS = ("/deliveries", "/faults", "/stats", "/health")
#: Latency faults above this would only make the run slow (they are honoured, by design).
MAX_FUZZ_LATENCY_MS = 20


class SinkProbes:
    """A fixed number of probes; remembers the faults the sink last confirmed, for the oracle."""

    def __init__(self, rng: random.Random, budget: int) -> None:
        self.rng = rng
        self.junk = Junk(rng)
        self.budget = budget
        self.count = 0
        self.faults: dict[str, Any] = {"fail_ratio": 0.0, "latency_ms": 0, "status": 503}

    def __call__(self) -> Probe | None:
        if self.count >= self.budget:
            return None
        self.count += 1
        roll = self.rng.random()
        if roll < 0.55:
            return self.delivery()
        if roll < 0.65:
            return self.set_faults()
        if roll < 0.67:
            return Probe("reset", "DELETE", "/deliveries")
        if roll < 0.9:
            path = self.rng.choice(PATHS) + self.rng.choice(("", "/", "?x=1", "/../health", "%00"))
            return Probe("read", "GET", path)
        method = self.rng.choice(("PUT", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "GET", "POST"))
        path = self.rng.choice(PATHS + ("/", "/nope", "//deliveries", "/deliveries/../../etc/passwd", "/" + "a" * 5000))
        return Probe("other", method, path, self.junk.body({"a": 1}) if method in ("PUT", "POST", "PATCH") else b"")

    def delivery(self) -> Probe:
        document = {"event_id": f"e{self.count}", "uuid": "u", "ts": 1, "event_name": "INSERT"}
        body = json.dumps(document).encode() if self.rng.random() < 0.3 else self.junk.body(document)
        choice = self.rng.randrange(8)
        headers = {"Content-Type": "application/json"}
        if choice < 4:
            headers["Idempotency-Key"] = f"k{self.rng.randrange(300)}"  # repeats: duplicates too
        elif choice < 7:
            headers["Idempotency-Key"] = self.rng.choice(SHORT_STRINGS).replace("\r\n", "").encode("utf-8", "replace").decode("latin-1")
        if self.rng.random() < 0.05:
            headers["Content-Length"] = self.rng.choice(("-1", "abc", "99999999999", "1048577"))
        if self.rng.random() < 0.03:
            headers["Transfer-Encoding"] = "chunked"
        return Probe("POST /deliveries", "POST", "/deliveries", body, headers, accept=self._delivery_answer)

    def set_faults(self) -> Probe:
        body = self.junk.body({"fail_ratio": 0.3, "latency_ms": 0, "status": 503})
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            document = None
        if isinstance(document, dict) and isinstance(document.get("latency_ms"), int) and document["latency_ms"] > MAX_FUZZ_LATENCY_MS:
            document["latency_ms"] = self.rng.randrange(MAX_FUZZ_LATENCY_MS + 1)
            body = json.dumps(document).encode()
        return Probe("POST /faults", "POST", "/faults", body, accept=self._faults_answer)

    # --- the oracle's memory ----------------------------------------------------------
    def _faults_answer(self, answer: Answer) -> str | None:
        if answer.status == 200:
            self.faults = answer.json()
        elif answer.status != 400:
            return f"POST /faults answered {answer.status}"
        return None

    def _delivery_answer(self, answer: Answer) -> str | None:
        if answer.status >= 500 or answer.status == 429:
            injected = self.faults["fail_ratio"] > 0 and answer.status == self.faults["status"]
            if not injected or answer.json() != {"error": "injected fault"} or answer.headers.get("retry-after") != "0":
                return f"{answer.status} that is no injected fault (faults {self.faults}): {answer.body[:200]!r}"
        elif answer.status not in (200, 201, 400):
            return f"POST /deliveries answered {answer.status}"
        return None


def judge(probe: Probe, answer: Answer) -> str | None:
    """The rules every sink answer obeys: JSON, and 5xx only as an injected fault (checked by the probe)."""
    if answer.status >= 500 and probe.label != "POST /deliveries":
        return f"{answer.status}: {answer.body[:200]!r}"
    if answer.headers.get("content-type") != "application/json":
        return f"{answer.status} with Content-Type {answer.headers.get('content-type')!r}"
    if probe.method == "HEAD":
        return None
    try:
        json.loads(answer.body)
    except ValueError:
        return f"{answer.status} with a body that is not JSON: {answer.body[:200]!r}"
    return None
