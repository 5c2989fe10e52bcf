"""Which endpoint the CLI talks to: the running sandbox unless the user says otherwise.

Order: an explicit ``AWS_ENDPOINT_URL``; else the stack `sandbox up` recorded in the
state dir (``sandbox.state`` finds it from anywhere in the checkout); else the default
local endpoint. Real AWS only with an explicit ``SANDBOX_ALLOW_REAL_AWS=1`` and no
endpoint (``Settings.require_target``).

The HTTP sink follows the same order: an explicit ``SANDBOX_HTTP_SINK_URL``; else the
recorded stack's sink whenever the endpoint is the recorded one (also when it came
from ``AWS_ENDPOINT_URL``, as after ``eval "$(sandbox env)"``); else the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bootstrap.settings import DEFAULT_ENDPOINT, ENV_ENDPOINT, ENV_HTTP_SINK_URL, Settings
from bootstrap.topology import Topology
from sandbox import ports, state
from sandbox.errors import BackendNotRunning, SandboxError


@dataclass(frozen=True)
class Target:
    settings: Settings
    origin: str  # where the endpoint came from, in words ("recorded in …/stack.json", …)


def _same_endpoint(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def resolve(environ: Mapping[str, str] | None = None) -> Target:
    """Settings aimed at the sandbox, and where the endpoint came from (see the module docstring)."""
    env = os.environ if environ is None else environ
    settings = Settings.from_env(env)
    if settings.endpoint_url is None and settings.allow_real_aws:
        return Target(settings, "real AWS (SANDBOX_ALLOW_REAL_AWS=1, no AWS_ENDPOINT_URL)")
    running = state.read(settings)
    recorded = running.endpoint_url if running is not None else ""
    stackfile = state.state_dir(settings) / state.STACKFILE
    sink = None if env.get(ENV_HTTP_SINK_URL) or running is None else (running.http_sink_url or None)
    if settings.endpoint_url is not None:
        if recorded and _same_endpoint(recorded, settings.endpoint_url):
            return Target(settings.with_overrides(http_sink_url=sink), f"{ENV_ENDPOINT}, the sandbox recorded in {stackfile}")
        return Target(settings, ENV_ENDPOINT)
    if not recorded:
        where = state.searched(settings)
        return Target(
            settings.with_overrides(endpoint_url=DEFAULT_ENDPOINT), f"the default: no running `sandbox up` recorded in {where}"
        )
    return Target(settings.with_overrides(endpoint_url=recorded, http_sink_url=sink), f"recorded in {stackfile}")


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings aimed at the sandbox (see the module docstring for the order)."""
    return resolve(environ).settings


def require_running(settings: Settings, origin: str = "") -> None:
    """Fail fast with the fix when nothing listens at a local endpoint (``origin``: why that one)."""
    settings.require_target()
    if settings.endpoint_url and ports.is_local(settings.endpoint_url):
        host, port = ports.host_port(settings.endpoint_url, 4566)
        if not ports.answers(host, port):
            from sandbox.stack import dead_endpoint

            dead = dead_endpoint()
            if dead is not None:
                raise SandboxError(
                    f"nothing answers at {settings.endpoint_url}: the compose stack's AWS endpoint container "
                    f"stopped ({dead})",
                    "`make logs` shows why; restart with `make down && make up`",
                )
            raise BackendNotRunning(settings.endpoint_url, origin)


def bootstrapped(environ: Mapping[str, str] | None = None) -> tuple[Target, Topology]:
    """The target of a sandbox that answers and has the pipeline's table (else one line with the fix)."""
    from bootstrap.clients import client  # boto3: only for the commands that talk to AWS
    from producer.target import resolve_topology

    found = resolve(environ)
    require_running(found.settings, found.origin)
    topology = resolve_topology(found.settings)
    # Not bootstrapped is one line with the fix (the boundary maps ResourceNotFoundException).
    client("dynamodb", found.settings, max_attempts=1).describe_table(TableName=topology.table_name)
    return found, topology


def connect(environ: Mapping[str, str] | None = None) -> Settings:
    """``resolve`` + ``require_running``: the settings of a sandbox that answers."""
    found = resolve(environ)
    require_running(found.settings, found.origin)
    return found.settings
