"""Debian packages the tooling installs when missing (sandbox/debian.py): as root with
apt-get, and a warning with the fix otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import debian


def test_make_test_s_chromium_is_installed_with_apt_get_as_root_and_said_otherwise(monkeypatch: pytest.MonkeyPatch,
                                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    installed: list[str] = []
    ran: list[list[str]] = []

    def run(command: list[str], **_: Any) -> Any:
        ran.append(command)
        installed.append(command[-1])
        return debian.subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(debian.shutil, "which", lambda name: {"apt-get": "/usr/bin/apt-get"}.get(name) or (
        "/usr/bin/chromium" if name == "chromium" and installed else None))
    monkeypatch.setattr(debian.subprocess, "run", run)
    monkeypatch.setattr(debian.os, "geteuid", lambda: 1000)
    assert debian.main(["chromium", "chromium", "the dashboard's browser test"]) == 1 and ran == []
    assert "apt-get install -y chromium" in capsys.readouterr().err
    monkeypatch.setattr(debian.os, "geteuid", lambda: 0)
    assert debian.main(["chromium", "chromium", "the dashboard's browser test"]) == 0
    assert ran == [["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]]
    assert "installing chromium with apt-get" in capsys.readouterr().out
