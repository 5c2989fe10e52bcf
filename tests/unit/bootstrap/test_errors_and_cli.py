"""bootstrap's error fixes fit the error, and CLI options never outlive their invocation."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, InvalidRegionError, ParamValidationError, ReadTimeoutError
from typer.testing import CliRunner

from bootstrap import api, cli
from bootstrap.errors import BootstrapError, ConfigurationError, boundary, translate
from bootstrap.plan import Plan
from bootstrap.settings import Settings
from bootstrap.target import Target

RETRY = "re-run the command"


def _client_error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": "nope"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "CreateQueue")


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:4566"), True),
        (_client_error("ServiceUnavailable", 503), True),
        (_client_error("SomethingOdd", 500), True),
        (_client_error("ValidationException", 400), False),
        (_client_error("InvalidParameterValueException", 400), False),
        (ParamValidationError(report="Invalid type for parameter X"), False),
        (ValueError("Invalid endpoint: ftp://127.0.0.1:4566"), False),
        (InvalidRegionError(region_name="us east"), False),
    ],
)
def test_only_transient_errors_suggest_re_running(error: BaseException, retryable: bool) -> None:
    translated = translate(error, "creating the queue")
    assert translated.message.startswith("while creating the queue: ")
    assert (RETRY in (translated.fix or "")) is retryable, translated.fix


def test_configuration_errors_exit_2_and_name_the_setting() -> None:
    endpoint = translate(ValueError("Invalid endpoint: http://exa mple.com:4566"), "")
    assert isinstance(endpoint, ConfigurationError) and endpoint.exit_code == 2
    assert "AWS_ENDPOINT_URL" in (endpoint.fix or "")
    region = translate(InvalidRegionError(region_name="us east"), "")
    assert isinstance(region, ConfigurationError) and "AWS_REGION" in (region.fix or "")


def test_boundary_translates_botocores_endpoint_error_but_not_other_value_errors() -> None:
    with pytest.raises(ConfigurationError, match="Invalid endpoint"), boundary():
        raise ValueError("Invalid endpoint: http://exa mple.com:4566")
    with pytest.raises(ValueError, match="^a bug$"), boundary():
        raise ValueError("a bug")


def test_cli_endpoint_botocore_refuses_is_one_line_exit_2() -> None:
    result = CliRunner().invoke(cli.app, ["--endpoint-url", "http://exa mple.com:4566", "plan"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "Invalid endpoint" in result.output
    assert "Traceback" not in result.output


def test_cli_options_do_not_leak_into_the_next_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN one process running the CLI twice (as tests and `sandbox bootstrap` do)
    seen: list[Settings] = []

    def plan(settings: Settings, **_: Any) -> Plan:
        seen.append(settings)
        return Plan(Target(settings.endpoint_url, settings.region, "000000000000", "arn:aws:iam::000000000000:root"), ())

    monkeypatch.setattr(api, "plan", plan)
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "SANDBOX_PREFIX": "", "AWS_REGION": "us-east-1"}
    runner = CliRunner()
    # WHEN the first passes --prefix and --region and the second passes nothing
    first = runner.invoke(cli.app, ["--prefix", "other", "--region", "eu-west-1", "plan"], env=env)
    second = runner.invoke(cli.app, ["plan"], env=env)
    # THEN the second runs with the environment's values only
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert [(s.prefix, s.region) for s in seen] == [("other", "eu-west-1"), ("clicks", "us-east-1")]


def test_bootstrap_error_without_fix_is_just_the_message() -> None:
    assert str(BootstrapError("gone")) == "gone"
