"""Fixtures shared by every test layer: the embedded emulator and boto3 clients for it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from emulator import Emulator, EmulatorConfig
from sandbox import compose


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``docker`` (in any layer) are skipped, with the reason, where no engine answers."""
    if item.get_closest_marker("docker") is not None:
        from tests.docker.engine import require_engine

        require_engine()


@pytest.fixture(autouse=True)
def no_compose_stack_of_the_developers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees a compose project of its own, which does not exist until it makes one: a
    stopped `make up` stack on this machine (the default project) would otherwise turn
    "nothing answers" into "the endpoint container stopped" in any test that asks."""
    monkeypatch.setenv(compose.ENV_PROJECT, f"sandbox-test-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One embedded emulator for the test session, on a free loopback port."""
    with Emulator(EmulatorConfig(port=0, ttl_interval=1.0)) as running:
        yield running


@pytest.fixture(scope="session")
def aws(emulator: Emulator) -> Callable[..., Any]:
    """A boto3 client factory aimed at the session emulator: ``aws("dynamodb")``."""

    def make(service: str, **config: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=emulator.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"total_max_attempts": 1}, **config),
        )

    return make
