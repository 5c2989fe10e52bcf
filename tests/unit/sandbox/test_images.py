"""The offline image build's pure parts: the host's Debian mirror, wheel tags and keys, the build route."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.images import base, wheelhouse
from sandbox.images.build import Route, route


def test_mirror_from_a_deb822_sources_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(base.ENV_MIRROR, raising=False)
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n"
    )
    assert base.host_mirror(sources=tmp_path) == "http://mirror.example/debian"


def test_mirror_from_a_one_line_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(base.ENV_MIRROR, raising=False)
    (tmp_path / "sources.list").write_text("# comment\ndeb [arch=amd64] http://mirror.example/debian bookworm main\n")
    assert base.host_mirror(sources=tmp_path) == "http://mirror.example/debian"


def test_mirror_variable_wins_and_none_means_debootstraps_default(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(base.ENV_MIRROR, raising=False)
    assert base.host_mirror(sources=tmp_path) is None
    monkeypatch.setenv(base.ENV_MIRROR, "http://explicit.example/debian")
    assert base.host_mirror(sources=tmp_path) == "http://explicit.example/debian"


def test_wheels_are_fetched_for_the_images_platform_not_the_hosts() -> None:
    tags = wheelhouse.platform_tags("aarch64")
    assert tags[0] == "manylinux_2_36_aarch64" and tags[-1] == "manylinux2014_aarch64"
    assert all("x86_64" not in tag for tag in tags)


def test_the_wheelhouse_key_changes_with_what_goes_in() -> None:
    reqs = ["boto3==1.0", "setuptools>=77"]
    key = wheelhouse.wheelhouse_key(reqs, "3.11", ["manylinux_2_36_x86_64"])
    assert key != wheelhouse.wheelhouse_key(reqs, "3.12", ["manylinux_2_36_x86_64"])
    assert key != wheelhouse.wheelhouse_key(["boto3==1.1", "setuptools>=77"], "3.11", ["manylinux_2_36_x86_64"])


def test_requirements_are_the_runtime_dependencies_plus_setuptools() -> None:
    import tomllib

    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    reqs = wheelhouse.requirements(pyproject)
    assert reqs[:-1] == tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    assert reqs[-1].startswith("setuptools")


def test_route_prefers_offline_then_a_registry_then_says_why_not(monkeypatch: pytest.MonkeyPatch) -> None:
    docker: Any = object()
    monkeypatch.setattr(base, "can_make", lambda d: (True, "the base's root file system is cached"))
    assert route(docker)[0] is Route.OFFLINE
    monkeypatch.setattr(base, "can_make", lambda d: (False, "debootstrap is not installed"))
    monkeypatch.setattr("sandbox.engine.pullable", lambda d, image: (True, f"{image} can be pulled"))
    assert route(docker)[0] is Route.ONLINE
    monkeypatch.setattr("sandbox.engine.pullable", lambda d, image: (False, "no registry answers"))
    chosen, why = route(docker)
    assert chosen is None and "debootstrap" in why and "no registry" in why


def test_one_rule_for_the_project_image(monkeypatch: pytest.MonkeyPatch) -> None:
    """Here and not to update: used; here but unbuildable: used, said; missing: built (or its error)."""
    from sandbox.images import build
    from sandbox.images.errors import ImageBuildError

    docker: Any = object()
    said: list[str] = []
    present = [True]
    monkeypatch.setattr("sandbox.engine.image_present", lambda d, image: present[0])
    monkeypatch.setattr(build, "route", lambda d: (None, "debootstrap is not installed"))

    def cannot_build(say: Any) -> Any:
        raise ImageBuildError("the project image cannot be built here", "make images")

    monkeypatch.setattr(build, "build_images", cannot_build)
    assert build.ensure_project_image(docker, said.append, update=False) == build.PROJECT_IMAGE and not said
    assert build.ensure_project_image(docker, said.append, update=True) == build.PROJECT_IMAGE
    assert "cannot be rebuilt: debootstrap is not installed" in said[-1]
    present[0] = False
    with pytest.raises(ImageBuildError, match="cannot be built"):
        build.ensure_project_image(docker, said.append, update=False)


def test_a_missing_debootstrap_is_installed_with_apt_get_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The package lists may be stale: a failed install updates them and tries once more."""
    import subprocess

    installed: list[str] = []
    ran: list[list[str]] = []

    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        ran.append(command)
        ok = command[1] == "update" or len(ran) > 1
        if ok and command[1] == "install":
            installed.append("/usr/sbin/debootstrap")
        return subprocess.CompletedProcess(command, 0 if ok else 100, "", "")

    monkeypatch.setattr(base, "_debootstrap", lambda: installed[0] if installed else None)
    monkeypatch.setattr(base.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None)
    monkeypatch.setattr(base.os, "geteuid", lambda: 0)
    monkeypatch.setattr(base.subprocess, "run", run)
    said: list[str] = []
    assert base._installed_debootstrap(said.append) == "/usr/sbin/debootstrap"
    assert [c[1] for c in ran] == ["install", "update", "install"] and "debootstrap" in ran[0]
    assert said and "apt-get" in said[0]


def test_debootstrap_is_not_installed_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[object] = []
    monkeypatch.setattr(base, "_debootstrap", lambda: None)
    monkeypatch.setattr(base.shutil, "which", lambda name: "/usr/bin/apt-get")
    monkeypatch.setattr(base.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(base.subprocess, "run", lambda *a, **k: ran.append(a))
    assert base._installed_debootstrap(lambda _: None) is None and ran == []
    assert not base.debian.can_install()

