"""A token bucket that paces writes to a target rate.

Each write takes a token; tokens refill continuously at ``rate`` per second up to
``burst``. The bucket starts with one token, so even a short run never beats the
rate. A caller ahead of schedule sleeps exactly its debt; one that fell behind (a
slow request) may catch up by at most ``burst`` writes, so the long-run rate stays
at ``rate`` without a thundering catch-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Blocking pacer: ``acquire()`` returns when the caller may do one more write."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate < 0:
            raise ValueError("rate must be >= 0 (0 = unlimited)")
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = 1.0
        self._last = clock()
        self.waited = 0.0  #: total seconds spent sleeping (for the run summary)

    @property
    def unlimited(self) -> bool:
        return self.rate == 0

    def acquire(self, tokens: float = 1.0) -> float:
        """Take ``tokens``; sleep until they are paid for. Returns the seconds slept."""
        if self.unlimited:
            return 0.0
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= tokens
        if self._tokens >= 0:
            return 0.0
        # In debt: sleep until the refill covers it. The refill during the sleep is
        # accounted for on the next call (``_last`` stays at ``now``).
        delay = -self._tokens / self.rate
        self._sleep(delay)
        self.waited += delay
        return delay


#: A paced run more than this far below its asked rate says so (while running and in its summary).
SHORTFALL_TOLERANCE = 0.05
#: Too early to judge before this: the first writes wait for the bucket and the connection.
SHORTFALL_MIN_SECONDS = 2.0


def shortfall(achieved: float, asked: float, elapsed_s: float) -> str | None:
    """``below the asked rate: 254 of 1,000 writes/s (25 %)`` when a paced run falls short, else None.

    The pacer only ever slows a run down: a shortfall means the writes themselves (the
    endpoint, the machine) cannot go faster, which a user asking for a rate must be told.
    """
    if asked <= 0 or elapsed_s < SHORTFALL_MIN_SECONDS or achieved >= asked * (1 - SHORTFALL_TOLERANCE):
        return None
    return f"below the asked rate: {achieved:,.0f} of {asked:,.0f} writes/s ({100 * achieved / asked:.0f} %)"

