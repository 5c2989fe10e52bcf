"""`sandbox up` as a separate process with its own state dir and ports: stop it with a
signal, start it again on the same state (the restart and endpoint-kill scenarios)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bootstrap.settings import Settings
from tests.chaos.harness import BIN, ROOT, Pipeline, sandbox_env
from tests.e2e.sandbox_process import free_port

READY = "ready in "
START_TIMEOUT_S = 90.0
#: The slowest demo producer `sandbox up` allows: its own clicks are other runs, which the census ignores.
UP_ARGS = ["up", "--no-live", "--no-dashboard", "--rate", "0.1"]


class SandboxProcess:
    """One state dir and one pair of ports, any number of `sandbox up` lifetimes."""

    def __init__(self, state_dir: Path) -> None:
        self.env = sandbox_env(f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}/deliveries", state_dir)
        self.pipeline = Pipeline(Settings.from_env(self.env), state_dir)
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    def start(self) -> None:
        self.process = process = subprocess.Popen(
            [str(BIN / "sandbox"), *UP_ARGS], cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, start_new_session=True,
        )
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True).start()  # type: ignore[arg-type]
        self.output = lines
        deadline = time.monotonic() + START_TIMEOUT_S
        while not any(READY in line for line in lines):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("`sandbox up` did not get ready:\n" + "".join(lines[-30:]))
            time.sleep(0.1)

    def stop(self, signum: signal.Signals) -> int:
        """Send ``signum`` to the sandbox's process group; its exit code."""
        assert self.process is not None
        os.killpg(self.process.pid, signum)
        code = self.process.wait(timeout=60)
        return code

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@contextmanager
def sandbox_process() -> Iterator[SandboxProcess]:
    state_dir = Path(tempfile.mkdtemp(prefix="chaos-state-"))
    sandbox = SandboxProcess(state_dir)
    try:
        yield sandbox
    finally:
        sandbox.close()
        shutil.rmtree(state_dir, ignore_errors=True)
