"""Function workers SIGKILLed mid-batch, again and again, during a burst.

The emulator runs each function in worker processes; a killed one makes the
invocation fail (Runtime.ExitError, as Lambda reports a crashed runtime), the mapping
retries the batch and a fresh worker takes it. Workers are found from /proc (children
of this process running worker_runtime.py), not through the emulator.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from pathlib import Path

from tests.chaos.harness import Row, embedded, finish
from tests.e2e.sandbox_process import descendants

KILL_EVERY_S = 0.7


def worker_pids() -> list[int]:
    """Live function workers below this process (they run in sessions of their own)."""
    found = []
    for pid in descendants(os.getpid()):
        try:
            if b"worker_runtime" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def run(small: bool) -> Row:
    clicks = 400 if small else 5000
    row = Row("worker-kill" + (" (small)" if small else ""))
    kills: list[int] = []
    stop = threading.Event()

    def killer() -> None:
        while not stop.wait(KILL_EVERY_S):
            pids = worker_pids()
            if pids:
                victim = random.choice(pids)
                try:
                    os.kill(victim, signal.SIGKILL)
                    kills.append(victim)
                except ProcessLookupError:
                    pass

    with embedded() as pipeline:
        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            summary = pipeline.produce(clicks)
            plan = pipeline.plan(summary.run_id)
            # Keep killing until the pipeline has caught up: the kills must land mid-batch.
            pipeline.drain(plan, 60 if small else 300)
        finally:
            stop.set()
            thread.join()
        finish(row, pipeline, plan, [summary.run_id], timeout=120)
    row.message = f"{clicks} clicks unpaced, {len(kills)} workers SIGKILLed (every {KILL_EVERY_S} s); {row.message}"
    return row
