"""Backend choice: BACKEND/EMULATOR force one; otherwise LocalStack, else our emulator image, else embedded."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sandbox.backend import Backend, NoDockerVariant, Probe, choose, probe_docker
from sandbox.compose import Variant
from sandbox.errors import ConfigError, DockerUnavailable

ANSWERS = Probe(True, "Docker engine 28.2.2 answers")
SILENT = Probe(False, "Cannot connect to the Docker daemon")


def _never() -> Probe:
    raise AssertionError("the engine must not be probed when BACKEND=embedded")


HERE = Probe(True, "localstack/localstack:4.14.0 is here")
GONE = Probe(False, "localstack/localstack:4.14.0 is not here and cannot be pulled: no registry answers")
BUILT = Probe(True, "clickstream-sandbox:local is built")
UNBUILDABLE = Probe(False, "clickstream-sandbox:local is not built and cannot be: debootstrap is not installed")


def _no_probe(*_: object) -> Probe:
    raise AssertionError("this probe must not run")


def test_auto_prefers_localstack_when_its_image_can_be_had() -> None:
    choice = choose({}, probe=lambda: ANSWERS, localstack=lambda image: HERE, project_image=_no_probe)
    assert (choice.backend, choice.variant) == (Backend.DOCKER, Variant.LOCALSTACK)
    assert "28.2.2" in choice.reason and "is here" in choice.reason


def test_without_localstack_the_same_stack_runs_our_emulator_and_says_why() -> None:
    choice = choose({}, probe=lambda: ANSWERS, localstack=lambda image: GONE, project_image=lambda: BUILT)
    assert (choice.backend, choice.variant) == (Backend.DOCKER, Variant.EMULATOR)
    assert "cannot be pulled" in choice.reason and "our emulator" in choice.reason


def test_without_any_image_it_falls_back_to_embedded_saying_both_reasons() -> None:
    choice = choose({}, probe=lambda: ANSWERS, localstack=lambda image: GONE, project_image=lambda: UNBUILDABLE)
    assert (choice.backend, choice.variant) == (Backend.EMBEDDED, None)
    assert "cannot be pulled" in choice.reason and "debootstrap" in choice.reason


def test_docker_forced_without_any_image_is_one_line_with_the_fixes() -> None:
    with pytest.raises(NoDockerVariant) as raised:
        choose({"BACKEND": "docker"}, probe=lambda: ANSWERS, localstack=lambda image: GONE,
               project_image=lambda: UNBUILDABLE)
    assert "make images" in raised.value.line() and "docker load" in raised.value.line()


def test_emulator_flag_forces_the_endpoint_without_probing_images() -> None:
    ours = choose({"EMULATOR": "1"}, probe=lambda: ANSWERS, localstack=_no_probe, project_image=_no_probe)
    assert ours.variant is Variant.EMULATOR
    theirs = choose({"EMULATOR": "0"}, probe=lambda: ANSWERS, localstack=_no_probe, project_image=_no_probe)
    assert theirs.variant is Variant.LOCALSTACK


def test_the_localstack_image_can_be_overridden() -> None:
    asked: list[str] = []
    choose({"LOCALSTACK_IMAGE": "mirror/localstack:4.14.0"}, probe=lambda: ANSWERS,
           localstack=lambda image: asked.append(image) or HERE)
    assert asked == ["mirror/localstack:4.14.0"]


def test_a_bad_emulator_flag_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="EMULATOR='maybe'"):
        choose({"EMULATOR": "maybe"}, probe=lambda: ANSWERS)


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
