"""Wakes pollers when moto stored a new record in their shard, instead of busy polling."""

from __future__ import annotations

import threading


class _Channel:
    __slots__ = ("cond", "generation")

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.generation = 0


class ChangeSignal:
    """One wake-up channel per shard id.

    A write wakes only the pollers of the shard it landed in. With one channel for
    everything, every DynamoDB write woke the Kinesis pollers too (and every Kinesis put the
    stream pollers), and each woken poller read its empty shard under moto's lock.
    Shard ids repeat across streams (moto gives every table's stream the same one), so a
    channel may wake a poller of another stream: harmless, it reads and waits again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[str, _Channel] = {}

    def _channel(self, key: str) -> _Channel:
        channel = self._channels.get(key)
        if channel is None:
            with self._lock:
                channel = self._channels.setdefault(key, _Channel())
        return channel

    def notify(self, key: str | None = None) -> None:
        """Wake the pollers of shard ``key``; of every shard when None (stopping, reconfiguring)."""
        channels = [self._channel(key)] if key is not None else list(self._channels.values())
        for channel in channels:
            with channel.cond:
                channel.generation += 1
                channel.cond.notify_all()

    def generation(self, key: str) -> int:
        return self._channel(key).generation

    def wait(self, key: str, seen: int, timeout: float) -> int:
        """Wait until shard ``key``'s generation moves past ``seen`` or ``timeout`` passes."""
        channel = self._channel(key)
        with channel.cond:
            channel.cond.wait_for(lambda: channel.generation != seen, timeout=timeout)
            return channel.generation
