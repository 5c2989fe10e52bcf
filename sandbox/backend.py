"""Which backend runs the sandbox: a Docker compose stack (LocalStack or our emulator) or embedded.

`make up` asks ``sandbox backend`` and then runs ``sandbox compose up`` or ``sandbox up``.
The rule, said in one line whichever way it goes:

- ``BACKEND=embedded|docker`` forces the backend; ``EMULATOR=1|0`` forces the
  compose stack's AWS endpoint (our emulator or LocalStack).
- Otherwise, with an engine that answers: LocalStack when its pinned image is here
  or a registry answers for it; else the same stack with our emulator image (built
  when needed: `make images` works offline); else, when that image cannot be built
  either, the embedded backend. Without an engine: embedded.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sandbox.compose import Variant
from sandbox.errors import ConfigError, DockerUnavailable, SandboxError

ENV_BACKEND = "BACKEND"
ENV_EMULATOR = "EMULATOR"
ENV_LOCALSTACK_IMAGE = "LOCALSTACK_IMAGE"
#: The last LocalStack image that runs without an auth token (FACTS.md); docker-compose.yml defaults to it too.
DEFAULT_LOCALSTACK_IMAGE = "localstack/localstack:4.14.0"
_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
DOCKER_PROBE_TIMEOUT_S = 5.0


class Backend(StrEnum):
    EMBEDDED = "embedded"
    DOCKER = "docker"


@dataclass(frozen=True)
class Choice:
    backend: Backend
    reason: str
    variant: Variant | None = None  # the compose stack's AWS endpoint (Docker only)


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


def probe_localstack(image: str) -> Probe:
    """Is the LocalStack image here, or can it be pulled (a manifest lookup, no download)?"""
    from sandbox import engine

    docker = engine.client()
    if docker is None:
        return Probe(False, "no Docker engine answers")
    if engine.image_present(docker, image):
        return Probe(True, f"{image} is here")
    ok, detail = engine.pullable(docker, image)
    return Probe(ok, detail if ok else f"{image} is not here and cannot be pulled: {detail}")


def probe_project_image() -> Probe:
    """Is our image built, or can it be (offline or online)?"""
    from sandbox import engine
    from sandbox.images.build import project_image_status

    docker = engine.client()
    if docker is None:
        return Probe(False, "no Docker engine answers")
    return Probe(*project_image_status(docker))


class NoDockerVariant(SandboxError):
    def __init__(self, localstack: str, image: str) -> None:
        super().__init__(
            f"BACKEND=docker was asked for, but neither endpoint can run: {localstack}; {image}",
            "provide the LocalStack image (`docker load -i localstack.tar`, or a registry), "
            "or build ours (`sudo make images`), or run `make up BACKEND=embedded`",
        )


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise ConfigError(f"{name}={raw!r} is not 1 or 0", f"set {name}=1 (our emulator) or {name}=0 (LocalStack)")


def choose(
    environ: Mapping[str, str] | None = None,
    probe: Callable[[], Probe] = probe_docker,
    localstack: Callable[[str], Probe] = probe_localstack,
    project_image: Callable[[], Probe] = probe_project_image,
    *,
    docker_only: bool = False,
) -> Choice:
    """Pick the backend (and the compose stack's endpoint) from the settings and the probes.

    ``docker_only``: the caller runs the compose stack whatever BACKEND says (`sandbox compose up`).
    """
    env = os.environ if environ is None else environ
    requested = (env.get(ENV_BACKEND) or "auto").strip().lower()
    if docker_only:
        requested = Backend.DOCKER
    if requested == Backend.EMBEDDED:
        return Choice(Backend.EMBEDDED, "BACKEND=embedded was asked for")
    if requested not in (Backend.DOCKER, "auto"):
        raise ConfigError(f"BACKEND={requested!r} is not one of embedded, docker, auto")
    emulator = _flag(env, ENV_EMULATOR)
    result = probe()
    if not result.answers:
        if requested == Backend.DOCKER:
            raise DockerUnavailable(result.detail)
        return Choice(
            Backend.EMBEDDED,
            f"no Docker engine answers ({result.detail}); set BACKEND=docker to require Docker",
        )
    asked = requested == Backend.DOCKER and not docker_only
    forced = "BACKEND=docker was asked for" if asked else result.detail
    if emulator is True:
        return Choice(Backend.DOCKER, f"{forced}; EMULATOR=1: our emulator as the AWS endpoint", Variant.EMULATOR)
    image = env.get(ENV_LOCALSTACK_IMAGE) or DEFAULT_LOCALSTACK_IMAGE
    if emulator is False:
        return Choice(Backend.DOCKER, f"{forced}; EMULATOR=0: LocalStack ({image})", Variant.LOCALSTACK)
    found = localstack(image)
    if found.answers:
        return Choice(Backend.DOCKER, f"{forced}; LocalStack: {found.detail} (EMULATOR=1 runs our emulator instead)",
                      Variant.LOCALSTACK)
    ours = project_image()
    if ours.answers:
        return Choice(
            Backend.DOCKER,
            f"{forced}, but {found.detail}: running the same compose stack with our emulator as the AWS endpoint "
            f"({ours.detail}; BACKEND=embedded runs without Docker)",
            Variant.EMULATOR,
        )
    if requested == Backend.DOCKER:
        raise NoDockerVariant(found.detail, ours.detail)
    return Choice(
        Backend.EMBEDDED,
        f"{result.detail}, but {found.detail} and {ours.detail}: running the embedded backend instead",
    )
