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
    # imported lazily; testcontainers is a dev dependency, so an ImportError is a real failure
    from tests.docker.localstack_backend import localstack_backend

    with localstack_backend() as localstack:  # skips with the engine's reason when none answers
        yield localstack
