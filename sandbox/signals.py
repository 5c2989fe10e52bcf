"""Ctrl-C and SIGTERM end `sandbox up` the same way: once, cleanly, within a deadline.

The first signal raises KeyboardInterrupt in the main thread, so every ``with``
block on the way out stops what it started. Signals that arrive while that
cleanup runs are ignored (a second Ctrl-C must not abort the cleanup half-way and
leave workers or ports behind).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from sandbox.output import note

HANDLED = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may install handlers (e.g. some test runners)
        return
    fired = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if fired.is_set():
            note("still stopping, please wait…")
            return
        fired.set()
        name = signal.Signals(signum).name
        note(f"{name} received")
        raise KeyboardInterrupt(name)

    previous = {sig: signal.signal(sig, handler) for sig in HANDLED}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
