"""The running embedded stack's pidfile under the state dir, so `make down` can stop it.

``.sandbox/sandbox.pid`` holds the pid of the `sandbox up` process (so a plain
`kill $(cat .sandbox/sandbox.pid)` works too); ``.sandbox/stack.json`` says where it
listens, so `sandbox status` and `sandbox env` find it without guessing.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bootstrap.settings import Settings

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


def state_dir(settings: Settings) -> Path:
    return Path(settings.state_dir)


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        # Field 3 is the state; a zombie (Z) has exited and only waits to be reaped.
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def write(settings: Settings, info: StackInfo) -> None:
    folder = state_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STACKFILE).write_text(json.dumps(asdict(info), indent=2) + "\n")
    (folder / PIDFILE).write_text(f"{info.pid}\n")


def read(settings: Settings) -> StackInfo | None:
    """The running stack, or None; a stale pidfile (process gone) is removed."""
    folder = state_dir(settings)
    try:
        pid = int((folder / PIDFILE).read_text().strip())
    except (OSError, ValueError):
        return None
    if not pid_alive(pid):
        clear(settings)
        return None
    try:
        return StackInfo(**json.loads((folder / STACKFILE).read_text()))
    except (OSError, ValueError, TypeError):
        return StackInfo(pid, "embedded", "", "", 0.0)


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


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` has exited; False if it still runs at the deadline."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def stop(settings: Settings, timeout: float = STOP_TIMEOUT_S) -> StackInfo | None:
    """SIGTERM the running stack and wait for it; SIGKILL its group past the deadline.

    Returns the stack that was stopped, or None if none was running.
    """
    info = read(settings)
    if info is None:
        return None
    try:
        os.kill(info.pid, signal.SIGTERM)
    except ProcessLookupError:
        clear(settings)
        return info
    if not wait_gone(info.pid, timeout):
        _kill_hard(info.pid)
        wait_gone(info.pid, 2.0)
    clear(settings)
    return info


def _kill_hard(pid: int) -> None:
    """Last resort: the stack ignored SIGTERM for too long; take its process group too."""
    try:
        group = os.getpgid(pid)
        if group == pid:  # it leads its own group (started by make/setsid): kill its workers too
            os.killpg(group, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
