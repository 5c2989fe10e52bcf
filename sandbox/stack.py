"""The compose stack in the foreground: `make up` on Docker (`sandbox compose up`).

What plain `docker compose up` does not: choose the endpoint honestly (LocalStack
or our emulator, see ``sandbox.backend``), check the ports first, build the image
offline when needed, wait for the one-shot bootstrap to exit 0 and for the first
clicks in every sink (the ready line, with seconds), then follow the logs while
watching the endpoint: a container that dies mid-run is one line with the fix, not
a stack that silently stops delivering. Ctrl-C (or SIGTERM) stops the stack;
`make down` removes it, leaving no container, network or volume.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bootstrap.settings import Settings
from bootstrap.waiters import WaitTimeout, wait_until
from sandbox import compose, engine, ports
from sandbox.compose import Variant
from sandbox.engine import ContainerState
from sandbox.errors import SandboxError

Say = Callable[[str], None]
BOOTSTRAP_TIMEOUT_S = 900.0  # LocalStack's first start downloads DynamoDB Local and kinesis-mock
FIRST_CLICKS_TIMEOUT_S = 180.0
WATCH_INTERVAL_S = 1.0
STOP_TIMEOUT_S = 20


class StackFailed(SandboxError):
    """A container of the stack failed or stopped; the message names it and how it ended."""


@dataclass(frozen=True)
class Ready:
    seconds: float
    counts: dict[str, int]


def running_variant(docker: Any) -> Variant | None:
    """Which variant's containers exist for the project (running or not), by the endpoint service."""
    services = {c.service for c in engine.project_containers(docker, compose.project())}
    for variant in Variant:
        if variant.endpoint_service in services:
            return variant
    return Variant.LOCALSTACK if services else None


def preflight(docker: Any, variant: Variant) -> None:
    """One line with the fix, before anything starts: a stack already up, a host port taken."""
    existing = [c for c in engine.project_containers(docker, compose.project()) if c.status == "running"]
    if existing:
        raise SandboxError(
            f"the compose stack {compose.project()} is already running ({', '.join(c.name for c in existing)})",
            "use it (`sandbox status`), or stop it first with `make down`",
        )
    for port, what, variable in ((compose.edge_port(), "the AWS endpoint", compose.ENV_EDGE_PORT),
                                 (compose.sink_port(), "the HTTP sink", compose.ENV_SINK_PORT)):
        ports.require_free("127.0.0.1", port, what, choose=f"`make up {variable}={port + 1}`")


def ensure_image(docker: Any, say: Say) -> None:
    """Build (or bring up to date) the project image, unless SANDBOX_IMAGE names one of the user's own."""
    from sandbox.images.build import ensure_project_image

    own = os.environ.get("SANDBOX_IMAGE")
    if own:
        if not engine.image_present(docker, own):
            raise SandboxError(f"SANDBOX_IMAGE={own} is not here",
                               "build or load it, or unset SANDBOX_IMAGE to use the image `make images` builds")
        return
    ensure_project_image(docker, say, update=True)


def compose_run(variant: Variant, *args: str, capture: bool = False, timeout: float | None = None
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(compose.command(variant, *args), cwd=compose.REPO_ROOT, env=compose.environment(),
                          text=True, check=False, capture_output=capture, timeout=timeout)


def states(docker: Any) -> dict[str, ContainerState]:
    return {c.service: c for c in engine.project_containers(docker, compose.project())}


def _service_logs(variant: Variant, service: str, lines: int = 25) -> str:
    done = compose_run(variant, "logs", "--no-color", "--tail", str(lines), service, capture=True, timeout=60)
    return (done.stdout or done.stderr).rstrip()


def check_alive(variant: Variant, seen: dict[str, ContainerState]) -> None:
    """The endpoint and the sink must be running; anything else stopped is named with the fix."""
    for service in (variant.endpoint_service, "httpsink"):
        state = seen.get(service)
        if state is None or state.status != "running":
            what = state.describe() if state else f"{service} has no container any more"
            raise StackFailed(
                f"the {'AWS endpoint' if service == variant.endpoint_service else 'HTTP sink'} container "
                f"stopped: {what}",
                f"`make logs` shows why; restart with `make down && make up{_flag(variant)}`",
            )


def _flag(variant: Variant) -> str:
    return " EMULATOR=1" if variant is Variant.EMULATOR else ""


@contextmanager
def _stuck_is_one_line() -> Iterator[None]:
    """A wait that reached its deadline says what it saw last, with the stack's fix."""
    try:
        yield
    except WaitTimeout as timeout:
        raise StackFailed(timeout.message, "`make logs` shows where it is stuck") from None


def wait_bootstrap(docker: Any, variant: Variant, say: Say, timeout: float = BOOTSTRAP_TIMEOUT_S) -> None:
    announced = False

    def exited_zero() -> tuple[bool, str]:
        nonlocal announced
        seen = states(docker)
        boot = seen.get("bootstrap")
        if boot is not None and boot.status in ("exited", "dead"):
            if boot.exit_code == 0:
                return True, boot.describe()
            print(_service_logs(variant, "bootstrap"), file=sys.stderr)
            raise StackFailed(f"bootstrap exited {boot.exit_code} (its last lines are above)",
                              "fix what it says, then `make down && make up`")
        endpoint = seen.get(variant.endpoint_service)
        if endpoint is not None and endpoint.status in ("exited", "dead"):
            print(_service_logs(variant, variant.endpoint_service), file=sys.stderr)
            check_alive(variant, seen)
        if not announced and endpoint is not None and endpoint.health == "starting":
            say(f"waiting for {variant.endpoint_service} to become healthy, then for bootstrap …")
            announced = True
        return False, ", ".join(state.describe() for state in seen.values())

    with _stuck_is_one_line():
        wait_until(exited_zero, what="bootstrap to exit", timeout=timeout, max_interval=0.5)


def host_settings() -> Settings:
    """Settings of the host's view of the stack (published loopback ports)."""
    return Settings.from_env({
        **os.environ,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{compose.edge_port()}",
        "SANDBOX_HTTP_SINK_URL": f"http://127.0.0.1:{compose.sink_port()}/deliveries",
    })


def wait_first_clicks(docker: Any, variant: Variant, started: float,
                      timeout: float = FIRST_CLICKS_TIMEOUT_S) -> Ready:
    """Until every sink holds at least one record (or a container dies, or the deadline)."""
    from producer.target import resolve_topology
    from sandbox.collector import Collector
    from sandbox.stats import SINK_STAGES

    settings = host_settings()
    collector = Collector(settings, resolve_topology(settings))
    counts: dict[str, int] = {}

    def every_sink_holds_clicks() -> tuple[bool, str]:
        check_alive(variant, states(docker))
        snapshot = collector.poll()
        counts.update({stage.value: snapshot.count(stage) for stage in SINK_STAGES})
        return all(count > 0 for count in counts.values()), str(counts)

    with _stuck_is_one_line():
        wait_until(every_sink_holds_clicks, what="a click in every sink", timeout=timeout, max_interval=0.5)
    return Ready(time.monotonic() - started, counts)


@contextmanager
def _interrupt_on_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM (a `kill`, a CI timeout) both stop the stack.

    SIGINT gets an explicit handler too: a process started in the background of a
    script inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
    """
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def follow(docker: Any, variant: Variant) -> None:
    """Show every container's logs until Ctrl-C; fail with one line when the endpoint or the sink dies."""
    logs = subprocess.Popen(compose.command(variant, "logs", "--follow", "--tail", "5"), cwd=compose.REPO_ROOT,
                            env=compose.environment())
    try:
        while True:
            check_alive(variant, states(docker))
            time.sleep(WATCH_INTERVAL_S)
    finally:
        logs.terminate()
        try:
            logs.wait(timeout=10)
        except subprocess.TimeoutExpired:
            logs.kill()


@contextmanager
def _dashboard() -> Iterator[str]:
    """The web dashboard of the stack, served from this process while it follows the stack (its URL)."""
    from producer.target import resolve_topology
    from sandbox.dashboard import ENV_DASHBOARD_PORT, served

    settings = host_settings()
    title = f"compose stack {compose.project()} · {settings.endpoint_url} · sink {settings.http_sink_url}"
    port = int(os.environ.get(ENV_DASHBOARD_PORT) or 0)
    with served(settings, resolve_topology(settings), title, port=port,
                choose=f"{ENV_DASHBOARD_PORT} (0: a free one)") as server:
        yield server.url


def up(say: Say, *, detach: bool = False, explain: bool = True) -> None:
    """`sandbox compose up` (see the module docstring); ``explain``: say why this endpoint."""
    from sandbox import backend

    choice = backend.choose(docker_only=True)
    variant = choice.variant or Variant.LOCALSTACK
    why = f" — {choice.reason}" if explain else ""
    say(f"compose stack {compose.project()}: {variant} as the AWS endpoint{why}")
    cli = compose.cli()
    say(f"compose CLI: {cli.describe()} (COMPOSE=… picks another)")
    docker = engine.client(timeout=30)
    if docker is None:
        raise SandboxError("the Docker engine stopped answering", "check `docker info`")
    preflight(docker, variant)
    ensure_image(docker, say)
    started = time.monotonic()
    with _interrupt_on_signals():
        try:
            done = compose_run(variant, "up", "--detach", "--no-build")
            if done.returncode != 0:
                raise StackFailed(f"`{' '.join(compose.command(variant, 'up', '--detach', '--no-build'))}` "
                                  f"exited {done.returncode} (its output is above)",
                                  "fix what it says, then `make down && make up`")
            wait_bootstrap(docker, variant, say)
            say(f"bootstrap exited 0 after {time.monotonic() - started:.1f} s; waiting for the first clicks …")
            ready = wait_first_clicks(docker, variant, started)
            counts = ", ".join(f"{name} {count}" for name, count in ready.counts.items())
            line = (f"ready in {ready.seconds:.1f} s: every sink holds clicks ({counts}). "
                    "From the host: `sandbox status`, `sandbox verify`; `make down` removes the stack.")
            if detach:
                say(line)
                return
            with _dashboard() as url:
                say(f"{line} Dashboard {url}")
                say("following the logs; Ctrl-C stops the stack")
                follow(docker, variant)
        except KeyboardInterrupt:
            say("stopping the compose stack …")
            # The producer first: on SIGTERM it saves its run's manifest, through the endpoint.
            compose_run(variant, "stop", "--timeout", str(STOP_TIMEOUT_S), "producer")
            compose_run(variant, "stop", "--timeout", str(STOP_TIMEOUT_S))
            say("stopped (containers kept for `make logs`); `make down` removes them")
        except StackFailed:
            # Nothing keeps running half-alive behind the error line; the containers stay for `make logs`.
            compose_run(variant, "stop", "--timeout", str(STOP_TIMEOUT_S), capture=True)
            raise


def down(say: Say) -> bool:
    """Remove the stack, its network and volumes; False when there was none. Checks nothing is left."""
    docker = engine.client(timeout=30)
    if docker is None:
        return False
    variant = running_variant(docker)
    project, network = compose.project(), compose.network()
    if variant is None and not engine.project_leftovers(docker, project, network):
        return False
    variant = variant or Variant.LOCALSTACK
    done = compose_run(variant, "down", "--volumes", "--remove-orphans", "--timeout", str(STOP_TIMEOUT_S))
    if done.returncode != 0:
        raise StackFailed(f"compose down exited {done.returncode} (its output is above)", "run `make down` again")
    left = engine.project_leftovers(docker, project, network)
    if left:
        raise StackFailed(f"after `down` these remain: {', '.join(left)}", "remove them with `docker rm -f` / "
                          "`docker network rm` / `docker volume rm`")
    say(f"removed the compose stack {project} ({variant}): no container, network or volume left")
    return True


def dead_endpoint() -> str | None:
    """When the compose stack's endpoint container exists but is not running: what happened to it (for errors)."""
    docker = engine.client(timeout=2)
    if docker is None:
        return None
    try:
        seen = states(docker)
    except Exception:  # noqa: BLE001 - only an explanation; the caller's error stands without it
        return None
    for variant in Variant:
        state = seen.get(variant.endpoint_service)
        if state is not None and state.status != "running":
            return state.describe()
    return None

