"""The token bucket, on a fake clock: exact pacing, bounded catch-up, no pacing at rate 0."""

from __future__ import annotations

import pytest

from producer.pacer import TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_paces_to_the_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(10, clock=t.clock, sleep=t.sleep)
    for _ in range(51):
        bucket.acquire()
    # the first write is free, the other 50 cost 0.1 s each
    assert t.now - 100.0 == pytest.approx(5.0)
    assert bucket.waited == pytest.approx(5.0)


def test_short_run_never_beats_the_rate_even_with_a_large_burst() -> None:
    t = FakeTime()
    bucket = TokenBucket(100, burst=25, clock=t.clock, sleep=t.sleep)
    for _ in range(26):
        bucket.acquire()
    assert t.now - 100.0 == pytest.approx(0.25)


def test_catch_up_after_a_stall_is_bounded_by_burst() -> None:
    t = FakeTime()
    bucket = TokenBucket(10, burst=5, clock=t.clock, sleep=t.sleep)
    bucket.acquire()
    t.now += 60.0  # a very slow request: 600 tokens' worth of time
    before = t.now
    for _ in range(5):
        bucket.acquire()  # the burst: no sleeping
    assert t.now == before
    bucket.acquire()
    assert t.now - before == pytest.approx(0.1)  # then back to the rate


def test_oversleeping_is_paid_back() -> None:
    t = FakeTime()

    def lazy_sleep(seconds: float) -> None:  # the OS wakes us 50% late
        t.sleep(seconds * 1.5)

    bucket = TokenBucket(10, burst=2, clock=t.clock, sleep=lazy_sleep)
    for _ in range(101):
        bucket.acquire()
    assert t.now - 100.0 == pytest.approx(10.0, rel=0.06)


def test_rate_zero_is_unlimited() -> None:
    t = FakeTime()
    bucket = TokenBucket(0, clock=t.clock, sleep=t.sleep)
    for _ in range(1000):
        assert bucket.acquire() == 0.0
    assert t.slept == []


def test_negative_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenBucket(-1)
