"""Is there a Docker engine, and the images, to run the Docker tests against?

Tests marked ``@pytest.mark.docker`` call :func:`require_engine` (the conftest
hook does it for them) and are skipped with the probe's own words when nothing
answers, so ``pytest -rs`` says why. LocalStack's tests skip with one reason when
its images cannot be had; a project image that cannot be built is a failure.
(The Compose CLIs are found by ``sandbox.compose.available``.)
"""

from __future__ import annotations

from functools import lru_cache

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
    from sandbox.images import PROJECT_IMAGE
    from sandbox.images.build import ensure_project_image
    from sandbox.images.errors import ImageBuildError

    docker = engine.client()
    if docker is None:
        pytest.fail(f"the Docker engine stopped answering, so {PROJECT_IMAGE} cannot be checked", pytrace=False)
    try:
        return ensure_project_image(docker, lambda line: print(line, flush=True), update=False)
    except ImageBuildError as error:
        pytest.fail(f"the Docker engine answers but {PROJECT_IMAGE} is missing and cannot be built: {error.line()} "
                    "(fix: make images)", pytrace=False)
