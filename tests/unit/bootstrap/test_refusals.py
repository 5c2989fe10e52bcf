"""Real AWS only on purpose, a third table-stream reader never: refused before any change."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from typer.testing import CliRunner

import bootstrap
from bootstrap import api, context
from bootstrap.cli import app
from bootstrap.errors import BootstrapError, ConfigurationError
from bootstrap.settings import Settings
from bootstrap.topology import CONSUMERS, TABLE_STREAM_READERS, FunctionSpec, SourceKind, Topology

THIRD_READER = FunctionSpec(key="audit", module="audit", source=SourceKind.TABLE_STREAM, description="a 3rd")


class FakeSts:
    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": "111122223333", "Arn": "arn:aws:iam::111122223333:user/dev"}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(service: str, settings: Settings, **_: Any) -> Any:
        raise AssertionError(f"a {service} client was created")

    monkeypatch.setattr(context, "client", refuse)
    monkeypatch.setattr(api, "client", refuse)


def test_real_aws_is_refused_without_opt_in(no_network: None) -> None:
    with pytest.raises(ConfigurationError, match="SANDBOX_ALLOW_REAL_AWS=1") as caught:
        bootstrap.plan(Settings(endpoint_url=None))
    assert caught.value.exit_code == 2


def test_real_aws_with_opt_in_names_the_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "client", lambda service, settings, **_: FakeSts())
    target = bootstrap.target(Settings(endpoint_url=None, allow_real_aws=True, region="eu-west-1"))
    assert target.real_aws and target.account_id == "111122223333"
    assert target.describe().startswith("REAL AWS account 111122223333")
    assert "eu-west-1" in target.describe()


def test_third_table_stream_reader_is_refused_with_the_reason(no_network: None) -> None:
    functions = (*TABLE_STREAM_READERS, THIRD_READER, *CONSUMERS)
    with pytest.raises(ConfigurationError) as caught:
        bootstrap.apply(Settings(endpoint_url="http://127.0.0.1:9"), functions=functions)
    message = str(caught.value)
    assert "3 functions read the table stream" in message and "at most 2" in message
    assert "CONSUMERS" in message  # says what to do instead


def cli(env: dict[str, str], *args: str) -> Any:
    base = {"AWS_ENDPOINT_URL": "", "SANDBOX_ALLOW_REAL_AWS": "", "AWS_REGION": "us-east-1"}
    return CliRunner().invoke(app, list(args), env={**base, **env})


def test_cli_refuses_real_aws_with_one_line_and_exit_2(no_network: None) -> None:
    result = cli({}, "apply")
    assert result.exit_code == 2
    assert "AWS_ENDPOINT_URL is not set" in result.output and "Traceback" not in result.output
    assert result.output.startswith("error: ") and result.output.count("error:") == 1  # one message


def test_cli_refuses_third_reader(monkeypatch: pytest.MonkeyPatch, no_network: None) -> None:
    def three_readers(settings: Settings, account_id: str | None = None) -> Topology:
        return Topology(settings, functions=(*TABLE_STREAM_READERS, THIRD_READER))

    monkeypatch.setattr(Topology, "from_settings", staticmethod(three_readers))
    result = cli({"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, "plan")
    assert result.exit_code == 2 and "at most 2 readers" in result.output.replace("\n", " ")


def test_cli_rejects_a_bad_setting(no_network: None) -> None:
    result = cli({"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "SANDBOX_STREAM_VIEW_TYPE": "ALL"}, "plan")
    assert result.exit_code == 2 and "SANDBOX_STREAM_VIEW_TYPE" in result.output


def test_unreachable_endpoint_is_one_clear_line() -> None:
    with socket.socket() as sock:  # a port that is certainly closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}, "plan")
    assert result.exit_code == 1
    assert result.output.startswith(f"error: while checking the target: cannot reach http://127.0.0.1:{port}")
    assert "(fix: start the sandbox with `make up`" in result.output
    assert result.output.count("\n") == 1, "one line, however narrow the terminal"


def test_bootstrap_error_has_message_and_fix() -> None:
    error = BootstrapError("the table is gone", "re-run apply")
    assert str(error) == "the table is gone (fix: re-run apply)" and error.exit_code == 1
