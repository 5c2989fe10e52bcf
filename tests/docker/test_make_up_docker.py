"""`make up` on Docker, as a user runs it: the emulator stack in the foreground, ready, status, Ctrl-C, `make down`.

A throwaway compose project and free host ports (tests/e2e/sandbox_process.py), so a
stack the developer has running is never touched.
"""

from __future__ import annotations

import re
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from producer.cli import EXIT_INTERRUPTED
from sandbox import engine
from tests.docker.engine import require_project_image
from tests.e2e.sandbox_process import ROOT, environment, started

pytestmark = pytest.mark.docker

READY_TIMEOUT_S = 240


def test_make_up_on_docker_until_ctrl_c_then_make_down_leaves_nothing(tmp_path: Path) -> None:
    require_project_image()
    with started(["make", "--no-print-directory", "up", "EMULATOR=1"], tmp_path) as stack:
        env = environment(stack.endpoint_port, stack.sink_port, stack.state_dir)
        project = env["SANDBOX_COMPOSE_PROJECT"]
        try:
            stack.read_until("backend: docker (emulator)", timeout=60)
            ready = stack.read_until("ready in", timeout=READY_TIMEOUT_S)
            assert "every sink holds clicks" in ready
            dashboard = re.search(r"Dashboard (http://127\.0\.0\.1:\d+/?)", ready)
            assert dashboard, ready
            with urllib.request.urlopen(dashboard.group(1), timeout=10) as page:
                assert page.status == 200 and b"<html" in page.read().lower()

            status = subprocess.run([str(ROOT / ".venv/bin/sandbox"), "status"], cwd=ROOT, env=env,
                                    capture_output=True, text=True, timeout=120)
            assert status.returncode == 0, status.stderr
            assert "consumer B deliveries (HTTP)" in status.stdout

            stack.interrupt()  # Ctrl-C: the stack stops, its containers stay for `make logs`
            stack.read_until("stopped (containers kept", timeout=90)
            # make itself gets the SIGINT too, and ends as interrupted (as in a terminal); sandbox exited 0
            assert stack.process.wait(timeout=30) in (0, -signal.SIGINT, 128 + signal.SIGINT)
            # The producer was stopped before the endpoint, so it saved its run's manifest and exited as
            # interrupted (stopped together, its last PutObject met a stopping endpoint: 503, exit 1).
            docker = engine.client()
            assert docker is not None
            producer = {c.service: c for c in engine.project_containers(docker, project)}["producer"]
            assert (producer.status, producer.exit_code) == ("exited", EXIT_INTERRUPTED), producer.describe()
        finally:
            down = subprocess.run(["make", "--no-print-directory", "down"], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=180)
        assert down.returncode == 0, down.stdout + down.stderr
        assert f"removed the compose stack {project}" in down.stderr
        docker = engine.client()
        assert docker is not None
        assert engine.project_leftovers(docker, project, project) == []
