"""A write wakes only the pollers of its own shard; stopping wakes every poller."""

from __future__ import annotations

import threading
import time

from emulator.change_signal import ChangeSignal


def _waiter(signal: ChangeSignal, key: str, timeout: float) -> tuple[threading.Thread, list[int]]:
    seen = signal.generation(key)
    out: list[int] = []
    thread = threading.Thread(target=lambda: out.append(signal.wait(key, seen, timeout)))
    thread.start()
    return thread, out


def test_a_notify_wakes_the_waiters_of_its_shard_only() -> None:
    signal = ChangeSignal()
    mine, woke = _waiter(signal, "shard-a", timeout=10)
    other, slept = _waiter(signal, "shard-b", timeout=0.5)
    began = time.monotonic()
    signal.notify("shard-a")
    mine.join(5)
    assert woke == [1] and time.monotonic() - began < 5
    other.join(5)
    assert slept == [0], "shard-b's waiter timed out unchanged"


def test_a_notify_without_a_shard_wakes_everyone() -> None:
    signal = ChangeSignal()
    waiters = [_waiter(signal, key, timeout=10) for key in ("a", "b")]
    began = time.monotonic()
    signal.notify()
    for thread, out in waiters:
        thread.join(5)
        assert out == [1]
    assert time.monotonic() - began < 5
