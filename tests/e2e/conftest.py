"""The ``backend`` fixture: every e2e test runs once per backend (embedded; LocalStack with Docker)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.backends import Backend, embedded_backend


@pytest.fixture(
    params=["embedded", pytest.param("localstack", marks=pytest.mark.docker)],
)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "embedded":
        emulator: Any = request.getfixturevalue("emulator")
        with embedded_backend(emulator) as embedded:
            yield embedded
        return
    try:  # imported lazily: it needs testcontainers and, to run, a Docker engine
        from tests.docker.localstack_backend import localstack_backend
    except ImportError as error:
        pytest.skip(f"LocalStack backend unavailable: {error}")
    with localstack_backend() as localstack:  # skips with the engine's reason when none answers
        yield localstack
