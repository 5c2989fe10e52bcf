"""The compose commands are ones our CLIs accept: drift between the files and the code fails here.

Each service's command (with the defaults a user gets, and with the smoke test's
overrides) is parsed by the very CLI the container runs, without running it,
and `python -m <module> --help` proves the module dispatches to that CLI.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any

import pytest
import typer.main

from tests.unit.docker_static.compose import (
    COMPOSE_FILE,
    EMULATOR_FILE,
    REPO_ROOT,
    command,
    interpolate,
    load,
)

#: What the compose smoke test and a user might set (the demo knobs).
OVERRIDES = {
    "SANDBOX_PRODUCER_RATE": "0",
    "SANDBOX_PRODUCER_COUNT": "40",
    "SANDBOX_PRODUCER_SEED": "7",
    "SANDBOX_PRODUCER_UPDATE_RATIO": "0.25",
    "SANDBOX_PRODUCER_DELETE_RATIO": "0.1",
}


def services(env: dict[str, str]) -> dict[str, Any]:
    return interpolate(load(COMPOSE_FILE), env)["services"]


def module_args(service: dict[str, Any]) -> tuple[str, list[str]]:
    argv = command(service)
    assert argv[:2] == ["python", "-m"], argv
    return argv[2], argv[3:]


@pytest.mark.parametrize("env", [{}, OVERRIDES], ids=["defaults", "overrides"])
def test_producer_accepts_its_compose_command(env: dict[str, str]) -> None:
    from producer.cli import app
    from producer.options import ProduceOptions

    module, args = module_args(services(env)["producer"])
    assert module == "producer"
    params = typer.main.get_command(app).make_context("producer", list(args)).params
    fields = {f.name for f in dataclasses.fields(ProduceOptions)}
    ProduceOptions(**{k: v for k, v in params.items() if k in fields}).validated()


def test_httpsink_accepts_its_compose_command() -> None:
    from sandbox.httpsink import cli

    module, args = module_args(services({})["httpsink"])
    assert module == "sandbox.httpsink"
    params = typer.main.get_command(cli).make_context("httpsink", list(args)).params
    assert params["host"] == "0.0.0.0" and params["port"] == 8088


def test_bootstrap_accepts_its_compose_command() -> None:
    from bootstrap.cli import app

    module, args = module_args(services({})["bootstrap"])
    assert module == "bootstrap"
    group = typer.main.get_command(app)
    assert args and args[0] in group.commands, f"{args} is not a bootstrap command"  # type: ignore[attr-defined]
    group.commands[args[0]].make_context(args[0], list(args[1:]))  # type: ignore[attr-defined]


def test_emulator_accepts_its_compose_command() -> None:
    from emulator.__main__ import parse_args

    module, args = module_args(interpolate(load(EMULATOR_FILE))["services"]["emulator"])
    assert module == "emulator"
    parsed = parse_args(args)
    assert parsed.host == "0.0.0.0" and parsed.port == 4566


def test_every_module_dispatches_to_its_cli() -> None:
    modules = ["producer", "sandbox.httpsink", "bootstrap", "emulator"]
    running = {
        name: subprocess.Popen(
            [sys.executable, "-m", name, "--help"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in modules
    }
    for name, process in running.items():
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, f"python -m {name} --help: {err[-500:]}"
        assert "usage" in out.lower(), f"python -m {name} --help printed no usage"
