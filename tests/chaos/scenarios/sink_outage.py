"""The HTTP sink fails every delivery for a while, then recovers.

Consumer B's mapping retries (MaximumRetryAttempts 10, bisecting) until it gives a
batch up to the failure queue; what reached the queue is then redriven with
`sandbox redrive`, so every record ends up delivered once (the sink's
Idempotency-Key absorbs what the retries already delivered).
"""

from __future__ import annotations

import time

from tests.chaos.harness import Row, finish, started

RETRIES_WAIT_S = 45.0  # after recovery: how long the mapping's own retries get before the redrive


def run(small: bool, backend: str = "embedded") -> Row:
    outage_s, clicks, rate = (8.0, 60, 20.0) if small else (60.0, 600, 20.0)
    row = Row("sink-outage" + (" (small)" if small else ""), backend=backend)
    with started(backend) as pipeline:
        pipeline.faults(1.0)
        began = time.monotonic()
        summary = pipeline.produce(clicks, rate=rate)
        time.sleep(max(0.0, outage_s - (time.monotonic() - began)))
        pipeline.faults(0.0)
        recovered = time.monotonic()
        plan = pipeline.plan(summary.run_id)
        queued, redrive = pipeline.retries_then_redrive(plan, 8.0 if small else RETRIES_WAIT_S)
        finish(row, pipeline, plan, [summary.run_id], timeout=120)
        row.drain_s = round(time.monotonic() - recovered, 1) if row.drain_s is not None else None
    row.failed_batches = queued
    drained = f"drained {row.drain_s} s after recovery" if row.drain_s is not None else "NOT drained"
    row.message = (f"sink down {outage_s:.0f} s under {clicks} clicks at {rate:.0f}/s; {queued} failed-batch message(s) "
                   f"in the queue after recovery; {redrive or 'the retries alone delivered'}; {drained}")
    return row
