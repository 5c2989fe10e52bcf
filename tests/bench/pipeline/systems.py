"""The systems under test, each started as processes of its own: an AWS endpoint and our HTTP sink.

``Ours`` is the embedded emulator (``python -m emulator``, what ``sandbox up`` and the
Docker emulator image run); ``MiniStack`` is MiniStack 1.5.33 from its own virtualenv
under ``build/peers/`` (it pins botocore exactly, so it cannot share ours). Both get the
same pipeline from our own bootstrap and the same producer, sink and readers.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import boto3
import psutil
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ROOT = Path(__file__).resolve().parents[3]
PEERS_DIR = ROOT / "build" / "peers"
MINISTACK_VERSION = "1.5.33"
#: MiniStack runs Python functions with its own interpreter; Lambda's runtime provides boto3,
#: so its venv gets the boto3 that matches the botocore MiniStack pins.
MINISTACK_BOTOCORE = "1.43.106"

Say = Callable[[str], None]


class BenchError(SystemExit):
    """A benchmark that cannot run: one line, no traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(f"bench: {message}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> object:
    """Poll ``check`` until it returns something truthy; BenchError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Running:
    """A started system: where it answers, and its processes (for RSS)."""

    endpoint_url: str
    sink_url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ready_s: float = 0.0  # process start -> the endpoint answers an API call

    def rss_mb(self) -> float:
        """Resident memory of the endpoint, its workers and the sink, summed."""
        return sum(self.rss_by_part().values())

    def rss_by_part(self) -> dict[str, float]:
        """RSS in MB of the endpoint process, of its function workers (summed) and of the sink."""
        parts = {"endpoint": 0.0, "workers": 0.0, "HTTP sink": 0.0}
        for label, process in zip(("endpoint", "HTTP sink"), self.processes):
            try:
                root = psutil.Process(process.pid)
                members = [(label, root)] + [("workers" if label == "endpoint" else label, c)
                                             for c in root.children(recursive=True)]
            except psutil.Error:
                continue
            for part, member in members:
                try:
                    parts[part] += member.memory_info().rss / 2**20
                except psutil.Error:
                    pass
        return parts

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) so far per component: the endpoint, each function's workers
        (by their AWS_LAMBDA_FUNCTION_NAME), the sink. Exited workers' time is lost (rare)."""
        out: dict[str, float] = {}
        for label, process in zip(("endpoint", "HTTP sink"), self.processes):
            try:
                root = psutil.Process(process.pid)
                members = [(label, root)] + [(_component(child, label), child) for child in root.children(recursive=True)]
            except psutil.Error:
                continue
            for name, member in members:
                try:
                    times = member.cpu_times()
                except psutil.Error:
                    continue
                out[name] = out.get(name, 0.0) + times.user + times.system
        return out

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _component(process: psutil.Process, parent: str) -> str:
    try:
        function = process.environ().get("AWS_LAMBDA_FUNCTION_NAME")
    except psutil.Error:
        function = None
    return f"function {function}" if function else parent


def _answers(endpoint: str) -> Callable[[], bool]:
    ddb = boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}, connect_timeout=1, read_timeout=5),
    )

    def check() -> bool:
        try:
            ddb.list_tables()
            return True
        except (BotoCoreError, ClientError):
            return False

    return check


def _start_sink(log: IO[bytes]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sandbox.httpsink", "--port", str(port)], cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/deliveries"
    wait_until(lambda: _port_open(port) or process.poll() is not None, 20, "the HTTP sink")
    if process.poll() is not None:
        raise BenchError(f"the HTTP sink exited at start (exit {process.returncode})")
    return process, url


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class System:
    name = "system"
    #: What the system refused of the pipeline and what was deployed instead (printed once).
    notes: tuple[str, ...] = ()

    def __init__(self, logs: Path) -> None:
        self.logs = logs

    def prepare(self, say: Say) -> None:
        """Install what the system needs (once, before any measurement)."""

    def command(self, port: int) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def start(self) -> Running:
        port = free_port()
        argv, env = self.command(port)
        log = (self.logs / f"{self.name}-{port}.log").open("ab")
        sink, sink_url = _start_sink(log)
        started = time.monotonic()
        endpoint = subprocess.Popen(argv, cwd=self.logs, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        running = Running(f"http://127.0.0.1:{port}", sink_url, [endpoint, sink])
        try:
            answers = _answers(running.endpoint_url)
            wait_until(lambda: endpoint.poll() is not None or answers(), 60, f"{self.name} to answer", interval=0.02)
            if endpoint.poll() is not None:
                raise BenchError(f"{self.name} exited at start (exit {endpoint.returncode}); see {log.name}")
            running.ready_s = time.monotonic() - started
        except BaseException:
            running.stop()
            raise
        return running


class Ours(System):
    name = "ours"

    def command(self, port: int) -> tuple[list[str], dict[str, str]]:
        return [sys.executable, "-m", "emulator", "--port", str(port)], {"PYTHONPATH": str(ROOT)}


class MiniStack(System):
    name = "ministack"
    notes = ("MiniStack accepted the whole topology from our bootstrap; it ignores ReportBatchItemFailures, "
             "MaximumRetryAttempts and BisectBatchOnFunctionError on streams (shared/FACTS.md)",)

    def __init__(self, logs: Path, venv: Path | None = None) -> None:
        super().__init__(logs)
        self.venv = venv or PEERS_DIR / "ministack"

    @property
    def executable(self) -> Path:
        return self.venv / "bin" / "ministack"

    def prepare(self, say: Say) -> None:
        wanted = {"ministack": MINISTACK_VERSION, "botocore": MINISTACK_BOTOCORE, "boto3": MINISTACK_BOTOCORE}
        if self._installed() == wanted:
            return
        say(f"installing MiniStack {MINISTACK_VERSION} in {self.venv} (its own virtualenv; about 30 s, once)")
        try:
            if not (self.venv / "bin" / "python").exists():
                subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
            subprocess.run([str(self.venv / "bin" / "pip"), "install", "--quiet",
                            *(f"{name}=={version}" for name, version in wanted.items())], check=True)
        except (subprocess.CalledProcessError, OSError) as error:
            raise BenchError(f"cannot install MiniStack into {self.venv}: {error} (fix: check PyPI is reachable, "
                             f"or run without --peer)") from None

    def _installed(self) -> dict[str, str]:
        """The versions of MiniStack, botocore and boto3 in its venv ({} when there is none)."""
        python = self.venv / "bin" / "python"
        if not python.exists():
            return {}
        try:
            out = subprocess.run([str(python), "-c", _VERSIONS_SCRIPT], capture_output=True, text=True, check=True).stdout
        except (subprocess.CalledProcessError, OSError):
            return {}
        return dict(json.loads(out))

    def command(self, port: int) -> tuple[list[str], dict[str, str]]:
        return [str(self.executable)], {"GATEWAY_PORT": str(port), "LOG_LEVEL": "WARNING"}


_VERSIONS_SCRIPT = """
import importlib.metadata as metadata, json
found = {}
for name in ("ministack", "botocore", "boto3"):
    try:
        found[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        pass
print(json.dumps(found))
"""

PEERS: dict[str, type[System]] = {"ministack": MiniStack}
