"""The running embedded stack's pidfile under the state dir, so `make down` can stop it.

``.sandbox/sandbox.pid`` holds the pid of the `sandbox up` process (so a plain
`kill $(cat .sandbox/sandbox.pid)` works too); ``.sandbox/stack.json`` says where it
listens, so `sandbox status` and `sandbox env` find it without guessing.

Why ``stack.json`` also records the process's start time: after a crash the pidfile
stays behind, and the kernel may give its pid to an unrelated process. A pid counts
as our stack only while the process with that pid started when ours did (field 22 of
``/proc/<pid>/stat``), so `sandbox down` never signals a stranger.

Where the state dir is: ``SANDBOX_STATE_DIR`` when absolute. A relative one (the
default ``.sandbox``) is anchored like git anchors ``.git``: the nearest directory at
or above the current one whose state dir holds a pidfile; else the checkout this
`sandbox` was installed from (an editable install, as `make install` does) when it
holds one, so `cd /tmp && sandbox down` finds the stack too; else, to write one, the
checkout's root when the current directory is inside it, else the current directory.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bootstrap.settings import Settings

#: The checkout this package runs from (an editable install); None for a wheel install.
_SOURCE_ROOT = Path(__file__).resolve().parents[1]
CHECKOUT: Path | None = _SOURCE_ROOT if (_SOURCE_ROOT / "pyproject.toml").is_file() else None

PIDFILE = "sandbox.pid"
STACKFILE = "stack.json"
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class StackInfo:
    """What a running `sandbox up` told the world about itself."""

    pid: int
    backend: str
    endpoint_url: str
    http_sink_url: str
    started_at: float
    #: The process's start time in clock ticks since boot (/proc/<pid>/stat field 22);
    #: None where /proc is missing (the pid alone is trusted there).
    process_start: int | None = None


def state_dir(settings: Settings, cwd: Path | None = None) -> Path:
    """The state dir to read and write (see the module docstring for the search)."""
    configured = Path(settings.state_dir).expanduser()
    if configured.is_absolute():
        return configured
    here = (cwd or Path.cwd()).resolve()
    for candidate in _candidates(configured, here):
        if (candidate / PIDFILE).is_file():
            return candidate
    if CHECKOUT is not None and here.is_relative_to(CHECKOUT):
        return CHECKOUT / configured
    return here / configured


def _candidates(relative: Path, here: Path) -> list[Path]:
    found = [folder / relative for folder in (here, *here.parents)]
    if CHECKOUT is not None and CHECKOUT / relative not in found:
        found.append(CHECKOUT / relative)
    return found


def searched(settings: Settings, cwd: Path | None = None) -> str:
    """Where `state_dir` looked, in words (for "no sandbox is running" messages)."""
    configured = Path(settings.state_dir).expanduser()
    if configured.is_absolute():
        return str(configured)
    here = (cwd or Path.cwd()).resolve()
    where = f"{configured}/ in {here} and the directories above it"
    if CHECKOUT is not None and not here.is_relative_to(CHECKOUT):
        where += f", and in the checkout {CHECKOUT}"
    return where


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` from field 3 on (after the command name, which may hold spaces)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_of(fields: list[str] | None) -> int | None:
    try:
        return int(fields[19]) if fields else None  # field 22 = index 19 after the name
    except (IndexError, ValueError):
        return None


def process_start(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot), or None if unknown (no /proc, or gone)."""
    return _start_of(_stat_fields(pid))


def pid_alive(pid: int, started: int | None = None) -> bool:
    """True while ``pid`` exists, is not a zombie and (when ``started`` is given) is that process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else: /proc says whether it is ours
    fields = _stat_fields(pid)
    if fields is None:  # no /proc (not Linux): kill(0) is all we know; else it has just exited
        return not Path("/proc").is_dir()
    if fields[0] == "Z":  # a zombie has exited and only waits to be reaped
        return False
    return started is None or _start_of(fields) == started


def write(settings: Settings, info: StackInfo) -> StackInfo:
    """Record the stack (with its process's start time); returns what was stored."""
    if info.process_start is None:
        info = replace(info, process_start=process_start(info.pid))
    folder = state_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STACKFILE).write_text(json.dumps(asdict(info), indent=2) + "\n")
    (folder / PIDFILE).write_text(f"{info.pid}\n")
    return info


def read(settings: Settings) -> StackInfo | None:
    """The running stack, or None; a stale pidfile (process gone, or its pid reused) is removed."""
    folder = state_dir(settings)
    try:
        pid = int((folder / PIDFILE).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        info = StackInfo(**json.loads((folder / STACKFILE).read_text()))
        if info.pid != pid:
            raise ValueError("stack.json names another pid")
    except (OSError, ValueError, TypeError):
        info = StackInfo(pid, "embedded", "", "", 0.0)  # e.g. `kill`-ed while writing: pid only
    if not pid_alive(pid, info.process_start):
        clear(settings)
        return None
    return info


def clear(settings: Settings, pid: int | None = None) -> None:
    """Remove the pidfile (only if it still names ``pid``, when given)."""
    folder = state_dir(settings)
    if pid is not None:
        try:
            if int((folder / PIDFILE).read_text().strip()) != pid:
                return
        except (OSError, ValueError):
            return
    for name in (PIDFILE, STACKFILE):
        (folder / name).unlink(missing_ok=True)


def wait_gone(pid: int, timeout: float, started: int | None = None) -> bool:
    """Wait until ``pid`` (the process that started at ``started``) has exited; False at the deadline."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid, started):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def stop(settings: Settings, timeout: float = STOP_TIMEOUT_S) -> StackInfo | None:
    """SIGTERM the running stack and wait for it; SIGKILL it past the deadline.

    Returns the stack that was stopped, or None if none was running. The process is
    identified by pid and start time right before each signal (see the module docstring).
    """
    info = read(settings)
    if info is None:
        return None
    if not _signal(info, signal.SIGTERM):
        clear(settings)
        return info
    if not wait_gone(info.pid, timeout, info.process_start):
        _kill_hard(info)
        wait_gone(info.pid, 2.0, info.process_start)
    clear(settings)
    return info


def _signal(info: StackInfo, signum: int) -> bool:
    """Send ``signum`` if ``info.pid`` is still our process; False if it is gone."""
    if not pid_alive(info.pid, info.process_start):
        return False
    try:
        os.kill(info.pid, signum)
    except ProcessLookupError:
        return False
    return True


def _kill_hard(info: StackInfo) -> None:
    """Last resort: the stack ignored SIGTERM for too long.

    When it leads its own process group (started by make or setsid), the whole group
    goes, so helpers it started in its group go with it. Its function workers are not
    in that group: they run in their own sessions; the emulator stops them on a clean
    exit, and after a SIGKILL they exit by themselves when their request pipe closes.
    """
    if not pid_alive(info.pid, info.process_start):
        return
    try:
        if os.getpgid(info.pid) == info.pid:
            os.killpg(info.pid, signal.SIGKILL)
        else:
            os.kill(info.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
