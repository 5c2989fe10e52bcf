"""Keep the cyclic garbage collector's pauses short in a process whose heap only grows.

The endpoint holds every table item, stream record, Kinesis record and S3 object as Python
objects. CPython's full (generation 2) collection walks every tracked object while holding
the GIL, and runs each time the heap has grown by a quarter: measured under `make bench` at
100 writes/s, pauses of 120-390 ms within a minute and one of 1.9 s (a loaded machine),
during which no request is served: the p99 latency and the "stalls" of issue 11.

So objects that have survived a while are moved out of the collector's sight with
``gc.freeze()``: every ``FREEZE_EVERY_S`` seconds, after collecting the two young
generations (so the garbage they hold is freed, not frozen). Frozen objects are still freed
by reference counting as usual; what is given up is only the collection of *cyclic* garbage
that was already old when frozen, which the endpoint's long-lived data (items, records,
objects: plain trees of dicts and values) does not produce.
"""

from __future__ import annotations

import gc
import threading

FREEZE_EVERY_S = 30.0


class GcTuner:
    """``start()`` freezes what exists (the imported modules, moto's backends) and then, every
    ``FREEZE_EVERY_S`` seconds, what has survived; ``stop()`` ends the thread."""

    def __init__(self, every_s: float = FREEZE_EVERY_S) -> None:
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="gc-freeze")

    @staticmethod
    def freeze() -> None:
        gc.collect(1)  # the young generations' garbage is freed now, not frozen
        gc.freeze()

    def start(self) -> None:
        self.freeze()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.freeze()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
