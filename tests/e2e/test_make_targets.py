"""The README's remaining make targets, run as a user runs them: `make emulator` (ready line,
Ctrl-C), `make expire` against it, `make clean` (in a copy), and in the slow suite
`make fixtures` and `make bench-emulator` with small arguments."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from bootstrap.settings import Settings
from sandbox import state
from tests.waiting import wait_until

from .sandbox_process import ROOT, alive, descendants, environment, free_port, port_free


def _env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    env = environment(port, free_port(), tmp_path / "state")
    env.update(BACKEND="embedded", **extra)  # BACKEND: no Docker probe
    return env


def _make(*args: str, env: dict[str, str], cwd: Path = ROOT, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@contextmanager
def _make_emulator(tmp_path: Path, port: int) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """`make emulator` in its own process group (a terminal job), its output collected."""
    env = _env(tmp_path, port, EMULATOR_PORT=str(port), EMULATOR_TTL_INTERVAL="0")  # sweeps only on request
    process = subprocess.Popen(
        ["make", "--no-print-directory", "emulator"], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    assert process.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()  # type: ignore[union-attr]

    def saw(text: str) -> bool:
        while not lines.empty():
            seen.append(lines.get_nowait())
        return any(text in line for line in seen)

    try:
        wait_until(lambda: saw(f"Emulator ready at http://127.0.0.1:{port}"), timeout=60, interval=0.1,
                   what="the emulator's ready line")
        yield process, seen
        wait_until(lambda: process.poll() is not None and saw("Emulator stopped"), timeout=15, interval=0.1,
                   what="make emulator to stop after Ctrl-C")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _expired_item(endpoint: str) -> tuple[object, str]:
    """A table with TTL on expires_at holding one item that expired an hour ago."""
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))
    table = "make-expire-test"
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "uuid", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "uuid", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    ddb.put_item(TableName=table, Item={"uuid": {"S": "old"}, "expires_at": {"N": str(int(time.time()) - 3600)}})
    return ddb, table


def test_make_emulator_serves_make_expire_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with _make_emulator(tmp_path, port) as (process, seen):
        everything = descendants(process.pid)
        ddb, table = _expired_item(endpoint)
        # README: `make expire` deletes expired items now (here: the emulator, via AWS_ENDPOINT_URL)
        expired = _make("expire", env=_env(tmp_path, port))
        assert expired.returncode == 0, expired.stdout + expired.stderr
        assert json.loads(expired.stdout) == {"ExpiredItems": 1}
        assert "Item" not in ddb.get_item(TableName=table, Key={"uuid": {"S": "old"}})  # type: ignore[attr-defined]
        # without AWS_ENDPOINT_URL: the running sandbox's endpoint, from its stack.json (not :4566)
        ddb.put_item(TableName=table, Item={"uuid": {"S": "older"}, "expires_at": {"N": str(int(time.time()) - 60)}})  # type: ignore[attr-defined]
        env = {k: v for k, v in _env(tmp_path, port).items() if k != "AWS_ENDPOINT_URL"}
        state.write(Settings(state_dir=env["SANDBOX_STATE_DIR"]),
                    state.StackInfo(os.getpid(), "embedded", endpoint, "http://127.0.0.1:8088/deliveries", time.time()))
        expired = _make("expire", env=env)
        assert expired.returncode == 0, expired.stdout + expired.stderr
        assert json.loads(expired.stdout) == {"ExpiredItems": 1}
        # Ctrl-C in the terminal: SIGINT to the whole foreground group
        os.killpg(process.pid, signal.SIGINT)
    assert port_free(port)
    assert not [pid for pid in everything if alive(pid)]


def test_make_expire_without_an_endpoint_is_one_clear_line(tmp_path: Path) -> None:
    closed = free_port()
    done = _make("expire", f"ENDPOINT=http://127.0.0.1:{closed}", env=_env(tmp_path, closed))
    assert done.returncode != 0
    # make's own "*** Error" line (make[1]: when run under another make, as in `make test`)
    ours = [line for line in done.stderr.splitlines() if not re.match(r"make(\[\d+\])?: \*\*\*", line)]
    assert ours == [f"error: nothing answers at http://127.0.0.1:{closed} "
                    "(fix: start the sandbox with `make up`, or set ENDPOINT=http://host:port)"]
    assert "curl" not in done.stderr


def test_make_clean_removes_only_the_build_state(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(ROOT / "Makefile", copy / "Makefile")
    for folder in (".venv/bin", ".pytest_cache", "build/lib", "clickstream_sandbox.egg-info", "docker/wheelhouse"):
        (copy / folder).mkdir(parents=True)
    (copy / "keep.py").write_text("# source stays\n")
    wheelhouse = copy / "docker" / "wheelhouse"
    for name in ("README.md", ".key", "boto3-1.44.8-py3-none-any.whl"):
        (wheelhouse / name).write_text("x")
    saved = tmp_path / "state"  # the embedded sandbox's saved state goes too; what else is there stays
    saved.mkdir()
    for name in ("snapshot.bin", ".snapshot.bin.x1.tmp", "httpsink.jsonl", "other.txt"):
        (saved / name).write_text("x")
    done = _make("clean", env=_env(tmp_path, free_port()), cwd=copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in copy.iterdir()) == ["Makefile", "docker", "keep.py"]
    assert [p.name for p in wheelhouse.iterdir()] == ["README.md"], "the downloaded wheels go, the README stays"
    assert [p.name for p in saved.iterdir()] == ["other.txt"]


@pytest.mark.slow
def test_make_fixtures_records_into_the_given_directory(tmp_path: Path) -> None:
    out = tmp_path / "fixtures"
    out.mkdir()
    done = _make("fixtures", f"FIXTURES_OUT={out}", env=_env(tmp_path, free_port()), timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written and all("_recorded_" in name for name in written)
    assert all(json.loads((out / name).read_text())["Records"] for name in written)


@pytest.mark.slow
def test_make_bench_emulator_with_small_arguments(tmp_path: Path) -> None:
    args = "BENCH_ARGS=--items 300 --idle-puts 5 --readers memory"
    done = _make("bench-emulator", args, env=_env(tmp_path, free_port()), timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "delivered to a no-op function" in done.stdout and "records/s" in done.stdout
