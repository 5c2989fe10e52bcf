"""GcTuner: what has survived is moved out of the cyclic collector's sight; young garbage is freed first."""

from __future__ import annotations

import gc
import weakref

from emulator.gc_tuning import GcTuner
from tests.waiting import wait_until


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_freeze_collects_young_cycles_first_then_freezes_the_survivors() -> None:
    gc.unfreeze()
    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage
    kept = [Node() for _ in range(10)]
    try:
        GcTuner.freeze()
        assert gone() is None, "young cyclic garbage is collected, not frozen"
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()


def test_the_thread_freezes_periodically_and_stops() -> None:
    gc.unfreeze()
    tuner = GcTuner(every_s=0.05)
    try:
        tuner.start()
        gc.unfreeze()  # undo the start's freeze: the periodic one must freeze again
        wait_until(lambda: gc.get_freeze_count() > 0, timeout=5, what="a periodic freeze")
    finally:
        tuner.stop()
        gc.unfreeze()
    assert not tuner._thread.is_alive()
