"""The CLI's user errors: one clear line, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from producer import cli
from producer.cli import app

LOCAL = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "SANDBOX_PREFIX": "clicks"}


def invoke(args: list[str], env: dict[str, str | None] | None = None):
    return CliRunner().invoke(app, args, env={**LOCAL, **(env or {})})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "--count must be between 1 and"),
        (["--count", "-5"], "--count must be between 1 and 10000000 (got -5) (fix: use a whole number from 1 to 10000000)"),
        (["--count", "5", "--duration", "2"], "use either --count or --duration, not both"),
        (["--update-ratio", "1.5"], "--update-ratio must be between 0 and 1 (got 1.5)"),
        (["--delete-ratio", "-0.5"], "--delete-ratio must be between 0 and 1"),
        (["--rate", "-3"], "--rate must be between 0 and"),
        (["--users", "0"], "--users must be between 1 and"),
        (["--ttl-seconds", "0"], "--ttl-seconds must be between 1 and"),
        (["--run-id", "a/b"], "run id 'a/b' is not valid"),
        (["--prefix", "Bad_Prefix"], "SANDBOX_PREFIX='Bad_Prefix'"),
    ],
)
def test_bad_values_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = invoke(args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert message in result.output
    assert " (fix: " in result.output and result.output.endswith(")\n")  # the documented shape
    assert result.output.count("\n") == 1  # one line
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [["--rate", "fast"], ["--count", "many"], ["--bogus"]])
def test_unparseable_arguments_exit_2(args: list[str]) -> None:
    result = invoke(args)
    assert result.exit_code == 2
    assert args[0] in result.output
    assert "Traceback" not in result.output


def test_real_aws_is_refused_without_the_explicit_switch() -> None:
    # GIVEN no endpoint (= real AWS) and no SANDBOX_ALLOW_REAL_AWS WHEN producing THEN refused
    result = invoke(["--count", "1"], env={"AWS_ENDPOINT_URL": None, "SANDBOX_ALLOW_REAL_AWS": None})
    assert result.exit_code == 2
    assert "AWS_ENDPOINT_URL is not set, so this would talk to real AWS" in result.output


def test_help_lists_every_option() -> None:
    result = invoke(["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in ("--count", "--duration", "--rate", "--users", "--seed", "--update-ratio",
                 "--delete-ratio", "--ttl-seconds", "--endpoint-url", "--prefix", "--json"):
        assert flag in result.output


def test_endpoint_without_scheme_is_a_usage_error() -> None:
    result = invoke(["--endpoint-url", "localhost:4566", "--count", "1"])
    assert result.exit_code == 2
    assert result.output == (
        "error: AWS_ENDPOINT_URL='localhost:4566' is not an http(s) URL (fix: use a URL like http://127.0.0.1:4566)\n"
    )


def test_a_second_ctrl_c_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the run is cut short by KeyboardInterrupt (the second Ctrl-C) WHEN producing
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "produce", interrupted)
    result = invoke(["--count", "5", "--run-id", "cut"])
    # THEN exit 130, one line naming the run, no traceback
    assert result.exit_code == 130
    assert result.output == "aborted: run cut stopped at once; its manifest says aborted\n"
