"""Wakes pollers when moto stored a new stream record, instead of busy polling."""

from __future__ import annotations

import threading


class ChangeSignal:
    """Wakes pollers when moto stored a new stream record (instead of busy polling)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    @property
    def generation(self) -> int:
        return self._generation

    def wait(self, seen: int, timeout: float) -> int:
        """Wait until the generation moves past ``seen`` or ``timeout`` passes."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen, timeout=timeout)
            return self._generation
