"""Each scenario in a process of its own.

moto keeps its state per process (two emulators in one process share every table,
stream and bucket), so a second scenario in the same process would start on the
first one's tables and streams and re-deliver their records. A fresh interpreter per
scenario also keeps one scenario's threads and memory from slowing the next.
``python -m tests.chaos.isolated NAME [--small] [--backend docker]`` runs one and prints
its row as JSON (on Docker the process's environment points ``sandbox.compose`` at the
scenario's own stack, another reason for a process per scenario).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
import uuid
from dataclasses import asdict

from tests.chaos.census import SinkCount
from tests.chaos.harness import ROOT, Row

MARK = "CHAOS-ROW "
#: The compose project a Docker scenario's stack gets (chosen by the parent, see ``run``).
PROJECT_ENV = "CHAOS_COMPOSE_PROJECT"


def to_json(row: Row) -> str:
    return json.dumps(asdict(row))


def from_json(text: str) -> Row:
    data = json.loads(text)
    data["sinks"] = {name: SinkCount(**count) for name, count in data["sinks"].items()}
    return Row(**data)


def run(name: str, small: bool, timeout: float = 1800, backend: str = "embedded") -> Row:
    """Run scenario ``name`` on ``backend`` in a child interpreter; its row (a failed run's row says why).

    On Docker the compose project's name is chosen here: a child killed at the timeout
    cannot remove its stack, so this process does."""
    command = [sys.executable, "-m", "tests.chaos.isolated", name, *(["--small"] if small else []),
               "--backend", backend]
    project = f"chaos-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, PROJECT_ENV: project}
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        left = ""
        if backend == "docker":
            from tests.chaos.docker_stack import remove_project

            left = f"; {remove_project(project)}"
        return Row(name, backend=backend, message=f"scenario did not finish in {timeout:.0f} s{left}")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARK):
            return from_json(line[len(MARK):])
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return Row(name, backend=backend, message=f"scenario crashed (exit {done.returncode}): {' | '.join(tail)}")


def main(argv: list[str]) -> None:
    from tests.chaos.scenarios import SCENARIOS  # imports the emulator: only in the child

    name, small = argv[0], "--small" in argv[1:]
    backend = argv[argv.index("--backend") + 1] if "--backend" in argv else "embedded"
    try:
        row = SCENARIOS[name](small, backend)
    except Exception as error:  # noqa: BLE001 - the row says what broke
        traceback.print_exc()
        row = Row(name, backend=backend, message=f"scenario failed: {type(error).__name__}: {error}")
    print(MARK + to_json(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
