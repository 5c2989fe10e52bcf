"""moto in-process, with the emulator's patches, for the tests of those patches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from emulator.moto_adapter import MotoAdapter


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials, the patches installed (as the emulator's adapter installs them), moto mocked."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    MotoAdapter("123456789012")
    with mock_aws():
        yield
