"""The HTTP sink fails 30 % of deliveries during a run with updates and deletes.

Consumer B retries in the function and the mapping retries what is still failing;
the sink's Idempotency-Key absorbs the repeats. Its latency is the figure to watch.
"""

from __future__ import annotations

from tests.chaos.harness import Row, finish, started

FAIL_RATIO = 0.3


def run(small: bool, backend: str = "embedded") -> Row:
    clicks = 200 if small else 2000
    row = Row("flaky-sink" + (" (small)" if small else ""), backend=backend)
    with started(backend) as pipeline:
        pipeline.faults(FAIL_RATIO)
        summary = pipeline.produce(clicks)
        finish(row, pipeline, pipeline.plan(summary.run_id), [summary.run_id], timeout=120)
        stats = pipeline.sink_call("/stats")
    latency = stats.get("latency_ms") or {}
    row.message = (f"{clicks} clicks, sink failing {FAIL_RATIO:.0%}: {stats.get('faulted', '?')} faulted POSTs retried; "
                   f"B p50 {latency.get('p50', '?')} ms p95 {latency.get('p95', '?')} ms; {row.message}")
    return row
