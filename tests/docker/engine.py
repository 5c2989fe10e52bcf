"""Is there a Docker engine (and a Compose CLI) to run the Docker tests against?

Tests marked ``@pytest.mark.docker`` call :func:`require_engine` (the conftest
hook does it for them) and are skipped with the probe's own words when nothing
answers, so ``pytest -rs`` says why.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

PROBE_TIMEOUT_S = 3.0


@lru_cache(maxsize=1)
def engine_unavailable_reason() -> str | None:
    """None when ``docker.from_env().ping()`` succeeds, else why not (one line)."""
    try:
        import docker
    except ImportError:
        return "the docker SDK is not installed (pip install -e '.[dev]')"
    try:
        client = docker.from_env(timeout=PROBE_TIMEOUT_S)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:  # noqa: BLE001 - any failure means "no engine", said as is
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"no Docker engine answers (docker.from_env().ping(): {detail[:200]})"
    return None


def require_engine() -> None:
    """Skip the calling test, with the reason, unless a Docker engine answers."""
    reason = engine_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


@lru_cache(maxsize=1)
def compose_command() -> tuple[str, ...] | None:
    """The Compose v2 CLI: the docker plugin, a docker-compose on PATH, or the venv's one.

    A Compose v1 (Debian's python docker-compose 1.29) answers too but lacks
    `config --format json`: only a version 2 or later counts.
    """
    if shutil.which("docker") and _is_v2(("docker", "compose")):
        return ("docker", "compose")
    candidates = [shutil.which("docker-compose"), str(Path(sys.executable).parent / "docker-compose")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and _is_v2((candidate,)):
            return (candidate,)
    return None


def require_compose() -> tuple[str, ...]:
    """The Compose CLI, or skip the calling test saying none was found."""
    command = compose_command()
    if command is None:
        pytest.skip(
            "no Docker Compose CLI (neither `docker compose` nor docker-compose; "
            "pip install -e '.[dev]' brings one)"
        )
    return command


def _is_v2(compose: tuple[str, ...]) -> bool:
    """``compose version --short`` answers ``2.40.3`` (or ``v2.40.3``), not ``1.29.2``."""
    try:
        done = subprocess.run([*compose, "version", "--short"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    major = done.stdout.strip().lstrip("v").split(".", 1)[0]
    return done.returncode == 0 and major.isdigit() and int(major) >= 2
