"""The whole sandbox stopped mid-stream (SIGTERM, then SIGKILL) and started again on its
state, then reconciled.

Embedded: `sandbox up` as a process with its own state dir, signalled and started again.
Docker: the compose stack's long-running containers (endpoint and sink) stopped with
`compose stop` (SIGTERM), then `compose kill` (SIGKILL), each followed by `compose start`:
their state is on the stack's volume (tests/chaos/docker_stack.py).

It relies on the state that survives a restart (docs/persistence.md): should the restarted
sandbox start empty, the run's manifest is gone with the data lake, and the row says so
(and fails).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from tests.chaos.harness import Pipeline, Row, finish, started
from tests.chaos.process import sandbox_process

MID_STREAM_S = 0.5  # after the producer ends: records are still on their way to the sinks
Restart = Callable[[signal.Signals], str]


@contextmanager
def restartable(backend: str) -> Iterator[tuple[Pipeline, Restart]]:
    """A started pipeline and how to stop it with a signal and start it again (what that did, said)."""
    if backend == "docker":
        with started("docker") as pipeline:
            yield pipeline, pipeline.stack.restart
        return
    with sandbox_process() as sandbox:
        sandbox.start()

        def restart(signum: signal.Signals) -> str:
            code = sandbox.stop(signum)
            sandbox.start()
            return f"{signum.name} -> exit {code}"

        yield sandbox.pipeline, restart


def run(small: bool, backend: str = "embedded") -> Row:
    clicks = 300 if small else 3000
    row = Row("restart" + (" (small)" if small else ""), backend=backend)
    with restartable(backend) as (pipeline, restart):
        summary = pipeline.produce(clicks)
        codes = []
        for signum in (signal.SIGTERM, signal.SIGKILL):
            time.sleep(MID_STREAM_S)
            codes.append(restart(signum))
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
