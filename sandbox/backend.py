"""Which backend runs the sandbox: the Docker compose stack or the embedded emulator.

`make up` asks ``sandbox backend`` and then runs the Docker targets or ``sandbox up``.
The rule: ``BACKEND=embedded|docker`` forces one; otherwise Docker when an engine
answers ``docker info`` quickly, else embedded. The reason is always said.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sandbox.errors import ConfigError, DockerUnavailable

ENV_BACKEND = "BACKEND"
DOCKER_PROBE_TIMEOUT_S = 5.0


class Backend(StrEnum):
    EMBEDDED = "embedded"
    DOCKER = "docker"


@dataclass(frozen=True)
class Choice:
    backend: Backend
    reason: str


@dataclass(frozen=True)
class Probe:
    """Whether a Docker engine answers, and what `docker info` said if not."""

    answers: bool
    detail: str


def probe_docker(timeout: float = DOCKER_PROBE_TIMEOUT_S) -> Probe:
    """Ask the engine for its version; a missing CLI, an error or a hang means no engine."""
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return Probe(False, "the docker CLI is not installed")
    except subprocess.TimeoutExpired:
        return Probe(False, f"`docker info` did not answer within {timeout:.0f} s")
    if done.returncode == 0 and done.stdout.strip():
        return Probe(True, f"Docker engine {done.stdout.strip()} answers")
    lines = (done.stderr or done.stdout).strip().splitlines()
    detail = lines[-1] if lines else f"`docker info` exited {done.returncode}"
    return Probe(False, detail[:200])


def choose(
    environ: Mapping[str, str] | None = None,
    probe: Callable[[], Probe] = probe_docker,
) -> Choice:
    """Pick the backend from ``BACKEND`` and, when not forced, from the Docker probe."""
    env = os.environ if environ is None else environ
    requested = (env.get(ENV_BACKEND) or "auto").strip().lower()
    if requested == Backend.EMBEDDED:
        return Choice(Backend.EMBEDDED, "BACKEND=embedded was asked for")
    if requested == Backend.DOCKER:
        result = probe()
        if not result.answers:
            raise DockerUnavailable(result.detail)
        return Choice(Backend.DOCKER, f"BACKEND=docker was asked for ({result.detail})")
    if requested != "auto":
        raise ConfigError(f"BACKEND={requested!r} is not one of embedded, docker, auto")
    result = probe()
    if result.answers:
        return Choice(Backend.DOCKER, f"{result.detail}; set BACKEND=embedded to run without Docker")
    return Choice(
        Backend.EMBEDDED,
        f"no Docker engine answers ({result.detail}); set BACKEND=docker to require Docker",
    )
