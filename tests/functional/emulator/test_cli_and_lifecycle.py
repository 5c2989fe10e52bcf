"""The AWS CLI works against the endpoint; `python -m emulator` starts, answers health probes
and stops cleanly on SIGTERM/SIGINT, leaving no child process and no temp dir."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.functional.emulator.support import create_function, create_stream_table, unique
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]


def _cli(emulator, *args: str) -> dict:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([sys.executable, "-m", "awscli", "--endpoint-url", emulator.endpoint_url, "--output", "json", *args],
                            capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_aws_cli_lists_functions_and_mappings(aws, emulator) -> None:
    name = unique("cli")
    create_function(aws, name, "recorder.handler", ("recorder",), {"RECORD_FILE": "/dev/null"})
    stream_arn = create_stream_table(aws, unique("cli"))
    aws("lambda").create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="LATEST")
    functions = _cli(emulator, "lambda", "list-functions")["Functions"]
    assert name in {f["FunctionName"] for f in functions}
    mappings = _cli(emulator, "lambda", "list-event-source-mappings", "--function-name", name)["EventSourceMappings"]
    assert [m["EventSourceArn"] for m in mappings] == [stream_arn]


def test_health_endpoints_answer(emulator) -> None:
    for path in ("/_emulator/health", "/_localstack/health"):
        with urllib.request.urlopen(emulator.endpoint_url + path, timeout=5) as response:
            body = json.loads(response.read())
        assert body["services"]["lambda"] == "running" and body["services"]["dynamodb"] == "running"


def _children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_emulator_process_stops_cleanly(tmp_path: Path, stop_signal: int) -> None:
    port = _free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.strip() == f"Emulator ready at http://127.0.0.1:{port}"
        import boto3

        kw = {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": "us-east-1", "aws_access_key_id": "t", "aws_secret_access_key": "t"}
        aws = lambda service, **_: boto3.client(service, **kw)  # noqa: E731
        create_function(aws, "lifecycle", "behaviours.slow", ("behaviours",), timeout=30)
        aws("lambda").invoke(FunctionName="lifecycle", InvocationType="Event", Payload=b'{"seconds": 30}')
        logs = aws("logs")
        started = lambda: any("START RequestId" in e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/lifecycle")["events"])  # noqa: E731
        wait_until(lambda: logs.describe_log_groups()["logGroups"] and started(), timeout=20, what="the invocation to start")
        workers = _children(process.pid)
        assert workers, "a worker process runs the invocation"
        assert any(p.name.startswith("emulator-") for p in tmp_path.iterdir())
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
    # the workers were snapshotted before the signal: orphans would be re-parented, not gone
    wait_until(lambda: not [pid for pid in workers if Path(f"/proc/{pid}").exists()], timeout=5, what="no process left behind")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("emulator-")], "temp dir left behind"
    with socket.socket() as sock:
        # The port is free again, for a new endpoint (which binds with SO_REUSEADDR, as every
        # server does: the closed keep-alive connections may linger in TIME_WAIT on it).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "emulator", "--port", str(port)], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert "Traceback" not in result.stderr
