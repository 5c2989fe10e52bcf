"""The one boundary: known failures become one line with a fix; bugs stay bugs."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from bootstrap.errors import ConfigurationError
from bootstrap.settings import SettingsError
from producer.errors import OptionsError, TableNotFound
from sandbox.errors import (
    BackendNotRunning,
    ConfigError,
    NotBootstrapped,
    PortInUse,
    SandboxError,
    boundary,
    translate,
)


def _client_error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Op")


def test_connection_refused_means_the_backend_is_not_running() -> None:
    mapped = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/"))
    assert isinstance(mapped, BackendNotRunning)
    assert mapped.line().startswith("error: nothing answers at http://127.0.0.1:4566/")
    assert "make up" in mapped.line()


def test_settings_errors_are_usage_errors() -> None:
    mapped = translate(SettingsError("SANDBOX_KINESIS_SHARDS=0 is out of range (1..16)"))
    assert isinstance(mapped, ConfigError) and mapped.exit_code == 2


def test_missing_resources_point_at_bootstrap() -> None:
    mapped = translate(_client_error("ResourceNotFoundException", "Requested resource not found"))
    assert isinstance(mapped, NotBootstrapped)
    assert "sandbox bootstrap apply" in mapped.line()


def test_no_credentials_point_at_sandbox_env() -> None:
    mapped = translate(NoCredentialsError())
    assert mapped is not None and "sandbox env" in mapped.line()


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (TableNotFound("table clicks-events not found: run `python -m bootstrap apply`"), 1),
        (OptionsError("--count must be between 1 and 1e+07 (got 0)"), 2),
        (ConfigurationError("invalid topology", "edit bootstrap/topology.py"), 2),
    ],
)
def test_component_errors_keep_their_words_and_exit_code(error: Exception, code: int) -> None:
    mapped = translate(error)
    assert mapped is not None and mapped.exit_code == code
    assert str(error) in mapped.line() and "\n" not in mapped.line()


def test_a_bug_is_not_translated() -> None:
    assert translate(KeyError("oops")) is None
    with pytest.raises(KeyError), boundary():
        raise KeyError("oops")


def test_boundary_chains_the_original() -> None:
    with pytest.raises(BackendNotRunning) as raised, boundary():
        raise EndpointConnectionError(endpoint_url="http://x:1")
    assert isinstance(raised.value.__cause__, EndpointConnectionError)


def test_port_in_use_names_the_port_and_the_fix() -> None:
    line = PortInUse("127.0.0.1", 4566, "the AWS endpoint").line()
    assert "port 4566" in line and "make down" in line
    assert isinstance(PortInUse("h", 1, "x"), SandboxError)


def test_an_unreachable_remote_endpoint_is_not_called_a_stopped_sandbox() -> None:
    mapped = translate(EndpointConnectionError(endpoint_url="https://sts.us-east-1.amazonaws.com/"))
    assert mapped is not None and not isinstance(mapped, BackendNotRunning)
    assert "cannot reach https://sts.us-east-1.amazonaws.com/" in mapped.line()
