"""A producer run that spans sandbox restarts: `sandbox up` SIGKILLed mid-pipeline, started again,
and `sandbox verify` of the run at the end (the e2e test and the persistence benchmark share it).

The run is written in full first (``sandbox produce --rate 0``: batched, a few seconds), then
the sandbox is killed while consumer B is still delivering it (the sink delays each delivery),
each time once a snapshot of that life exists: a SIGKILL loses what changed since the last
snapshot, so the first must hold every write of the run, and each later one some progress.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import urllib.request

from emulator.snapshot_file import SnapshotError, read_header
from tests.waiting import wait_until

from .sandbox_process import ROOT, environment, free_port

UP = ["sandbox", "up", "--no-live", "--no-dashboard", "--rate", "0.1"]


@dataclass
class RestartRun:
    """Ports and state dir kept across the sandbox's lives."""

    state_dir: Path
    endpoint_port: int = field(default_factory=free_port)
    sink_port: int = field(default_factory=free_port)
    up_args: tuple[str, ...] = ()  # more `sandbox up` options (e.g. --no-persist)
    output: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None

    @property
    def env(self) -> dict[str, str]:
        # One lane per shard in consumer B: the delayed sink then paces it slowly enough for the
        # kills to land mid-pipeline (8 lanes would finish a small run before the first kill).
        return {**environment(self.endpoint_port, self.sink_port, self.state_dir), "SANDBOX_HTTP_LANES": "1"}

    def up(self, timeout: float = 90.0) -> str:
        """Start `sandbox up` and wait for "ready"; returns its "state: …" line."""
        self.process = subprocess.Popen(
            [*UP, *self.up_args], cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, start_new_session=True,
        )
        lines: list[str] = []
        ready = threading.Event()

        def pump() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                lines.append(line)
                self.output.append(line)
                if "ready in" in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        wait_until(lambda: ready.is_set() or self.process.poll() is not None, timeout=timeout,  # type: ignore[union-attr]
                   what="sandbox up to be ready")
        assert ready.is_set(), "sandbox up ended before it was ready:\n" + "".join(lines)
        return next((line.strip() for line in lines if line.startswith("state:")), "")

    def kill(self, signum: int = signal.SIGKILL) -> None:
        """SIGKILL, as a crash or `kill -9` would (the process only: its workers exit on their own),
        or SIGTERM, as `sandbox down` sends."""
        assert self.process is not None
        os.kill(self.process.pid, signum)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def sandbox(self, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sandbox", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)

    def snapshot_time(self) -> float:
        try:
            return read_header(self.state_dir / "snapshot.bin").created_at
        except SnapshotError:
            return 0.0

    def _sink(self, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.sink_port}{path}", data=data, method="POST" if data else "GET")
        with urllib.request.urlopen(request, timeout=5) as response:
            return dict(json.loads(response.read()))

    def deliveries(self) -> int:
        """Deliveries the HTTP sink holds (the pipeline's last stage, read directly)."""
        return int(self._sink("/stats")["deliveries"])  # type: ignore[call-overload]

    def slow_sink(self, latency_ms: int) -> None:
        """Delay every delivery, so a kill lands while consumer B is mid-run (faults survive a restart)."""
        self._sink("/faults", {"latency_ms": latency_ms})


@dataclass(frozen=True)
class Outcome:
    run_id: str
    clicks: int
    kills: int
    state_lines: list[str]
    verify_rc: int
    verify_output: str
    elapsed_s: float


def run_with_kills(
    state_dir: Path,
    clicks: int,
    signals: tuple[int, ...] = (signal.SIGKILL, signal.SIGKILL),
    verify_wait_s: float = 240.0,
    sink_latency_ms: int = 60,
) -> Outcome:
    """Produce ``clicks`` (with updates and deletes), stop the sandbox with each of ``signals`` in
    turn while consumer B is delivering them, start it again each time, then `sandbox verify` the run."""
    began = time.monotonic()
    run = RestartRun(state_dir)
    states = [run.up()]
    try:
        run.slow_sink(sink_latency_ms)
        produced = run.sandbox("produce", "--count", str(clicks), "--rate", "0", "--update-ratio", "0.2",
                               "--delete-ratio", "0.1", "--json", "--no-progress")
        assert produced.returncode == 0, produced.stdout + produced.stderr
        summary = json.loads(produced.stdout)
        expected = int(summary["expected_stream_records"])
        since = time.time()
        for index, signum in enumerate(signals):
            # Each life saves progress before it dies (the first: every write of the run).
            wait_until(lambda: run.snapshot_time() > since, timeout=120, what="a snapshot newer than this life's start")
            left = len(signals) - index  # kills still to come, this one included
            # Mid-pipeline: consumer B made progress in this life (an equal share of what remains per kill
            # to come) and has more to deliver.
            now = run.deliveries()
            mark = now + max(1, (expected - now) // (left + 1))
            wait_until(lambda: run.deliveries() >= mark, timeout=300, interval=0.1, what=f"consumer B at {mark} deliveries")
            assert run.deliveries() < expected, "the pipeline finished before the kill: raise sink_latency_ms"
            run.kill(signum)
            states.append(run.up())
            since = time.time()
        done = run.sandbox("verify", summary["run_id"], "--wait", str(verify_wait_s), timeout=verify_wait_s + 60)
    finally:
        run.stop()
    return Outcome(summary["run_id"], clicks, len(signals), states, done.returncode, done.stdout + done.stderr,
                   time.monotonic() - began)
