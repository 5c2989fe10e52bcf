"""Fixtures for the Lambda handler tests: environment, stubbed AWS, recorded backoff."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from functions import _aws, _retry
from tests.fixtures import load_event as _load_event
from tests.unit.functions.fakes import FakeKinesis, FakeS3, HttpSink

DATA_LAKE = "clicks-datalake-000000000000"
ANALYTICS = "clicks-analytics-000000000000"
STREAM = "clicks-fanout"


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What bootstrap's Topology.environment gives every function, plus a region."""
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "DATA_LAKE_BUCKET": DATA_LAKE,
        "ANALYTICS_BUCKET": ANALYTICS,
        "KINESIS_STREAM_NAME": STREAM,
        "HTTP_SINK_URL": "http://127.0.0.1:9/deliveries",
        "POWERTOOLS_SERVICE_NAME": "clicks-test",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    _aws.reset()
    yield
    _aws.reset()


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff waits the handlers asked for (recorded, not slept)."""
    waited: list[float] = []
    monkeypatch.setattr(_retry, "sleep", waited.append)
    return waited


@pytest.fixture
def load_event():  # noqa: ANN201 (returns the loader)
    return _load_event


@pytest.fixture
def s3() -> FakeS3:
    fake = FakeS3()
    _aws._clients["s3"] = fake
    return fake


@pytest.fixture
def kinesis() -> FakeKinesis:
    fake = FakeKinesis()
    _aws._clients["kinesis"] = fake
    return fake


@pytest.fixture
def http_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpSink]:
    sink = HttpSink()
    monkeypatch.setenv("HTTP_SINK_URL", sink.start())
    yield sink
    sink.stop()


@pytest.fixture
def refused_url() -> str:
    """A URL on a local port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/deliveries"
