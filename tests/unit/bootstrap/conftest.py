"""Factories for bootstrap unit tests: a Context that can plan but never reaches AWS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bootstrap.context import Context, Wiring
from bootstrap.packaging import Package
from bootstrap.settings import Settings
from bootstrap.target import Target
from bootstrap.topology import Topology

ACCOUNT = "000000000000"
FAKE_PACKAGE = Package(data=b"fake zip", files=("functions/__init__.py",), distributions=())


class NoAws:
    """Stands in for every boto3 client: planning must be pure, so any call is a test failure."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"plan tried to call AWS ({name})")


@pytest.fixture
def make_ctx() -> Callable[..., Context]:
    def make(**settings_overrides: Any) -> Context:
        settings = Settings(endpoint_url="http://127.0.0.1:9", **settings_overrides)
        ctx = Context(
            settings=settings,
            topology=Topology.from_settings(settings, ACCOUNT),
            target=Target(settings.endpoint_url, settings.region, ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root"),
            package_builder=lambda: FAKE_PACKAGE,
        )
        for service in ("iam", "sqs", "s3", "kinesis", "dynamodb", "lambda", "logs", "sts"):
            ctx._clients[service] = NoAws()
        return ctx

    return make


@pytest.fixture
def ctx(make_ctx: Callable[..., Context]) -> Context:
    return make_ctx()


@pytest.fixture
def wiring(ctx: Context) -> Wiring:
    stream = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{ctx.topology.table_name}/stream/2026-01-01T00:00:00.000"
    return Wiring(
        role_arn=ctx.topology.role_arn,
        failure_queue_arn=ctx.topology.failure_queue_arn,
        kinesis_stream_arn=ctx.topology.kinesis_stream_arn,
        table_stream_arn=stream,
    )
