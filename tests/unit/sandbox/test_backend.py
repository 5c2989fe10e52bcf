"""Backend choice: BACKEND forces one, otherwise Docker only when an engine answers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sandbox.backend import Backend, Probe, choose, probe_docker
from sandbox.errors import ConfigError, DockerUnavailable

ANSWERS = Probe(True, "Docker engine 28.2.2 answers")
SILENT = Probe(False, "Cannot connect to the Docker daemon")


def _never() -> Probe:
    raise AssertionError("the engine must not be probed when BACKEND=embedded")


def test_auto_prefers_docker_when_an_engine_answers() -> None:
    choice = choose({}, probe=lambda: ANSWERS)
    assert choice.backend is Backend.DOCKER
    assert "28.2.2" in choice.reason


def test_auto_falls_back_to_embedded_and_says_why() -> None:
    choice = choose({"BACKEND": ""}, probe=lambda: SILENT)
    assert choice.backend is Backend.EMBEDDED
    assert "Cannot connect" in choice.reason and "BACKEND=docker" in choice.reason


def test_embedded_forced_does_not_probe() -> None:
    assert choose({"BACKEND": "Embedded"}, probe=_never).backend is Backend.EMBEDDED


def test_docker_forced_without_engine_is_a_user_error() -> None:
    with pytest.raises(DockerUnavailable) as raised:
        choose({"BACKEND": "docker"}, probe=lambda: SILENT)
    assert "BACKEND=embedded" in raised.value.line()


def test_unknown_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'podman'"):
        choose({"BACKEND": "podman"}, probe=lambda: ANSWERS)


def _fake_docker(tmp_path: Path, script: str) -> None:
    path = tmp_path / "docker"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_probe_reads_the_engine_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_docker(tmp_path, "echo 27.1.0")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert probe_docker() == Probe(True, "Docker engine 27.1.0 answers")


def test_probe_reports_the_daemon_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_docker(tmp_path, "echo 'Cannot connect to the Docker daemon' >&2; exit 1")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert probe_docker() == Probe(False, "Cannot connect to the Docker daemon")


def test_probe_without_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert probe_docker().detail == "the docker CLI is not installed"


def test_probe_gives_up_on_a_hanging_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_docker(tmp_path, "exec sleep 30")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin{os.pathsep}/bin")
    result = probe_docker(timeout=0.3)
    assert not result.answers and "did not answer" in result.detail
