"""The one retry policy of the functions: bounded exponential backoff with jitter.

Bounded because a stream batch blocks its shard while the function runs: after a
few attempts the record is better handed back to the event source mapping (batch
item failure), whose own retries, bisection and on-failure queue take over.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

#: Replaced by tests to record delays instead of waiting them out.
sleep: Callable[[float], None] = time.sleep


def delays(attempts: int, base: float, cap: float) -> Iterator[float]:
    """The waits between ``attempts`` tries: base, 2*base, 4*base... capped at ``cap``.

    "Equal jitter": half of each step is fixed, half random, so concurrent
    invocations spread out but every wait is at least half its step.
    """
    for retry in range(attempts - 1):
        step = min(cap, base * (2**retry))
        yield step / 2 + random.uniform(0, step / 2)
