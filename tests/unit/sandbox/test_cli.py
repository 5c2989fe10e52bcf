"""The `sandbox` CLI without a running stack: wiring, `env`, `backend`, and every user error
(one line with the fix, exit code != 0, no traceback)."""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bootstrap.settings import DEFAULT_HTTP_SINK_URL, Settings
from sandbox import state, target
from sandbox.cli import app
from sandbox.commands import up as up_command
from sandbox.errors import BackendNotRunning

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    """A clean environment: no endpoint, a private state dir (no stack of the developer's)."""
    return {
        "AWS_ENDPOINT_URL": None,
        "SANDBOX_ALLOW_REAL_AWS": None,
        "SANDBOX_HTTP_SINK_URL": None,
        "SANDBOX_PREFIX": None,
        "BACKEND": None,
        "SANDBOX_STATE_DIR": str(tmp_path / "state"),
    }


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def assert_user_error(result, code: int, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("up", "status", "down", "produce", "bootstrap", "logs", "env", "verify", "backend", "replay", "redrive"):
        assert command in result.output


def test_env_defaults_to_the_local_sandbox(env: dict[str, str | None]) -> None:
    result = runner.invoke(app, ["env"], env=env)
    assert result.exit_code == 0
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:4566" in result.stdout
    assert "export AWS_ACCESS_KEY_ID=test" in result.stdout
    assert "export AWS_DEFAULT_REGION=us-east-1" in result.stdout


def test_env_follows_the_running_stack_and_the_environment(env: dict[str, str | None], tmp_path: Path) -> None:
    settings = Settings(state_dir=str(env["SANDBOX_STATE_DIR"]))
    state.write(settings, state.StackInfo(os.getpid(), "embedded", "http://127.0.0.1:4999", "http://127.0.0.1:1/deliveries", time.time()))
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:4999" in runner.invoke(app, ["env"], env=env).stdout
    explicit = runner.invoke(app, ["env"], env={**env, "AWS_ENDPOINT_URL": "http://localhost:4567"})
    assert "AWS_ENDPOINT_URL=http://localhost:4567" in explicit.stdout


def test_env_on_purpose_real_aws_never_exports_test_credentials(env: dict[str, str | None]) -> None:
    result = runner.invoke(app, ["env"], env={**env, "SANDBOX_ALLOW_REAL_AWS": "1", "AWS_REGION": "eu-west-1"})
    assert result.exit_code == 0
    assert "AWS_ACCESS_KEY_ID" not in result.stdout and "AWS_ENDPOINT_URL" not in result.stdout
    assert "export AWS_REGION=eu-west-1" in result.stdout


def test_bad_setting_is_one_line(env: dict[str, str | None]) -> None:
    assert_user_error(runner.invoke(app, ["env"], env={**env, "SANDBOX_PREFIX": "Bad_Prefix"}), 2, "SANDBOX_PREFIX")


def test_backend_forced_embedded(env: dict[str, str | None]) -> None:
    result = runner.invoke(app, ["backend"], env={**env, "BACKEND": "embedded"})
    assert result.exit_code == 0 and result.stdout.strip() == "embedded"
    assert "BACKEND=embedded" in result.stderr


def test_docker_asked_for_but_absent(env: dict[str, str | None], tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    result = runner.invoke(app, ["backend"], env={**env, "BACKEND": "docker", "PATH": str(fake.parent)})
    assert_user_error(result, 1, "BACKEND=docker", "Cannot connect", "BACKEND=embedded")


@pytest.mark.parametrize(
    "args",
    [["status"], ["logs"], ["verify"], ["redrive"], ["bootstrap", "plan"], ["bootstrap", "apply"], ["bootstrap", "destroy"]],
)
def test_backend_not_running(env: dict[str, str | None], free_port: int, args: list[str]) -> None:
    result = runner.invoke(app, args, env={**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port}"})
    assert_user_error(result, 1, f"nothing answers at http://127.0.0.1:{free_port}", "make up")


def test_produce_when_backend_not_running(env: dict[str, str | None], free_port: int) -> None:
    result = runner.invoke(app, ["produce", "--count", "1"], env={**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port}"})
    assert result.exit_code == 1
    assert "make up" in result.output and "Traceback" not in result.output


def test_produce_bad_arguments(env: dict[str, str | None]) -> None:
    result = runner.invoke(app, ["produce", "--count", "0"], env=env)
    assert result.exit_code == 2 and "--count" in result.output


def test_unknown_function(env: dict[str, str | None]) -> None:
    assert_user_error(runner.invoke(app, ["logs", "nope"], env=env), 2, "'nope'", "archive, fanout, analytics, http")


def test_up_with_the_port_taken(env: dict[str, str | None], taken_port: int) -> None:
    result = runner.invoke(app, ["up", "--no-live"], env={**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{taken_port}"})
    assert_user_error(result, 1, f"port {taken_port}", "make down")


def test_up_with_the_sink_port_taken(env: dict[str, str | None], free_port: int, taken_port: int) -> None:
    result = runner.invoke(
        app,
        ["up", "--no-live"],
        env={
            **env,
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port}",
            "SANDBOX_HTTP_SINK_URL": f"http://127.0.0.1:{taken_port}/deliveries",
        },
    )
    assert_user_error(result, 1, f"port {taken_port}", "HTTP sink")


def test_up_refuses_a_remote_endpoint(env: dict[str, str | None]) -> None:
    result = runner.invoke(app, ["up"], env={**env, "AWS_ENDPOINT_URL": "https://dynamodb.example.com"})
    assert_user_error(result, 2, "not on this machine")


def test_up_when_one_is_already_running(env: dict[str, str | None]) -> None:
    settings = Settings(state_dir=str(env["SANDBOX_STATE_DIR"]))
    state.write(settings, state.StackInfo(os.getpid(), "embedded", "http://127.0.0.1:4566", "", time.time()))
    assert_user_error(runner.invoke(app, ["up"], env=env), 1, "already running", "make down")


def test_up_rejects_a_bad_rate(env: dict[str, str | None]) -> None:
    result = runner.invoke(app, ["up", "--rate", "0"], env=env)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_down_without_a_stack(env: dict[str, str | None]) -> None:
    result = runner.invoke(app, ["down"], env=env)
    assert result.exit_code == 0 and "no embedded sandbox is running" in result.output


def test_replay_has_no_short_f(env: dict[str, str | None]) -> None:
    """`-f` means --follow for `sandbox logs`; replay spells --function out."""
    result = runner.invoke(app, ["replay", "-f", "archive", "--dry-run"], env=env)
    assert result.exit_code == 2 and "No such option: -f" in result.output


def test_produce_gets_the_running_stacks_settings_without_touching_the_environment(
    env: dict[str, str | None], free_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a running stack recorded in the state dir and no AWS_ENDPOINT_URL
    settings = Settings(state_dir=str(env["SANDBOX_STATE_DIR"]))
    stack = f"http://127.0.0.1:{free_port}"
    state.write(settings, state.StackInfo(os.getpid(), "embedded", stack, "http://127.0.0.1:1/deliveries", time.time()))
    seen: list[tuple[Settings, str | None]] = []

    def produce(given: Settings, *_: object, **__: object) -> None:
        seen.append((given, os.environ.get("AWS_ENDPOINT_URL")))
        raise KeyboardInterrupt  # stop right there

    monkeypatch.setattr("producer.cli.produce", produce)
    # WHEN `sandbox produce` runs THEN the producer gets the stack's endpoint as Settings, os.environ stays as it was
    result = runner.invoke(app, ["produce", "--count", "1"], env=env)
    assert result.exit_code == 130, result.output
    ((given, environ_endpoint),) = seen
    assert given.endpoint_url == stack and environ_endpoint is None
    # AND --prefix still overrides, through the same settings source
    runner.invoke(app, ["produce", "--count", "1", "--prefix", "other"], env=env)
    assert seen[-1][0].prefix == "other" and seen[-1][0].endpoint_url == stack


# --- usage errors: one line, never typer's boxed usage block ------------------------------------
@pytest.mark.parametrize(
    ("args", "command", "fragment"),
    [
        (["produce", "--rate", "abc"], "sandbox produce", "'--rate'"),
        (["status", "--interval", "0"], "sandbox status", "'--interval'"),
        (["verify", "--wait", "-1"], "sandbox verify", "'--wait'"),
        (["nosuch"], "sandbox", "No such command 'nosuch'"),
        (["--bogus"], "sandbox", "No such option: --bogus"),
        (["bootstrap", "nosuch"], "sandbox bootstrap", "No such command 'nosuch'"),
        (["logs", "a", "b"], "sandbox logs", "unexpected extra argument"),
    ],
)
def test_usage_errors_are_one_line_with_the_help_to_read(
    env: dict[str, str | None], args: list[str], command: str, fragment: str
) -> None:
    # COLUMNS=40: nothing may wrap the line, however narrow the (non-)terminal says it is
    result = runner.invoke(app, args, env={**env, "COLUMNS": "40"}, prog_name="sandbox")
    assert_user_error(result, 2, fragment, f"(fix: see {command} --help)")
    assert "Usage:" not in result.output and "╭" not in result.output


def test_no_arguments_still_show_the_help() -> None:
    result = runner.invoke(app, [], prog_name="sandbox")
    assert "Usage" in result.output and "error:" not in result.output


# --- the HTTP sink follows the endpoint -----------------------------------------------------------
def test_env_exports_the_recorded_sink(env: dict[str, str | None]) -> None:
    settings = Settings(state_dir=str(env["SANDBOX_STATE_DIR"]))
    state.write(settings, state.StackInfo(os.getpid(), "embedded", "http://127.0.0.1:4999", "http://127.0.0.1:8999/deliveries", time.time()))
    result = runner.invoke(app, ["env"], env=env)
    assert "export SANDBOX_HTTP_SINK_URL=http://127.0.0.1:8999/deliveries" in result.stdout


def test_an_endpoint_set_to_the_recorded_one_keeps_the_recorded_sink(env: dict[str, str | None]) -> None:
    """What `eval "$(sandbox env)"` leaves behind: AWS_ENDPOINT_URL set, equal to stack.json's."""
    settings = Settings(state_dir=str(env["SANDBOX_STATE_DIR"]))
    sink = "http://127.0.0.1:8999/deliveries"
    state.write(settings, state.StackInfo(os.getpid(), "embedded", "http://127.0.0.1:4999", sink, time.time()))
    environ = {k: v for k, v in env.items() if v is not None}
    assert target.load({**environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:4999/"}).http_sink_url == sink
    # another endpoint: not this stack's sink; an explicit sink always wins
    assert target.load({**environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:4000"}).http_sink_url == DEFAULT_HTTP_SINK_URL
    explicit = {**environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:4999", "SANDBOX_HTTP_SINK_URL": "http://127.0.0.1:1/deliveries"}
    assert target.load(explicit).http_sink_url == "http://127.0.0.1:1/deliveries"


# --- where `down` and the commands looked ---------------------------------------------------------
def test_down_says_where_it_looked(env: dict[str, str | None]) -> None:
    result = runner.invoke(app, ["down"], env=env)
    assert result.exit_code == 0
    assert f"looked for sandbox.pid in {env['SANDBOX_STATE_DIR']}" in result.stderr


def test_nothing_running_names_the_state_dir_searched(
    env: dict[str, str | None], free_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the default (relative) state dir, searched from a directory outside any checkout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(state, "CHECKOUT", None)
    environ = {k: v for k, v in env.items() if v is not None and k != "SANDBOX_STATE_DIR"}
    found = target.resolve(environ)
    assert found.settings.endpoint_url == "http://127.0.0.1:4566"
    assert found.origin == f"the default: no running `sandbox up` recorded in .sandbox/ in {elsewhere.resolve()} and the directories above it"
    # THEN "nothing answers" says which endpoint it tried and why that one
    unreachable = found.settings.with_overrides(endpoint_url=f"http://127.0.0.1:{free_port}")
    with pytest.raises(BackendNotRunning) as raised:
        target.require_running(unreachable, found.origin)
    assert f"nothing answers at http://127.0.0.1:{free_port} (the default: no running `sandbox up` recorded in" in raised.value.line()


def test_backend_line_says_which_and_how_to_change_it(env: dict[str, str | None], tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    result = runner.invoke(app, ["backend"], env={**env, "PATH": str(fake.parent)})
    assert result.exit_code == 0 and result.stdout == "embedded\n"  # stdout: only the command's output
    assert result.stderr.strip() == (
        "backend: embedded — no Docker engine answers (Cannot connect to the Docker daemon); "
        "set BACKEND=docker to require Docker"
    )


def test_the_ready_line_names_the_virtualenv_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    monkeypatch.setattr(up_command.sys, "prefix", str(venv))
    monkeypatch.setattr(up_command.sys, "base_prefix", "/usr")
    monkeypatch.chdir(tmp_path)
    assert up_command.other_shell_hint().startswith('source .venv/bin/activate; eval "$(sandbox env)"')
    monkeypatch.setattr(up_command.sys, "base_prefix", str(venv))  # no virtualenv: nothing to activate
    assert up_command.other_shell_hint().startswith('eval "$(sandbox env)"')
