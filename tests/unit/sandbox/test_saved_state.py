"""`sandbox reset` and the saved state's one-line errors: refused while running, removes what is there,
an unusable snapshot named with the fix (never a traceback)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bootstrap.settings import Settings
from emulator.snapshot_file import FORMAT_VERSION, write_atomic
from sandbox import saved_state, state
from sandbox.cli import app
from sandbox.errors import SandboxError

from .test_cli import assert_user_error

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    return {"AWS_ENDPOINT_URL": None, "SANDBOX_STATE_DIR": str(tmp_path / "state")}


def _snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "state" / saved_state.SNAPSHOT
    write_atomic(path, b"x" * 2_000_000, project_version="0.1.0", summary={"items": 1})
    (path.parent / f".{saved_state.SNAPSHOT}.abc.tmp").write_bytes(b"left by a kill mid-write")
    (path.parent / saved_state.SINK_JOURNAL).write_text('{"delivery": {}}\n')
    return path


def test_reset_removes_the_snapshot_and_leftover_temp_files(tmp_path: Path, env: dict[str, str | None]) -> None:
    path = _snapshot(tmp_path)
    result = runner.invoke(app, ["reset"], env=env)
    assert result.exit_code == 0, result.output
    assert "removed the saved state" in result.output and "2.0 MB" in result.output
    assert list(path.parent.iterdir()) == []
    again = runner.invoke(app, ["reset"], env=env)
    assert again.exit_code == 0 and "no saved state to remove" in again.output


def test_reset_is_refused_while_a_sandbox_runs(tmp_path: Path, env: dict[str, str | None]) -> None:
    path = _snapshot(tmp_path)
    settings = Settings(state_dir=str(tmp_path / "state"))
    state.write(settings, state.StackInfo(os.getpid(), "embedded", "http://127.0.0.1:1", "", time.time()))
    try:
        assert_user_error(runner.invoke(app, ["reset"], env=env), 1, "is running", "sandbox down")
        assert path.exists()
    finally:
        state.clear(settings)


def test_reset_removes_a_snapshot_it_cannot_read_too(tmp_path: Path, env: dict[str, str | None]) -> None:
    path = tmp_path / "state" / saved_state.SNAPSHOT
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage")
    assert runner.invoke(app, ["reset"], env=env).exit_code == 0
    assert not path.exists()


def test_an_unusable_snapshot_is_one_line_naming_sandbox_reset(tmp_path: Path) -> None:
    path = tmp_path / saved_state.SNAPSHOT
    write_atomic(path, b"x", project_version="0.0.1", summary={})
    header, _, payload = path.read_bytes().partition(b"\n")
    path.write_bytes(header.replace(f'"format_version": {FORMAT_VERSION}'.encode(), b'"format_version": 0') + b"\n" + payload)
    with pytest.raises(SandboxError) as refused:
        saved_state.check_saved(path)
    line = refused.value.line()
    assert "\n" not in line and "format version 0" in line and "sandbox reset" in line and "--no-persist" in line


def test_no_snapshot_means_a_fresh_start(tmp_path: Path) -> None:
    assert saved_state.check_saved(tmp_path / saved_state.SNAPSHOT) is None
