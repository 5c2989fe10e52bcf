"""`make up` / `sandbox up` as a user runs them: ready, clicks flow to every sink, drained
summaries, and Ctrl-C / `make down` leave no process and no port behind."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from sandbox.backend import probe_docker
from tests.waiting import wait_until

from .sandbox_process import ROOT, Stack, alive, children, descendants, environment, free_port, port_free, started

SUMMARY = re.compile(r"summary: produced=(\d+) archived=(\d+) analytics=(\d+) http=(\d+) drained=(\w+)")


def _deliveries(stack: Stack) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.sink_port}/stats", timeout=2) as response:
            return int(json.loads(response.read())["deliveries"])
    except OSError:
        return 0


def _json(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return dict(json.loads(response.read()))
    except OSError:
        return None


def _workers(root: int) -> set[int]:
    return {pid for pid in descendants(root) if "worker_runtime" in Path(f"/proc/{pid}/cmdline").read_text(errors="ignore")}


def _assert_stops_clean(stack: Stack, everything: set[int], deadline_s: float = 10.0) -> None:
    started_at = time.monotonic()
    stack.process.wait(timeout=deadline_s)
    assert time.monotonic() - started_at < deadline_s
    wait_until(lambda: not [pid for pid in everything if alive(pid)], timeout=1.0, what="no process left")
    assert port_free(stack.endpoint_port) and port_free(stack.sink_port)
    assert not (stack.state_dir / "sandbox.pid").exists()


@pytest.mark.parametrize(
    "duration",
    [pytest.param(2, id="2s"), pytest.param(20, id="20s", marks=pytest.mark.slow)],
)
def test_up_with_duration_drains_and_summarizes(tmp_path: Path, duration: int) -> None:
    env = environment(free_port(), free_port(), tmp_path / "state")
    done = subprocess.run(
        ["sandbox", "up", "--duration", str(duration), "--rate", "10", "--no-live", "--drain-timeout", "60"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=duration + 120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    match = SUMMARY.search(done.stdout)
    assert match, done.stdout
    produced, archived, analytics, http = (int(g) for g in match.groups()[:4])
    assert produced > 0 and archived == analytics == http == produced
    assert match.group(5) == "yes"
    assert "Traceback" not in done.stderr


def test_make_up_runs_until_ctrl_c_and_leaves_nothing(tmp_path: Path) -> None:
    """The README's `make up` (no Docker engine here: embedded), then Ctrl-C."""
    # Exactly the README's command where no engine answers; where one does, Docker would win.
    forced = ["BACKEND=embedded"] if probe_docker().answers else []
    with started(["make", "--no-print-directory", "up", "UP_ARGS=--no-live", *forced], tmp_path) as stack:
        stack.read_until("backend: embedded", timeout=30)
        ready = stack.read_until("ready in", timeout=60)
        assert f"127.0.0.1:{stack.endpoint_port}" in ready
        wait_until(lambda: _deliveries(stack) >= 1, timeout=30, interval=0.2, what="clicks reaching the HTTP sink")
        # the ready line names the dashboard, served by the same process and fed by its live view
        board = re.search(r"dashboard (http://127\.0\.0\.1:\d+/)", ready)
        assert board, ready
        state = wait_until(lambda: (s := _json(board[1] + "api/state")) and s["ready"] and s,
                           timeout=30, interval=0.2, what="the dashboard's first snapshot")
        assert "embedded sandbox" in state["header"]
        wait_until(lambda: len(_workers(stack.process.pid)) >= 4, timeout=30, what="a worker per function")
        everything = descendants(stack.process.pid)
        stack.interrupt()
        _assert_stops_clean(stack, everything)
        stack.read_until("stopped in", timeout=1)


def _make(target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_make_help_down_ps_logs_without_a_stack(tmp_path: Path) -> None:
    env = environment(free_port(), free_port(), tmp_path / "state")  # its compose project is a throwaway one
    helped = _make("help", env)
    assert helped.returncode == 0
    for target in ("up", "down", "logs", "ps", "test", "docker-up"):
        assert re.search(rf"^\s+(\x1b\[\d+m)?{target}\b", helped.stdout, re.M), target
    down = _make("down", env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "no embedded sandbox is running" in down.stderr
    ps = _make("ps", env)
    assert ps.returncode == 0 and "no embedded sandbox is running" in ps.stdout
    logs = _make("logs", env)  # embedded: nothing answers; Docker: no compose stack exists
    assert logs.returncode != 0 and "Traceback" not in logs.stderr
    assert re.search(r"^error: (nothing answers at|no compose stack \S+ exists)", logs.stderr, re.M), logs.stderr


@pytest.mark.slow
def test_make_down_stops_a_stack_left_running(tmp_path: Path) -> None:
    with started(["sandbox", "up", "--no-live"], tmp_path) as stack:
        stack.read_until("ready in", timeout=60)
        pid = int((stack.state_dir / "sandbox.pid").read_text())
        assert pid == stack.process.pid
        everything = descendants(pid)
        down = subprocess.run(
            ["make", "--no-print-directory", "down"],
            cwd=ROOT, env=environment(stack.endpoint_port, stack.sink_port, stack.state_dir),
            capture_output=True, text=True, timeout=30,
        )
        assert down.returncode == 0, down.stdout + down.stderr
        assert f"stopped the embedded sandbox (pid {pid}" in down.stderr
        _assert_stops_clean(stack, everything, deadline_s=2.0)


def test_a_killed_sandbox_up_leaves_no_endpoint_behind(tmp_path: Path) -> None:
    """The endpoint runs in a process of its own (sandbox/emulator_process.py): SIGKILL of
    `sandbox up` cannot stop it in order, so the kernel's parent-death signal must."""
    with started(["sandbox", "up", "--no-live", "--no-dashboard"], tmp_path) as stack:
        stack.read_until("ready in", timeout=60)
        wait_until(lambda: len(_workers(stack.process.pid)) >= 4, timeout=30, what="a worker per function")
        everything = descendants(stack.process.pid)
        # Direct children only: the endpoint forks a child of the same command line for each
        # snapshot it writes (emulator/persistence.py), which may be running at this moment.
        endpoints = [pid for pid in children(stack.process.pid)
                     if "-m\x00emulator" in Path(f"/proc/{pid}/cmdline").read_text(errors="ignore")]
        assert len(endpoints) == 1, "the endpoint is a child process of sandbox up"
        stack.process.kill()
        stack.process.wait(timeout=5)
        wait_until(lambda: not [pid for pid in everything if alive(pid)], timeout=20, what="the endpoint and its workers gone")
        assert wait_until(lambda: port_free(stack.endpoint_port) and port_free(stack.sink_port), timeout=5, what="ports free")
