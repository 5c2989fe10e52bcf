"""The pidfile `make down` uses: written, read, stale ones removed, a stack stopped with a deadline."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bootstrap.settings import Settings
from sandbox import state


def _settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=str(tmp_path / ".sandbox"))


def _info(pid: int) -> state.StackInfo:
    return state.StackInfo(pid, "embedded", "http://127.0.0.1:4566", "http://127.0.0.1:8088/deliveries", time.time())


def test_round_trip_and_plain_pidfile(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert state.read(settings) is None
    info = state.write(settings, _info(os.getpid()))
    assert info.process_start == state.process_start(os.getpid()) is not None
    assert (tmp_path / ".sandbox" / "sandbox.pid").read_text().strip() == str(os.getpid())
    assert state.read(settings) == info
    state.clear(settings, pid=os.getpid() + 1)  # someone else's pidfile: kept
    assert state.read(settings) is not None
    state.clear(settings, pid=os.getpid())
    assert state.read(settings) is None


def test_a_stale_pidfile_is_removed(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    state.write(settings, _info(int(done.stdout)))
    assert state.read(settings) is None
    assert not (tmp_path / ".sandbox" / "sandbox.pid").exists()


def test_stop_signals_and_waits(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state.write(settings, _info(child.pid))
        started = time.monotonic()
        stopped = state.stop(settings, timeout=5)
        child.wait(timeout=5)
        assert stopped is not None and stopped.pid == child.pid
        assert time.monotonic() - started < 5
        assert state.read(settings) is None
    finally:
        child.kill()


def test_stop_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ok', flush=True); time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ok"
        state.write(settings, _info(child.pid))
        state.stop(settings, timeout=0.5)
        assert child.wait(timeout=5) != 0
    finally:
        child.kill()


def test_stop_without_a_stack(tmp_path: Path) -> None:
    assert state.stop(_settings(tmp_path)) is None


def test_a_reused_pid_is_never_signalled(tmp_path: Path) -> None:
    # GIVEN a pidfile whose pid now belongs to another process (same pid, other start time)
    settings = _settings(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        real_start = state.process_start(child.pid)
        assert real_start is not None
        state.write(settings, replace(_info(child.pid), process_start=real_start - 1))
        # WHEN `sandbox down` runs THEN the stranger gets no signal (SIGTERM would end it) and the pidfile goes
        assert state.stop(settings, timeout=0.5) is None
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=0.3)
        assert not (tmp_path / ".sandbox" / "sandbox.pid").exists()
    finally:
        child.kill()
        child.wait(timeout=5)


def test_start_time_is_field_22_of_proc_stat() -> None:
    fields = Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    assert state.process_start(os.getpid()) == int(fields[19])
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert state.process_start(int(done.stdout)) is None  # gone


# --- where the default state dir is: anchored like git anchors .git ------------------------------
@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the checkout `sandbox` was installed from."""
    root = tmp_path / "checkout"
    (root / "sandbox" / "commands").mkdir(parents=True)
    monkeypatch.setattr(state, "CHECKOUT", root)
    return root


def _running_at(folder: Path) -> Settings:
    """A stack of this process recorded in ``folder`` (absolute), for the relative lookups to find."""
    state.write(Settings(state_dir=str(folder)), _info(os.getpid()))
    return Settings()  # the default: state_dir ".sandbox"


def test_the_default_state_dir_is_found_from_a_subdirectory(checkout: Path) -> None:
    default = _running_at(checkout / ".sandbox")
    assert state.state_dir(default, cwd=checkout / "sandbox" / "commands") == checkout / ".sandbox"
    assert state.read(Settings(state_dir=str(state.state_dir(default, cwd=checkout / "sandbox")))) is not None


def test_outside_the_checkout_the_checkouts_stack_is_found_too(checkout: Path, tmp_path: Path) -> None:
    """`cd /tmp && sandbox down`: the sandbox of the checkout this `sandbox` belongs to."""
    default = _running_at(checkout / ".sandbox")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert state.state_dir(default, cwd=elsewhere) == checkout / ".sandbox"


def test_a_nearer_stack_wins(checkout: Path) -> None:
    _running_at(checkout / ".sandbox")
    default = _running_at(checkout / "sandbox" / ".sandbox")
    assert state.state_dir(default, cwd=checkout / "sandbox" / "commands") == checkout / "sandbox" / ".sandbox"


def test_without_a_stack_new_state_goes_to_the_checkouts_root_or_the_cwd(checkout: Path, tmp_path: Path) -> None:
    assert state.state_dir(Settings(), cwd=checkout / "sandbox") == checkout / ".sandbox"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert state.state_dir(Settings(), cwd=elsewhere) == elsewhere / ".sandbox"
    searched = state.searched(Settings(), cwd=elsewhere)
    assert str(elsewhere) in searched and f"the checkout {checkout}" in searched
    absolute = tmp_path / "mine"
    assert state.state_dir(Settings(state_dir=str(absolute)), cwd=elsewhere) == absolute


def test_down_from_outside_the_checkout_stops_its_stack(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from sandbox.cli import app

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state.write(Settings(state_dir=str(checkout / ".sandbox")), _info(child.pid))
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        result = CliRunner().invoke(app, ["down", "--timeout", "5"], env={"SANDBOX_STATE_DIR": None})
        assert result.exit_code == 0, result.output
        assert f"stopped the embedded sandbox (pid {child.pid}" in result.stderr
        assert f"recorded in {checkout / '.sandbox'}" in result.stderr
        assert child.wait(timeout=5) is not None
    finally:
        child.kill()
        child.wait(timeout=5)
