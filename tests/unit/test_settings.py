"""Settings: user mistakes in the environment or in explicit options are one clear SettingsError."""

from __future__ import annotations

import pytest

from bootstrap.settings import DEFAULT_ENDPOINT, Settings, SettingsError


@pytest.mark.parametrize(
    ("variable", "value", "message", "fix"),
    [
        ("AWS_ENDPOINT_URL", "notaurl", "is not an http(s) URL", "use a URL like http://127.0.0.1:4566"),
        ("AWS_ENDPOINT_URL", "ftp://host", "is not an http(s) URL", "use a URL like http://127.0.0.1:4566"),
        ("AWS_ENDPOINT_URL", "http://", "is not an http(s) URL", "use a URL like http://127.0.0.1:4566"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:99999", "malformed port", "use a URL like http://127.0.0.1:4566"),
        # the sink's own example, not the AWS endpoint's
        ("SANDBOX_HTTP_SINK_URL", "sink", "is not an http(s) URL", "use a URL like http://127.0.0.1:8088/deliveries"),
        ("AWS_REGION", "us east", "is not an AWS region", "use a region like us-east-1"),
        ("SANDBOX_STREAM_VIEW_TYPE", "ALL", "is not a stream view type", "use one of NEW_IMAGE, OLD_IMAGE"),
        ("SANDBOX_PREFIX", "Clicks", "is not a valid prefix", "lowercase letters, digits and dashes"),
        ("SANDBOX_KINESIS_SHARDS", "0", "out of range (1..16)", "use a whole number from 1 to 16"),
        ("SANDBOX_KINESIS_SHARDS", "99", "out of range (1..16)", "use a whole number from 1 to 16"),
        ("SANDBOX_KINESIS_SHARDS", "two", "is not a whole number", "use a whole number from 1 to 16"),
        ("SANDBOX_ALLOW_REAL_AWS", "maybe", "not a boolean", "use 1/0, true/false or yes/no"),
    ],
)
def test_bad_values_name_the_setting_and_the_fix(variable: str, value: str, message: str, fix: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({variable: value})
    error = info.value
    assert variable in error.message and message in error.message
    assert error.fix is not None and fix in error.fix
    # the documented one-line shape every CLI prints after "error: "
    assert str(error) == f"{error.message} (fix: {error.fix})" and "\n" not in str(error)


def test_explicit_overrides_are_validated_too() -> None:
    with pytest.raises(SettingsError, match="AWS_ENDPOINT_URL"):
        Settings.from_env({}, endpoint_url="localhost:4566")


def test_no_endpoint_means_real_aws_and_needs_consent() -> None:
    settings = Settings.from_env({})
    assert settings.endpoint_url is None and not settings.is_local
    with pytest.raises(SettingsError, match=r"real AWS \(fix: .*sandbox env.*SANDBOX_ALLOW_REAL_AWS=1\)$"):
        settings.require_target()
    Settings.from_env({"SANDBOX_ALLOW_REAL_AWS": "1"}).require_target()
    Settings.from_env({"AWS_ENDPOINT_URL": DEFAULT_ENDPOINT}).require_target()
