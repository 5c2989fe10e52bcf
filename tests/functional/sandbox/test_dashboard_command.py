"""`sandbox dashboard` as a process: prints its URL, serves the pipeline's numbers, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from sandbox.cli import app
from sandbox.stats import Stage
from tests.waiting import wait_until

from .conftest import Pipeline


def _get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


def test_dashboard_serves_the_pipeline_until_ctrl_c(pipeline: Pipeline) -> None:
    env = {k: v for k, v in {**os.environ, **pipeline.env}.items() if v is not None}
    sandbox = Path(sys.executable).parent / "sandbox"
    process = subprocess.Popen([str(sandbox), "dashboard", "--interval", "0.5"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/"), url
        state = wait_until(lambda: (s := _get(url + "api/state")) and s["ready"] and s, timeout=30, interval=0.2,
                           what="the first snapshot")
        counts = {row["label"]: row["count"] for row in state["stages"]}
        for stage in (Stage.ARCHIVED, Stage.ANALYTICS, Stage.HTTP):
            assert counts[stage.value] == pipeline.run.expected_stream_records
        assert state["clicks"]["total"] == pipeline.run.written
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_dashboard_without_a_sandbox_is_one_line(tmp_path: Path) -> None:
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "SANDBOX_STATE_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["dashboard"], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: nothing answers at http://127.0.0.1:9") and len(result.stderr.strip().splitlines()) == 1


def _held_port() -> socket.socket:
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    return held


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_taken_dashboard_port_is_one_line_naming_the_option(tmp_path: Path) -> None:
    with _held_port() as held:
        port = held.getsockname()[1]
        env = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{_free_port()}",
            "SANDBOX_HTTP_SINK_URL": f"http://127.0.0.1:{_free_port()}/deliveries",
            "SANDBOX_STATE_DIR": str(tmp_path),
        }
        for args, option in ((["up", "--duration", "1", "--dashboard-port", str(port)], "--dashboard-port"),
                             (["dashboard", "--port", str(port)], "--port")):
            result = CliRunner().invoke(app, args, env=env)
            assert result.exit_code == 1, result.output
            line = result.stderr.strip()
            assert line.startswith(f"error: port {port} on 127.0.0.1 (the dashboard) is already in use")
            assert f"via {option}/SANDBOX_DASHBOARD_PORT" in line and "\n" not in line
