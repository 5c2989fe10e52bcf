"""The small version of every chaos scenario as a test: 0 missing and 0 duplicated per sink
(duplicates only where the scenario documents AWS's at-least-once), `sandbox verify` agreeing.
The quickest run in `make test`, the rest in `make test-slow`; on Docker (a compose stack per
scenario), flaky-sink in `make test` and restart in `make test-slow`, skipped with the
engine probe's reason where no engine answers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.chaos import isolated
from tests.chaos.__main__ import SCENARIOS as TABLE_ORDER
from tests.chaos.census import Event, count
from tests.chaos.scenarios import SCENARIOS

FAST = ("poison",)  # the quickest (~15 s on an idle machine, sandbox start included)
#: On Docker: flaky-sink (~30 s, stack up and down included) in `make test`, restart in `make test-slow`.
DOCKER = {"flaky-sink": [pytest.mark.docker], "restart": [pytest.mark.docker, pytest.mark.slow]}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=[pytest.mark.slow] if name not in FAST else [])
        for name in SCENARIOS
    ],
)
def test_small_scenario_loses_and_duplicates_nothing(name: str) -> None:
    row = isolated.run(name, small=True)
    # row.ok: 0 missing everywhere, 0 duplicated except where the scenario documents AWS's own
    # at-least-once delivery (worker-kill: consumer A), and `sandbox verify` agreeing.
    assert row.ok, row
    assert row.sinks and all(c.missing == 0 for c in row.sinks.values()), row.sinks


@pytest.mark.parametrize("name", [pytest.param(n, marks=marks) for n, marks in DOCKER.items()])
def test_small_scenario_on_docker_loses_and_duplicates_nothing(name: str) -> None:
    # The `docker` mark skips it where no engine answers (tests/conftest.py, with the probe's reason).
    from tests.docker.engine import require_project_image

    require_project_image()  # built when missing; a failure naming `make images` when it cannot be
    row = isolated.run(name, small=True, backend="docker", timeout=280)
    assert row.backend == "docker", row
    assert row.ok, row
    assert row.sinks and all(c.missing == 0 and c.duplicated == 0 for c in row.sinks.values()), row.sinks
    assert row.verify == "exit 0", row


def test_docker_asked_for_without_an_engine_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    done = subprocess.run([sys.executable, "-m", "tests.chaos", "--backend", "docker", "--small"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the Docker backend cannot run here: no Docker engine"), lines


def test_the_census_counts_missing_and_duplicated_events() -> None:
    plan = {"a": ["INSERT", "MODIFY"], "b": ["INSERT"]}
    events = [Event("a", "1", "INSERT"), Event("a", "1", "INSERT"), Event("a", "3", "MODIFY"),
              Event("b", "4", "INSERT"), Event("b", "5", "INSERT"), Event("z", "9", "INSERT")]
    counted = count(plan, events)
    assert (counted.expected, counted.found, counted.missing, counted.duplicated) == (3, 3, 0, 2)
    assert count(plan, events[:1]).missing == 2


def test_the_table_lists_every_scenario() -> None:
    assert set(TABLE_ORDER) == set(SCENARIOS)
