"""Function workers SIGKILLed mid-batch, again and again, during a burst.

The emulator runs each function in worker processes; a killed one fails its
invocation (as Lambda reports a crashed runtime), the mapping retries the batch and a
fresh worker takes it. Batches that keep landing on killed workers exhaust their
retries (MaximumRetryAttempts 10) and go to the failure queue, as on AWS; `sandbox
redrive` then delivers them. Workers are found from /proc (children of this process
running worker_runtime.py), not through the emulator.

Duplicates AWS makes too: a fanout worker killed after its PutRecords landed but
before it answered is retried, and the retry puts those records into Kinesis again
(new sequence numbers); consumer A stores them as rows again (``event_id`` is its
dedup key, functions/consumer_analytics.py), `sandbox verify` reports them as
duplicated, and the HTTP sink absorbs them by Idempotency-Key. The data lake has none:
the archive's (and consumer A's) mapping retries the same cut onto the same key
(bootstrap/topology.py).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

from tests.chaos.harness import Row, embedded, finish
from tests.e2e.sandbox_process import descendants

KILL_EVERY_S = 0.7
#: After the producer ends, the kills go on this long: the batches still in flight get hit too.
KILL_TAIL_S = 5.0


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
            time.sleep(KILL_TAIL_S)
        finally:
            stop.set()
            thread.join()
        plan = pipeline.plan(summary.run_id)
        queued, redrive = pipeline.retries_then_redrive(plan, 60 if small else 180)
        finish(row, pipeline, plan, [summary.run_id], timeout=120, at_least_once=("consumer A",))
    row.failed_batches = queued
    dups = row.sinks["consumer A"].duplicated if "consumer A" in row.sinks else 0
    why = (f"; consumer A's {dups} duplicated rows: fanout workers killed after PutRecords landed, retried "
           "(at least once, as on AWS; dedupe by event_id)") if dups else ""
    row.message = (f"{clicks} clicks unpaced, {len(kills)} workers SIGKILLed (every {KILL_EVERY_S} s); "
                   f"{queued} batch(es) exhausted their retries{'; ' + redrive if redrive else ''}{why}; {row.message}")
    return row
