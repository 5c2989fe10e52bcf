"""Sending fuzz requests, judging answers, and the bystanders: a well-behaved client and stalled sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.rawhttp import Answer, call

#: Every fuzz request must be answered within this (a 7 MB invoke on a busy 2-core machine included).
REQUEST_DEADLINE = 10.0
#: The bystander's worst acceptable wait for one answer while the fuzzer runs.
BYSTANDER_DEADLINE = 5.0


@dataclass
class Probe:
    """One request, and what the oracle accepts of its answer beyond the rules every answer obeys."""

    label: str
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    accept: Callable[[Answer], str | None] | None = None  # returns a problem, or None when the answer is fine


@dataclass
class Finding:
    index: int
    probe: Probe
    problem: str

    def __str__(self) -> str:
        return (f"#{self.index} {self.probe.label}: {self.probe.method} {self.probe.path[:120]} "
                f"(body {len(self.probe.body)} bytes: {self.probe.body[:80]!r}) -> {self.problem}")


@dataclass
class Tally:
    """What a fuzz run sent and what it found."""

    seed: int
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items()))
        return (f"seed {self.seed}: {self.sent} requests in {self.seconds:.1f} s, {len(self.findings)} findings; "
                f"statuses {codes}")


def run(port: int, probes: Callable[[], Probe | None], judge: Callable[[Probe, Answer], str | None], tally: Tally) -> None:
    """Send every probe (until ``probes`` returns None) and record what breaks the rules."""
    started = time.monotonic()
    while (probe := probes()) is not None:
        tally.sent += 1
        began = time.monotonic()
        try:
            answer = call(port, probe.method, probe.path, probe.body, probe.headers, timeout=REQUEST_DEADLINE)
        except (OSError, ValueError) as error:  # a timeout, a reset, or no HTTP answer at all
            tally.findings.append(Finding(tally.sent, probe, f"no answer: {error!r} after {time.monotonic() - began:.1f} s"))
            continue
        tally.statuses[answer.status] += 1
        problem = judge(probe, answer) or (probe.accept(answer) if probe.accept else None)
        if problem:
            tally.findings.append(Finding(tally.sent, probe, problem))
    tally.seconds = time.monotonic() - started


class Bystander(threading.Thread):
    """A well-behaved client asking ``ask`` in a loop: the fuzzer must never make it wait or fail."""

    def __init__(self, ask: Callable[[], bool]) -> None:
        super().__init__(daemon=True, name="bystander")
        self.ask = ask
        self.answered = 0
        self.failures: list[str] = []
        self.slowest = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            began = time.monotonic()
            try:
                ok = self.ask()
            except Exception as error:  # noqa: BLE001 - botocore's errors too: any of them fails the bystander
                ok, error_text = False, repr(error)
            else:
                error_text = "a wrong answer"
            took = time.monotonic() - began
            self.slowest = max(self.slowest, took)
            if ok and took <= BYSTANDER_DEADLINE:
                self.answered += 1
            else:
                self.failures.append(f"{error_text} after {took:.2f} s")
            self._stop_event.wait(0.02)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=BYSTANDER_DEADLINE * 2)


def half_requests(path: str) -> tuple[bytes, ...]:
    """Ways to stall mid-request on ``path``: in the request line, in the headers, in a promised body."""
    return (
        f"POST {path[:-3]}".encode(),
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Le".encode(),
        f"POST {path} HTTP/1.1\r\nHost: x\r\nIdempotency-Key: slow\r\nContent-Length: 900\r\n\r\n{{\"a\"".encode(),
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n".encode(),
        b"",  # connected, never a byte
    )


def hold_half_open(port: int, paths: tuple[str, ...], count: int) -> list[socket.socket]:
    """Open ``count`` connections that each send part of a request to one of ``paths`` and stall
    (the caller closes them)."""
    stalls = [stall for path in paths for stall in half_requests(path)]
    sockets = []
    for i in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(stalls[i % len(stalls)])
        sockets.append(sock)
    return sockets


def still_open(sockets: list[socket.socket]) -> int:
    """How many of the stalled connections the server still holds (not closed, nothing answered)."""
    held = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            sock.recv(1, socket.MSG_PEEK)  # data (an answer) or b"" (closed): no longer held
        except BlockingIOError:
            held += 1  # nothing to read and not closed: still waiting for the rest of our request
        except OSError:
            pass
        finally:
            sock.setblocking(True)
    return held
