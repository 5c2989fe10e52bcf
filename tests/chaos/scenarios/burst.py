"""A burst at full speed: 8 producers write to the table at once, unpaced."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.chaos.harness import Row, finish, started

WRITERS = 8


def run(small: bool, backend: str = "embedded") -> Row:
    clicks = 400 if small else 10_000
    row = Row("burst" + (" (small)" if small else ""), backend=backend)
    with started(backend) as pipeline:
        with ThreadPoolExecutor(WRITERS) as pool:
            summaries = list(pool.map(lambda _: pipeline.produce(clicks // WRITERS), range(WRITERS)))
        run_ids = [s.run_id for s in summaries]
        rate = sum(s.expected_stream_records for s in summaries) / max(s.elapsed_s for s in summaries)
        finish(row, pipeline, pipeline.plan(*run_ids), run_ids, timeout=120 if small else 600)
    failed = sum(s.failed for s in summaries)
    row.message = f"{WRITERS} writers x {clicks // WRITERS} clicks, {rate:.0f} writes/s together, {failed} failed writes; {row.message}"
    return row
