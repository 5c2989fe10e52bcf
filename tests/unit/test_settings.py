"""Settings: user mistakes in the environment or in explicit options are one clear SettingsError."""

from __future__ import annotations

import pytest

from bootstrap.settings import DEFAULT_ENDPOINT, Settings, SettingsError


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AWS_ENDPOINT_URL", "notaurl", "is not a URL"),
        ("AWS_ENDPOINT_URL", "ftp://host", "is not a URL"),
        ("AWS_ENDPOINT_URL", "http://", "is not a URL"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:99999", "malformed port"),
        ("SANDBOX_HTTP_SINK_URL", "sink", "is not a URL"),
        ("AWS_REGION", "us east", "is not an AWS region"),
        ("SANDBOX_STREAM_VIEW_TYPE", "ALL", "is not one of"),
        ("SANDBOX_PREFIX", "Clicks", "lowercase"),
        ("SANDBOX_KINESIS_SHARDS", "0", "out of range"),
        ("SANDBOX_ALLOW_REAL_AWS", "maybe", "not a boolean"),
    ],
)
def test_bad_values_name_the_setting(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as info:
        Settings.from_env({variable: value})
    assert variable in str(info.value)


def test_explicit_overrides_are_validated_too() -> None:
    with pytest.raises(SettingsError, match="AWS_ENDPOINT_URL"):
        Settings.from_env({}, endpoint_url="localhost:4566")


def test_no_endpoint_means_real_aws_and_needs_consent() -> None:
    settings = Settings.from_env({})
    assert settings.endpoint_url is None and not settings.is_local
    with pytest.raises(SettingsError, match="SANDBOX_ALLOW_REAL_AWS=1"):
        settings.require_target()
    Settings.from_env({"SANDBOX_ALLOW_REAL_AWS": "1"}).require_target()
    Settings.from_env({"AWS_ENDPOINT_URL": DEFAULT_ENDPOINT}).require_target()
