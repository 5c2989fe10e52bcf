"""Function workers SIGKILLed mid-batch, again and again, during a burst.

The emulator runs each function in worker processes; a killed one fails its
invocation (as Lambda reports a crashed runtime), the mapping retries the batch and a
fresh worker takes it. Batches that keep landing on killed workers exhaust their
retries (MaximumRetryAttempts 10) and go to the failure queue, as on AWS; `sandbox
redrive` then delivers them. Workers are found from /proc, not through the emulator:
embedded, the children of this process running worker_runtime.py; on Docker, the same
processes inside the endpoint container (``docker exec``, tests/chaos/docker_stack.py).

Duplicates AWS makes too: a fanout worker killed after its PutRecords landed but
before it answered is retried, and the retry puts those records into Kinesis again
(new sequence numbers); consumer A stores them as rows again (``event_id`` is its
dedup key, functions/consumer_analytics.py), `sandbox verify` reports them as
duplicated, and the HTTP sink absorbs them by Idempotency-Key. The data lake has none:
the archive's (and consumer A's) mapping retries the same cut onto the same key
(bootstrap/topology.py).
"""

from __future__ import annotations

import threading
import time

from tests.chaos.harness import Row, finish, started

KILL_EVERY_S = 0.7
#: After the producer ends, the kills go on this long: the batches still in flight get hit too.
KILL_TAIL_S = 5.0


def run(small: bool, backend: str = "embedded") -> Row:
    clicks = 400 if small else 5000
    row = Row("worker-kill" + (" (small)" if small else ""), backend=backend)
    kills: list[int] = []
    stop = threading.Event()

    with started(backend) as pipeline:

        def killer() -> None:
            while not stop.wait(KILL_EVERY_S):
                victim = pipeline.stack.kill_worker()
                if victim is not None:
                    kills.append(victim)

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
