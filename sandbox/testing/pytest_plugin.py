"""pytest fixtures for the sandbox: add ``pytest_plugins = ["sandbox.testing.pytest_plugin"]`` to a conftest.

- ``embedded_sandbox``: the emulator, the deployed pipeline and the HTTP sink in the
  test process (no Docker); one per test session.
- ``sandbox_container``: the same in Docker (``SandboxContainer(pipeline=True)``),
  one per session; skipped with the reason where no Docker engine answers.
Both give a ``SandboxEndpoint``: ``.url``, ``.client("dynamodb")``, ``.topology``, ``.deliveries()``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.testing.endpoint import SandboxEndpoint
from sandbox.testing.endpoint import embedded_sandbox as _embedded


@pytest.fixture(scope="session")
def embedded_sandbox() -> Iterator[SandboxEndpoint]:
    with _embedded(pipeline=True) as running:
        yield running


@pytest.fixture(scope="session")
def sandbox_container() -> Iterator[SandboxEndpoint]:
    from sandbox import engine

    if engine.client() is None:
        pytest.skip("no Docker engine answers (docker info): sandbox_container needs one; "
                    "embedded_sandbox runs without Docker")
    from sandbox.testing.container import SandboxContainer

    with SandboxContainer(pipeline=True) as container:
        yield container.endpoint
