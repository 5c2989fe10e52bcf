"""Bounded waits: poll until a condition holds or a deadline passes, then fail with the reason.

Nothing in bootstrap sleeps and hopes: every wait names what it waits for, the
last state it saw, and gives up with a BootstrapError at its deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bootstrap.errors import BootstrapError

T = TypeVar("T")

#: A check returns (done, what it saw); "what it saw" ends up in the timeout message.
Check = Callable[[], tuple[bool, str]]


class WaitTimeout(BootstrapError):
    """A resource did not reach the expected state before the deadline."""


@dataclass(frozen=True)
class Timeouts:
    """Deadlines per kind of wait, in seconds (real AWS is slower than a local endpoint)."""

    table: float = 60.0
    stream: float = 60.0
    function: float = 60.0
    mapping: float = 60.0
    iam: float = 20.0
    delete: float = 60.0

    @classmethod
    def for_target(cls, real_aws: bool) -> Timeouts:
        if real_aws:
            return cls(table=600, stream=600, function=300, mapping=300, iam=120, delete=600)
        return cls()


def wait_until(
    check: Check,
    *,
    what: str,
    timeout: float,
    interval: float = 0.05,
    max_interval: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Call ``check`` until it reports done; return its last observation.

    Polls fast at first (local endpoints answer in milliseconds) and backs off to
    ``max_interval`` (real AWS takes seconds to minutes). ``check`` may raise
    BootstrapError for a terminal state (e.g. a function in state Failed).
    """
    deadline = clock() + timeout
    seen = "nothing yet"
    while True:
        done, seen = check()
        if done:
            return seen
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(
                f"timed out after {timeout:g} s waiting for {what} (last seen: {seen})",
                "the service is slow or stuck: check its logs, then re-run (apply resumes)",
            )
        sleep(min(interval, remaining))
        interval = min(interval * 2, max_interval)


def retry_until(
    call: Callable[[], T],
    *,
    retryable: Callable[[Exception], bool],
    timeout: float,
    interval: float = 0.5,
    max_interval: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``call`` until it stops raising a retryable error (e.g. IAM not yet propagated).

    At the deadline the last error is re-raised so the boundary reports AWS's own words.
    """
    deadline = clock() + timeout
    while True:
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - filtered by ``retryable`` right below
            if not retryable(error) or clock() + interval > deadline:
                raise
        sleep(interval)
        interval = min(interval * 2, max_interval)
