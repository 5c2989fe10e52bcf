"""The compose foreground's checks, on fake container states: one line with the fix for each failure."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox import engine, stack
from sandbox.compose import Variant
from sandbox.engine import ContainerState
from sandbox.errors import PortInUse, SandboxError


def _state(service: str, status: str = "running", exit_code: int | None = None) -> ContainerState:
    return ContainerState(name=f"clickstream-sandbox-{service}-1", service=service, status=status,
                          exit_code=exit_code, health="healthy" if status == "running" else None)


@pytest.fixture
def held_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield int(held.getsockname()[1])


def test_a_taken_edge_port_is_one_line_naming_another_port(held_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "project_containers", lambda docker, project: [])
    monkeypatch.setenv("SANDBOX_EDGE_PORT", str(held_port))
    with pytest.raises(PortInUse) as raised:
        stack.preflight(object(), Variant.EMULATOR)
    assert f"SANDBOX_EDGE_PORT={held_port + 1}" in raised.value.line() and "make down" in raised.value.line()


def test_a_running_stack_is_not_started_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "project_containers", lambda docker, project: [_state("emulator")])
    with pytest.raises(SandboxError, match="already running") as raised:
        stack.preflight(object(), Variant.EMULATOR)
    assert "make down" in raised.value.line()


@pytest.mark.parametrize(("exit_code", "said"), [(137, "killed"), (1, "exit 1")])
def test_a_dead_endpoint_names_how_it_ended_and_the_fix(exit_code: int, said: str) -> None:
    seen = {"emulator": _state("emulator", "exited", exit_code), "httpsink": _state("httpsink")}
    with pytest.raises(stack.StackFailed) as raised:
        stack.check_alive(Variant.EMULATOR, seen)
    line = raised.value.line()
    assert "AWS endpoint container stopped" in line and said in line and "make down && make up EMULATOR=1" in line


def test_a_vanished_sink_is_named() -> None:
    with pytest.raises(stack.StackFailed, match="HTTP sink container stopped"):
        stack.check_alive(Variant.LOCALSTACK, {"localstack": _state("localstack")})


def test_running_variant_is_read_from_the_endpoint_service(monkeypatch: pytest.MonkeyPatch) -> None:
    states: list[Any] = [_state("httpsink"), _state("emulator")]
    monkeypatch.setattr(engine, "project_containers", lambda docker, project: states)
    assert stack.running_variant(object()) is Variant.EMULATOR
    states[:] = [_state("localstack", "exited", 0)]
    assert stack.running_variant(object()) is Variant.LOCALSTACK
    states[:] = []
    assert stack.running_variant(object()) is None
