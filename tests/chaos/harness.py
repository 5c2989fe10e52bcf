"""What every scenario needs: a sandbox on free ports (embedded, or a compose stack on
Docker: tests/chaos/docker_stack.py), a producer run, the sink's faults, a drain wait
with a deadline, the failure queue and `sandbox verify`."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from producer.options import ProduceOptions
from producer.run import ProduceSummary, produce
from tests.chaos import census
from tests.chaos.census import SinkCount
from tests.e2e.sandbox_process import descendants, free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: Drain polls start at POLL_S and slow down to MAX_POLL_S (the drain time's resolution):
#: each poll reads every sink in full, which on a big run competes with the pipeline.
POLL_S = 0.5
MAX_POLL_S = 2.0


def sandbox_env(endpoint_url: str, sink_url: str, state_dir: Path) -> dict[str, str]:
    """The environment of a `sandbox` command aimed at this pipeline only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOX_", "BACKEND"))}
    env.update(
        AWS_ENDPOINT_URL=endpoint_url, SANDBOX_HTTP_SINK_URL=sink_url, SANDBOX_STATE_DIR=str(state_dir),
        COLUMNS="200", PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


@dataclass
class Row:
    """One line of the chaos table."""

    scenario: str
    produced: int = 0
    backend: str = "embedded"
    sinks: dict[str, SinkCount] = field(default_factory=dict)
    drain_s: float | None = None
    failed_batches: int = 0
    verify: str = "-"
    message: str = ""
    ok: bool = False


@dataclass
class Pipeline:
    """A started pipeline: where it answers and how to read it."""

    settings: Settings
    state_dir: Path
    stack: Any = None  # the InProcess endpoint and sink when the pipeline runs in this process

    @property
    def topology(self) -> Topology:
        return Topology.from_settings(self.settings)

    @property
    def sink_url(self) -> str:
        return self.settings.http_sink_url

    @property
    def env(self) -> dict[str, str]:
        return sandbox_env(self.settings.endpoint_url or "", self.sink_url, self.state_dir)

    def client(self, service: str) -> Any:
        return client(service, self.settings)

    # --- the producer ---------------------------------------------------------
    def produce(self, count: int, *, rate: float = 0.0, update_ratio: float = 0.2, delete_ratio: float = 0.1,
                stop: threading.Event | None = None, run_id: str | None = None) -> ProduceSummary:
        options = ProduceOptions(count=count, rate=rate, update_ratio=update_ratio, delete_ratio=delete_ratio, run_id=run_id)
        return produce(self.settings, options, stop=stop)

    # --- the HTTP sink's fault API -----------------------------------------------
    def sink_call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        base = self.sink_url.rsplit("/", 1)[0]
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(base + path, data=data, method="POST" if data else "GET",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def faults(self, fail_ratio: float) -> None:
        self.sink_call("/faults", {"fail_ratio": fail_ratio})

    # --- what reached the sinks ---------------------------------------------------
    def counts(self, plan: dict[str, list[str]]) -> dict[str, SinkCount]:
        s3, topology = self.client("s3"), self.topology
        return {
            "data lake": census.count(plan, census.lake(s3, topology.data_lake_bucket, topology.table_key)),
            "consumer A": census.count(plan, census.analytics(s3, topology.analytics_bucket)),
            "HTTP sink": census.count(plan, census.deliveries(self.sink_url)),
        }

    def plan(self, *run_ids: str) -> dict[str, list[str]]:
        s3 = self.client("s3")
        merged: dict[str, list[str]] = {}
        for run_id in run_ids:
            merged.update(census.planned(s3, self.topology.data_lake_bucket, run_id))
        return merged

    def failed_batches(self) -> int:
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=self.topology.failure_queue_name)["QueueUrl"]
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attributes.get(n, 0)) for n in names)

    def drain(self, plan: dict[str, list[str]], timeout: float) -> tuple[dict[str, SinkCount], float | None]:
        """Wait until every sink holds the whole plan; the counts and the seconds it took
        (None: not drained before the deadline)."""
        began = time.monotonic()
        interval = POLL_S
        while True:
            counts = self.counts(plan)
            if all(c.found == c.expected for c in counts.values()):
                return counts, round(time.monotonic() - began, 1)
            if time.monotonic() - began > timeout:
                return counts, None
            time.sleep(interval)
            interval = min(MAX_POLL_S, interval * 1.5)

    def sandbox(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run a `sandbox` command against this pipeline (a separate process, like a user's shell)."""
        return subprocess.run([str(BIN / "sandbox"), *args], env=self.env, cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def retries_then_redrive(self, plan: dict[str, list[str]], wait_s: float) -> tuple[int, str]:
        """Give the mappings' own retries ``wait_s`` to deliver; then redrive what exhausted
        them (the failure queue) with `sandbox redrive`, as a user would. The queue's message
        count before the redrive, and what the redrive said ("" when none was needed)."""
        counts, _ = self.drain(plan, wait_s)
        queued = self.failed_batches()
        if not queued or all(c.found == c.expected for c in counts.values()):
            return queued, ""
        done = self.sandbox("redrive")
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()[-200:]
        return queued, f"`sandbox redrive` exit {done.returncode}: {last}"

    def verify(self, run_id: str) -> int:
        return self.sandbox("verify", run_id).returncode


@dataclass
class InProcess:
    """The endpoint and the sink as objects of this process (``sandbox up`` runs them as child
    processes): a scenario can stop the endpoint's server and serve the same data again."""

    emulator: Any
    sink: Any

    def worker_pids(self) -> list[int]:
        """Live function workers below this process (they run in sessions of their own), from /proc."""
        found = []
        for pid in descendants(os.getpid()):
            try:
                if b"worker_runtime" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
            except OSError:
                continue
        return found

    def kill_worker(self) -> int | None:
        """SIGKILL one function worker at random; its pid (None: none was running)."""
        pids = self.worker_pids()
        if not pids:
            return None
        victim = random.choice(pids)
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            return None
        return victim

    def endpoint_outage(self, down_s: float) -> str:
        """Stop the emulator's HTTP server and serve the same app (same data) again on the same port."""
        from emulator.server import EndpointServer

        emulator = self.emulator
        old = emulator.server
        app, (host, port) = old._server.app, old._server.server_address[:2]
        old.stop()
        time.sleep(down_s)  # the outage itself: its length is the fault
        emulator.server = EndpointServer(app, host, port)
        emulator.server.start()
        return f"endpoint down {down_s:.0f} s mid-run (its server stopped, the data kept)"


@contextmanager
def started(backend: str) -> Iterator[Pipeline]:
    """The pipeline on ``backend``: embedded in this process, or a compose stack of its own."""
    if backend == "docker":
        from tests.chaos.docker_stack import compose_stack

        with compose_stack() as pipeline:
            yield pipeline
    else:
        with embedded() as pipeline:
            yield pipeline


@contextmanager
def embedded(extra_env: dict[str, str] | None = None) -> Iterator[Pipeline]:
    """The embedded backend in this process, on free ports, with a throwaway state dir."""
    from bootstrap import api
    from emulator import Emulator, EmulatorConfig  # imports moto: only when a scenario runs
    from sandbox.httpsink import HttpSink

    state_dir = Path(tempfile.mkdtemp(prefix="chaos-state-"))
    env = {**sandbox_env(f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}/deliveries", state_dir),
           **(extra_env or {})}
    requested = Settings.from_env(env)
    sink_port = int(requested.http_sink_url.split(":")[2].split("/")[0])
    endpoint_port = int((requested.endpoint_url or "").rsplit(":", 1)[1])
    try:
        with HttpSink("127.0.0.1", sink_port) as sink, \
                Emulator(EmulatorConfig.from_env(env, host="127.0.0.1", port=endpoint_port)) as emulator:
            settings = requested.with_overrides(endpoint_url=emulator.endpoint_url, http_sink_url=sink.url)
            api.apply(settings)
            yield Pipeline(settings, state_dir, InProcess(emulator, sink))
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def finish(row: Row, pipeline: Pipeline, plan: dict[str, list[str]], run_ids: list[str], timeout: float,
           note: str = "", expect_verify: int | None = None, at_least_once: tuple[str, ...] = ()) -> Row:
    """Drain, count, run `sandbox verify` for each run and compare it with the counts
    (``expect_verify``: the exit code it must give instead, where its manifest is known short).

    ``at_least_once``: sinks where the scenario makes AWS itself deliver twice (the scenario
    says why); their duplicates do not fail the row, but verify must still report them.
    """
    row.produced = sum(len(names) for names in plan.values())
    row.sinks, row.drain_s = pipeline.drain(plan, timeout)
    row.failed_batches = pipeline.failed_batches()
    clean = all(c.ok for c in row.sinks.values())
    codes = [pipeline.verify(run_id) for run_id in run_ids]
    agrees = all(code == expect_verify if expect_verify is not None else (code == 0) == clean for code in codes)
    row.verify = ("exit " + ",".join(sorted({str(c) for c in codes}))) + ("" if agrees else " DISAGREES")
    allowed = all(c.missing == 0 and (c.duplicated == 0 or sink in at_least_once) for sink, c in row.sinks.items())
    row.ok = allowed and agrees and row.drain_s is not None
    drained = f"drained in {row.drain_s} s" if row.drain_s is not None else f"NOT drained in {timeout:.0f} s"
    row.message = "; ".join(part for part in (note, drained) if part)
    return row
