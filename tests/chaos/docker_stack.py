"""A chaos scenario on the Docker backend: the compose stack with our emulator as the AWS
endpoint (docker-compose.emulator.yml), one stack per scenario, and its faults.

Each scenario's stack has a project name, network and host ports of its own (never the
user's 4566/8088), so it runs beside a developer's `make up`. Only the endpoint, the sink and
the one-shot bootstrap are started, not the compose producer: the scenario's producer runs
on the host against the published port, exactly as on the embedded backend (the census
would ignore the demo producer's clicks, but they would load the pipeline under test).
Starting, waiting and tearing down reuse ``sandbox.stack`` (what `make up`/`make down` run);
the teardown is `down -v --remove-orphans` and fails the scenario if anything of the
project is left. LocalStack is not used here: its image cannot be had on every machine, and
only our emulator's workers can be killed one by one.

The endpoint container keeps its snapshot, and the sink its journal, on the stack's volume
(docker-compose.emulator.yml), so a container stopped or killed and started again resumes
from its saved state, as `sandbox up` does on its state dir.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bootstrap.settings import Settings
from bootstrap.waiters import wait_until
from sandbox import compose, stack
from sandbox.compose import Variant
from sandbox.errors import SandboxError
from tests.chaos.harness import Pipeline, sandbox_env
from tests.chaos.isolated import PROJECT_ENV
from tests.e2e.sandbox_process import free_port

VARIANT = Variant.EMULATOR
#: The long-running services a scenario starts, stops and kills (bootstrap runs once, before).
LONG_RUNNING = (VARIANT.endpoint_service, "httpsink")
STARTED = (*LONG_RUNNING, "bootstrap")
#: The user's own stack may hold these: a scenario never publishes on them.
RESERVED_PORTS = (compose.DEFAULT_EDGE_PORT, compose.DEFAULT_SINK_PORT)
UP_TIMEOUT_S = 300.0
HEALTHY_TIMEOUT_S = 120.0
#: SIGKILL one random function worker inside the endpoint container; print its pid (nothing if none runs).
KILL_ONE_WORKER = """
import os, random, signal
pids = []
for entry in os.listdir("/proc"):
    try:
        if entry.isdigit() and b"worker_runtime" in open(f"/proc/{entry}/cmdline", "rb").read():
            pids.append(int(entry))
    except OSError:
        pass
if pids:
    victim = random.choice(pids)
    try:
        os.kill(victim, signal.SIGKILL)
        print(victim)
    except ProcessLookupError:
        pass
"""


def _say(line: str) -> None:
    print(f"  docker: {line}", flush=True)


def unavailable_reason() -> str | None:
    """None when a scenario can run on Docker here, else why not (one line): no engine, no
    Compose CLI, or the project image neither here nor buildable. Builds the image when needed."""
    from sandbox import engine
    from tests.docker.engine import engine_unavailable_reason

    docker = engine.client(timeout=10)
    if docker is None:
        return engine_unavailable_reason() or "no Docker engine answers"
    try:
        compose.cli()
        stack.ensure_image(docker, _say)
    except SandboxError as error:
        return error.message + (f" (fix: {error.fix})" if error.fix else "")
    return None


def _free_port() -> int:
    while (port := free_port()) in RESERVED_PORTS:
        continue
    return port


@dataclass
class DockerStack:
    """One compose project's containers, and the faults a scenario injects into them."""

    docker: Any

    def container(self, service: str) -> Any:
        return self.docker.containers.get(stack.states(self.docker)[service].name)

    def kill_worker(self) -> int | None:
        """SIGKILL one function worker inside the endpoint container (found from its /proc); its pid."""
        code, output = self.container(VARIANT.endpoint_service).exec_run(["python", "-c", KILL_ONE_WORKER])
        text = output.decode().strip() if code == 0 else ""
        return int(text) if text.isdigit() else None

    def wait_healthy(self, services: tuple[str, ...], timeout: float = HEALTHY_TIMEOUT_S) -> float:
        """Until each service's container is running and healthy; the seconds it took."""
        began = time.monotonic()

        def healthy() -> tuple[bool, str]:
            seen = stack.states(self.docker)
            ready = all(s in seen and seen[s].status == "running" and seen[s].health == "healthy" for s in services)
            return ready, ", ".join(seen[s].describe() if s in seen else f"{s}: no container" for s in services)

        wait_until(healthy, what=f"{', '.join(services)} to be healthy", timeout=timeout, max_interval=0.5)
        return time.monotonic() - began

    def _exits(self, services: tuple[str, ...]) -> str:
        """How each service's container ended ("emulator 0, httpsink 137")."""
        seen = stack.states(self.docker)
        return ", ".join(f"{s} {seen[s].exit_code}" for s in services if s in seen)

    def _compose(self, *args: str) -> None:
        done = stack.compose_run(VARIANT, *args, capture=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"`compose {' '.join(args)}` exited {done.returncode}: {done.stderr.strip()[-300:]}")

    def endpoint_outage(self, down_s: float) -> str:
        """Stop the endpoint container (SIGTERM: it refuses writes, takes its final snapshot and
        exits), keep it down ``down_s``, start it again on its volume; what happened, said."""
        endpoint = (VARIANT.endpoint_service,)
        began = time.monotonic()
        self._compose("stop", "--timeout", str(stack.STOP_TIMEOUT_S), *endpoint)
        exits = self._exits(endpoint)
        time.sleep(max(0.0, down_s - (time.monotonic() - began)))  # the outage itself: its length is the fault
        self._compose("start", *endpoint)
        healthy = self.wait_healthy(endpoint)
        return (f"endpoint container stopped mid-run (SIGTERM; exit: {exits}), started again on its snapshot, "
                f"healthy {healthy:.1f} s later: down {time.monotonic() - began:.0f} s")

    def restart(self, signum: signal.Signals) -> str:
        """`compose stop` (SIGTERM) or `compose kill` (SIGKILL) the endpoint and the sink, then
        `compose start` them; what happened, said."""
        verb = ["stop", "--timeout", str(stack.STOP_TIMEOUT_S)] if signum == signal.SIGTERM else ["kill"]
        self._compose(*verb, *LONG_RUNNING)
        exits = self._exits(LONG_RUNNING)
        self._compose("start", *LONG_RUNNING)
        healthy = self.wait_healthy(LONG_RUNNING)
        return f"{signum.name} (compose {verb[0]}) -> exit {exits}, healthy again in {healthy:.1f} s"


def _isolate(project: str, edge: int = 0, sink: int = 0) -> None:
    """Point ``sandbox.compose`` at ``project``, its own network and ports (this process is the
    scenario's: tests/chaos/isolated.py), and drop the user's sandbox and AWS settings."""
    for name in [k for k in os.environ if k.startswith(("SANDBOX_", "AWS_"))]:
        del os.environ[name]
    os.environ.update({compose.ENV_PROJECT: project, compose.ENV_NETWORK: f"{project}-net",
                       compose.ENV_EDGE_PORT: str(edge or _free_port()), compose.ENV_SINK_PORT: str(sink or _free_port())})


def remove_project(project: str) -> str:
    """`down -v` a scenario's stack from outside it (its process was killed); what is left, said."""
    saved = dict(os.environ)
    try:
        _isolate(project, edge=1, sink=1)
        return "its stack removed" if stack.down(_say) else "it had no stack"
    except SandboxError as error:
        return error.message
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def compose_stack() -> Iterator[Pipeline]:
    """A fresh compose stack (endpoint, sink, bootstrap) on free ports; removed afterwards,
    checking nothing of it is left (a leftover fails the scenario)."""
    from sandbox import engine

    _isolate(os.environ.get(PROJECT_ENV) or f"chaos-{uuid.uuid4().hex[:10]}")
    edge, sink = compose.edge_port(), compose.sink_port()
    docker = engine.client(timeout=30)
    if docker is None:
        raise RuntimeError("no Docker engine answers")
    state_dir = Path(tempfile.mkdtemp(prefix="chaos-state-"))
    try:
        _say(f"compose stack {compose.project()} on 127.0.0.1:{edge} (endpoint) and :{sink} (sink)")
        done = stack.compose_run(VARIANT, "up", "--detach", "--no-build", *STARTED, capture=True, timeout=UP_TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"`compose up` exited {done.returncode}: {done.stderr.strip()[-500:]}")
        stack.wait_bootstrap(docker, VARIANT, _say, timeout=UP_TIMEOUT_S)
        env = sandbox_env(f"http://127.0.0.1:{edge}", f"http://127.0.0.1:{sink}/deliveries", state_dir)
        yield Pipeline(Settings.from_env(env), state_dir, DockerStack(docker))
    finally:
        try:
            stack.down(_say)
        finally:
            shutil.rmtree(state_dir, ignore_errors=True)
