"""The embedded endpoint in a process of its own (``python -m emulator``), owned by ``sandbox up``.

Why a process: the endpoint (moto, the pollers) and the rest of ``sandbox up`` (producer,
live view, HTTP sink, dashboard) are all Python; in one process they share one GIL, and
measured under ``--rate 1000`` the endpoint then spent about half its time waiting for it
(issue 11: 50 writes/s in one process, 108 with the endpoint apart, same machine, same load).

Lifetime: the child runs in a session of its own, so the terminal's Ctrl-C reaches only
``sandbox up``, which stops the producer first and the endpoint last, in order. Should
``sandbox up`` die without stopping it (SIGKILL, a crash), the kernel sends the child
SIGTERM (``PR_SET_PDEATHSIG``), and it stops its function workers and frees the port.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

#: How long the endpoint may take to answer after its start (imports, moto's backends).
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent thread that started it ends."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: `sandbox down`/the pidfile still stop it
        pass


class EmulatorExited(RuntimeError):
    """The endpoint process ended during its start; ``log_tail`` says why."""

    def __init__(self, code: int | None, log_tail: str) -> None:
        super().__init__(f"the emulator process exited during start (exit {code}): {log_tail or 'no output'}")
        self.log_tail = log_tail


class EmulatorProcess:
    """``start()`` returns once the endpoint answers; ``stop()`` ends it and its workers."""

    def __init__(self, host: str, port: int, region: str, log_path: Path) -> None:
        self.host, self.port, self.region = host, port, region
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> EmulatorProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "emulator", "--host", self.host, "--port", str(self.port), "--region", self.region]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own module, no shell
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent,  # noqa: PLW1509 - prctl only
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            code = self.process.poll()
            if code is not None:
                tail = self._log_tail()
                if "already in use" in tail:
                    raise OSError(errno.EADDRINUSE, tail)
                raise EmulatorExited(code, tail)
            if self._answers():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise EmulatorExited(None, f"no answer within {READY_TIMEOUT_S:.0f} s; {self._log_tail()}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/_emulator/health", timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def stop(self) -> None:
        """SIGTERM (the emulator stops its workers and pollers), then SIGKILL for the group."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=5)
