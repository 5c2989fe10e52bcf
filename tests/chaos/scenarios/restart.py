"""The whole sandbox stopped mid-stream (SIGTERM, then SIGKILL) and started again on its
state dir, then reconciled.

It relies on the state that survives a restart (docs/persistence.md): should the restarted
sandbox start empty, the run's manifest is gone with the data lake, and the row says so
(and fails).
"""

from __future__ import annotations

import signal
import time

from botocore.exceptions import ClientError

from tests.chaos.harness import Row, finish
from tests.chaos.process import sandbox_process

MID_STREAM_S = 0.5  # after the producer ends: records are still on their way to the sinks


def run(small: bool) -> Row:
    clicks = 300 if small else 3000
    row = Row("restart" + (" (small)" if small else ""))
    with sandbox_process() as sandbox:
        sandbox.start()
        pipeline = sandbox.pipeline
        summary = pipeline.produce(clicks)
        codes = []
        for signum in (signal.SIGTERM, signal.SIGKILL):
            time.sleep(MID_STREAM_S)
            codes.append(f"{signum.name} -> exit {sandbox.stop(signum)}")
            sandbox.start()
        try:
            plan = pipeline.plan(summary.run_id)
        except ClientError as error:
            row.produced = summary.expected_stream_records
            row.message = (f"{clicks} clicks, then {', '.join(codes)}, restarted each time: the state did not survive "
                           f"the restart (the run's manifest is gone: {error.response['Error']['Code']})")
            return row
        finish(row, pipeline, plan, [summary.run_id], timeout=300)
    row.message = f"{clicks} clicks, then {', '.join(codes)}, restarted each time; {row.message}"
    return row
