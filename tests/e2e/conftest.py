"""The ``backend`` fixture: every e2e test runs once per backend.

embedded (in this process); docker-emulator (our emulator in a container of the
project image, testcontainers); localstack (LocalStack in Docker, when its image is
here or can be pulled). The Docker ones skip with the reason where no engine answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.backends import Backend, embedded_backend


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("docker-emulator", marks=pytest.mark.docker),
        pytest.param("localstack", marks=pytest.mark.docker),
    ],
)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "embedded":
        emulator: Any = request.getfixturevalue("emulator")
        with embedded_backend(emulator) as embedded:
            yield embedded
        return
    # imported lazily; testcontainers is a dev dependency, so an ImportError is a real failure
    if request.param == "docker-emulator":
        from tests.docker.emulator_backend import docker_emulator_backend

        with docker_emulator_backend() as container:
            yield container
        return
    from tests.docker.localstack_backend import localstack_backend

    with localstack_backend() as localstack:  # skips with the engine's reason when none answers
        yield localstack
