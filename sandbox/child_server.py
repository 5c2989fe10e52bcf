"""The embedded endpoint (``python -m emulator``) and the HTTP sink (``python -m sandbox.httpsink``)
in processes of their own, owned by ``sandbox up``.

Why processes: the endpoint (moto, the pollers), the sink (a POST per record) and the rest of
``sandbox up`` (producer, live view, dashboard) are all Python; in one process they share one
GIL, and measured under ``--rate 1000`` the endpoint then spent about half its time waiting
for it (issue 11: 50 writes/s in one process, 108 with the endpoint apart, same machine, same load).

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

#: How long a child may take to answer after its start (the endpoint imports moto's backends).
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent thread that started it ends."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: `sandbox down`/the pidfile still stop it
        pass


class ChildExited(RuntimeError):
    """The child server ended during its start; ``log_tail`` says why."""

    def __init__(self, name: str, code: int | None, log_tail: str) -> None:
        super().__init__(f"the {name} process exited during start (exit {code}): {log_tail or 'no output'}")
        self.log_tail = log_tail


class ChildServer:
    """``start()`` returns once ``health_path`` answers 200; ``stop()`` ends the process (and its
    workers). ``module`` is run as ``python -m module --host H --port P [extra args]``."""

    def __init__(self, name: str, module: str, host: str, port: int, log_path: Path, *,
                 health_path: str, extra_args: tuple[str, ...] = ()) -> None:
        self.name, self.module = name, module
        self.host, self.port = host, port
        self.log_path = log_path
        self.health_path = health_path
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0  # where this run's output starts in the (appended) log

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def spawn(self) -> ChildServer:
        """Start the process without waiting (``start()`` waits), so two children import at once."""
        if self.process is not None:
            return self
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", self.module, "--host", self.host, "--port", str(self.port), *self.extra_args]
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own module, no shell
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent,  # noqa: PLW1509 - prctl only
            )
        return self

    def start(self) -> ChildServer:
        self.spawn()
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
                raise ChildExited(self.name, code, tail)
            if self._answers():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ChildExited(self.name, None, f"no answer within {READY_TIMEOUT_S:.0f} s; {self._log_tail()}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}{self.health_path}", timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def output(self) -> list[str]:
        """The lines this run of the child has written so far (e.g. its "state: …" line)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return log.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    def _log_tail(self) -> str:
        lines = [line for line in self.output() if line.strip()]
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


def emulator(host: str, port: int, region: str, log_path: Path, extra_args: tuple[str, ...] = ()) -> ChildServer:
    return ChildServer("emulator", "emulator", host, port, log_path, health_path="/_emulator/health",
                       extra_args=("--region", region, *extra_args))


def http_sink(host: str, port: int, log_path: Path, extra_args: tuple[str, ...] = ()) -> ChildServer:
    return ChildServer("HTTP sink", "sandbox.httpsink", host, port, log_path, health_path="/stats",
                       extra_args=extra_args)
