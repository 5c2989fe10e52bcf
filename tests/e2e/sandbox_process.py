"""Running `sandbox up`/`make up` as a real process group, as a terminal would, and checking
that nothing it started outlives it."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _children_by_parent() -> dict[int, list[int]]:
    """Live processes by their parent's pid, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def children(root: int) -> set[int]:
    """The live processes whose parent is ``root``."""
    return set(_children_by_parent().get(root, []))


def descendants(root: int) -> set[int]:
    """Every live process below ``root`` (workers run in their own sessions, so not by group)."""
    children = _children_by_parent()
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


@dataclass
class Stack:
    process: subprocess.Popen[str]
    endpoint_port: int
    sink_port: int
    state_dir: Path
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def read_until(self, text: str, timeout: float) -> str:
        def check() -> str | None:
            while True:
                try:
                    line = self.lines.get_nowait()
                except queue.Empty:
                    return next((s for s in self.seen if text in s), None)
                self.seen.append(line)

        return wait_until(check, timeout=timeout, interval=0.1, what=f"{text!r} in the output:\n" + "".join(self.seen))

    def interrupt(self) -> None:
        """Ctrl-C in a terminal: SIGINT to the whole foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)


def environment(endpoint_port: int, sink_port: int, state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOX_", "BACKEND"))}
    env.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{endpoint_port}",
        SANDBOX_HTTP_SINK_URL=f"http://127.0.0.1:{sink_port}/deliveries",
        SANDBOX_STATE_DIR=str(state_dir),
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        COLUMNS="200",
        # A throwaway compose project: `make down`/`make up` in a test never touch the developer's stack.
        SANDBOX_COMPOSE_PROJECT=f"sandbox-test-{endpoint_port}",
        SANDBOX_EDGE_PORT=str(endpoint_port),  # the compose stack publishes on the same ports
        SANDBOX_HTTP_SINK_PORT=str(sink_port),
    )
    return env


@contextmanager
def started(command: list[str], tmp_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """Start ``command`` in its own session (it leads its group, like a terminal job)."""
    endpoint_port, sink_port = free_port(), free_port()
    state_dir = tmp_path / "state"
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**environment(endpoint_port, sink_port, state_dir), **(extra_env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    stack = Stack(process, endpoint_port, sink_port, state_dir)
    assert process.stdout is not None
    pump = threading.Thread(target=lambda: [stack.lines.put(line) for line in process.stdout], daemon=True)  # type: ignore[union-attr]
    pump.start()
    try:
        yield stack
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        pump.join(timeout=5)
