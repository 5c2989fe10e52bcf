"""bootstrap's error fixes fit the error, and CLI options never outlive their invocation."""

from __future__ import annotations

import socket
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


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Settings]]:
    """api.plan/apply/destroy/target replaced by recorders: the CLI's settings, no AWS."""
    seen: list[tuple[str, Settings]] = []

    def where(settings: Settings) -> Target:
        return Target(settings.endpoint_url, settings.region, "000000000000", "arn:aws:iam::000000000000:root")

    def record(name: str) -> Any:
        def call(settings: Settings, **_: Any) -> Plan:
            seen.append((name, settings))
            return Plan(where(settings), ())

        return call

    for name in ("plan", "apply", "destroy"):
        monkeypatch.setattr(api, name, record(name))
    monkeypatch.setattr(api, "target", where)
    return seen


TARGET_OPTIONS = ["--prefix", "other", "--region", "eu-west-1", "--kinesis-shards", "4",
                  "--stream-view-type", "KEYS_ONLY", "--http-sink-url", "http://sink:9/d", "--endpoint-url", "http://127.0.0.1:7"]


@pytest.mark.parametrize("command", ["plan", "apply", "destroy"])
def test_options_work_after_the_subcommand(recorded: list[tuple[str, Settings]], command: str) -> None:
    # README/--help: `python -m bootstrap plan --kinesis-shards 4` (it said "No such option" before)
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "SANDBOX_PREFIX": "", "AWS_REGION": "us-east-1"}
    result = CliRunner().invoke(cli.app, [command, *TARGET_OPTIONS], env=env)
    assert result.exit_code == 0, result.output
    [(called, settings)] = recorded
    assert called == command
    assert (settings.prefix, settings.region, settings.kinesis_shards, settings.stream_view_type) == (
        "other", "eu-west-1", 4, "KEYS_ONLY")
    assert (settings.http_sink_url, settings.endpoint_url) == ("http://sink:9/d", "http://127.0.0.1:7")


def test_options_before_still_work_and_after_wins(recorded: list[tuple[str, Settings]]) -> None:
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "SANDBOX_PREFIX": ""}
    runner = CliRunner()
    before = runner.invoke(cli.app, ["--prefix", "early", "--kinesis-shards", "3", "plan"], env=env)
    both = runner.invoke(cli.app, ["--prefix", "early", "--kinesis-shards", "3", "plan", "--prefix", "late"], env=env)
    assert before.exit_code == 0 and both.exit_code == 0, before.output + both.output
    assert [(s.prefix, s.kinesis_shards) for _, s in recorded] == [("early", 3), ("late", 3)]


def test_an_option_value_is_validated_like_its_variable(recorded: list[tuple[str, Settings]]) -> None:
    result = CliRunner().invoke(cli.app, ["plan", "--prefix", "Bad_Prefix"], env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 2 and not recorded
    assert result.output.startswith("error: SANDBOX_PREFIX='Bad_Prefix' is not a valid prefix (fix: ")
    assert result.output.count("\n") == 1


def test_sandbox_bootstrap_takes_the_same_options(recorded: list[tuple[str, Settings]], tmp_path: Any) -> None:
    from sandbox.cli import app as sandbox_app

    with socket.socket() as listening:  # `sandbox bootstrap` first checks something answers
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        endpoint = f"http://127.0.0.1:{listening.getsockname()[1]}"
        env = {"AWS_ENDPOINT_URL": endpoint, "SANDBOX_PREFIX": "", "SANDBOX_STATE_DIR": str(tmp_path)}
        runner = CliRunner()
        plan = runner.invoke(sandbox_app, ["bootstrap", "plan", "--prefix", "x", "--kinesis-shards", "4"], env=env)
        destroy = runner.invoke(sandbox_app, ["bootstrap", "destroy", "--prefix", "x", "--yes"], env=env)
    assert plan.exit_code == 0 and destroy.exit_code == 0, plan.output + destroy.output
    assert [(name, s.prefix, s.kinesis_shards, s.endpoint_url) for name, s in recorded] == [
        ("plan", "x", 4, endpoint), ("destroy", "x", 2, endpoint)]


def test_sandbox_bootstrap_setting_errors_have_the_fix_shape(tmp_path: Any) -> None:
    from sandbox.cli import app as sandbox_app

    env = {"SANDBOX_KINESIS_SHARDS": "99", "AWS_ENDPOINT_URL": None, "SANDBOX_STATE_DIR": str(tmp_path)}
    result = CliRunner().invoke(sandbox_app, ["bootstrap", "plan"], env=env)
    assert result.exit_code == 2
    assert result.output == (
        "error: SANDBOX_KINESIS_SHARDS=99 is out of range (1..16) (fix: use a whole number from 1 to 16)\n"
    )
