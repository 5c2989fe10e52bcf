"""A handler's clients are made in the init phase where the environment allows it."""

from __future__ import annotations

import pytest

from functions import _aws


def test_warm_makes_the_client_the_handler_will_use() -> None:
    _aws.warm("s3")
    made = _aws._clients["s3"]
    assert _aws.client("s3") is made


def test_warm_without_a_region_leaves_it_to_the_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    _aws.warm("kinesis")
    assert "kinesis" not in _aws._clients
