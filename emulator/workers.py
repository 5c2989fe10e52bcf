"""Warm worker processes that execute a function's handler, like Lambda's sandboxes.

A ``WorkerPool`` per function hands out an idle worker of the current code
revision or starts a new one (up to a cap); a worker that timed out or crashed
is killed and replaced, and one of an older revision is retired on release, so
UpdateFunctionCode takes effect on the next invocation.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUNTIME_SCRIPT = str(Path(__file__).with_name("worker_runtime.py"))
INIT_TIMEOUT_SECONDS = 10.0  # Lambda's init phase limit


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to start: a snapshot of the function's configuration."""

    function_name: str
    revision: int
    handler: str
    code_dir: str
    libs_dir: str
    environment: dict[str, str]
    timeout: float


@dataclass
class Outcome:
    """What an invocation produced: a JSON payload, or an error payload with its kind."""

    payload: bytes
    function_error: str | None = None  # "Unhandled" as AWS sets X-Amz-Function-Error
    duration_ms: float = 0.0
    log_tail: str = ""  # the handler's output during this invocation (last 4 KB)

    @property
    def ok(self) -> bool:
        return self.function_error is None

    def error_type(self) -> str | None:
        if self.ok:
            return None
        try:
            return str(json.loads(self.payload).get("errorType"))
        except (ValueError, AttributeError):
            return None


def error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


class Worker:
    """One process running ``worker_runtime.py`` for one code revision."""

    def __init__(self, spec: WorkerSpec, log: Callable[[str], None]) -> None:
        self.spec = spec
        self._log = log
        self._responses: queue.Queue[dict[str, Any] | None] = queue.Queue()
        req_read, self._req_write = os.pipe()
        resp_read, resp_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-u", RUNTIME_SCRIPT, str(req_read), str(resp_write), spec.code_dir, spec.libs_dir],
            env=spec.environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(req_read, resp_write),
            start_new_session=True,  # its own process group: a kill takes its children too
            cwd=spec.code_dir,
        )
        os.close(req_read)
        os.close(resp_write)
        self._requests = os.fdopen(self._req_write, "w", encoding="utf-8")
        self._threads = [
            threading.Thread(target=self._pump_responses, args=(resp_read,), daemon=True),
            threading.Thread(target=self._pump_output, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self.init_error: dict[str, Any] | None = None
        self.ready = False
        self.started_at = time.monotonic()

    def _pump_responses(self, fd: int) -> None:
        with os.fdopen(fd, "r", encoding="utf-8") as stream:
            for line in stream:
                try:
                    self._responses.put(json.loads(line))
                except ValueError:
                    self._log(f"[emulator] unreadable runtime message: {line[:200]!r}")
        self._responses.put(None)

    def _pump_output(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self._log(raw.decode("utf-8", "replace").rstrip("\n"))

    def wait_ready(self) -> None:
        """Wait for the init phase (handler import) to finish or fail."""
        if self.ready or self.init_error:
            return
        try:
            message = self._responses.get(timeout=INIT_TIMEOUT_SECONDS)
        except queue.Empty:
            self.init_error = {"errorType": "Runtime.InitTimeout", "errorMessage": "Init phase timed out"}
            return
        if message is None:
            self.init_error = {"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited during init: exit status {self.process.poll()}"}
        elif message.get("status") == "ready":
            self.ready = True
        else:
            self.init_error = message.get("error") or {"errorType": "Runtime.Unknown", "errorMessage": "init failed"}

    def invoke(self, event: Any, request_id: str, invoked_arn: str) -> tuple[Outcome, bool]:
        """Run one invocation. Returns the outcome and whether this worker is still usable."""
        started = time.monotonic()
        self.wait_ready()
        if self.init_error is not None:
            return Outcome(json.dumps(self.init_error).encode(), "Unhandled"), False
        deadline = time.time() + self.spec.timeout
        request = {"request_id": request_id, "invoked_arn": invoked_arn, "deadline_ms": int(deadline * 1000), "event": event}
        try:
            self._requests.write(json.dumps(request, separators=(",", ":")) + "\n")
            self._requests.flush()
        except (BrokenPipeError, ValueError):
            return self._exited(request_id, started), False
        try:
            message = self._responses.get(timeout=self.spec.timeout)
        except queue.Empty:
            self.kill()
            text = f"RequestId: {request_id} Error: Task timed out after {self.spec.timeout:.2f} seconds"
            self._log(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {text}")
            return Outcome(error_payload("Sandbox.Timedout", text), "Unhandled", self._ms(started)), False
        if message is None:
            return self._exited(request_id, started), False
        tail = str(message.get("log_tail", ""))
        if message.get("status") == "ok":
            return Outcome(str(message.get("payload", "null")).encode(), None, self._ms(started), tail), True
        return Outcome(json.dumps(message.get("error", {})).encode(), "Unhandled", self._ms(started), tail), True

    def _exited(self, request_id: str, started: float) -> Outcome:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        text = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
        return Outcome(error_payload("Runtime.ExitError", text), "Unhandled", self._ms(started))

    @staticmethod
    def _ms(started: float) -> float:
        return (time.monotonic() - started) * 1000

    def kill(self) -> None:
        """Stop the process group now and release the pipes."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            self._requests.close()
        except (BrokenPipeError, OSError):
            pass
        # Only the response pump is joined: the output pump may be blocked on a pipe that a
        # process the handler started in a session of its own still holds, and closing the
        # stream under it would block here forever. It is a daemon; it ends with the pipe.
        self._threads[0].join(timeout=2)


@dataclass
class WorkerPool:
    """The warm workers of one function."""

    spec_source: Callable[[], WorkerSpec]
    log: Callable[[str], None]
    max_workers: int
    _idle: list[Worker] = field(default_factory=list)
    _all: set[Worker] = field(default_factory=set)
    _busy: int = 0
    _closed: bool = False
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def prewarm(self, count: int = 1) -> None:
        """Start workers in the background until ``count`` exist (capped), so the first
        invocations are warm: one for a new function, one per shard its mappings poll
        concurrently (a second shard's first batch would otherwise wait for an init phase)."""
        def start() -> None:
            try:
                worker = self._start()
            except Exception:  # noqa: BLE001 - the slot must come back whatever failed
                with self._cond:
                    self._busy -= 1
                    self._cond.notify()
                return
            worker.wait_ready()
            self.release(worker, healthy=worker.init_error is None)
        with self._cond:
            wanted = min(count, self.max_workers) - len(self._idle) - self._busy
            if self._closed or wanted <= 0:
                return
            self._busy += wanted
        for _ in range(wanted):
            threading.Thread(target=start, daemon=True, name="prewarm").start()

    def _start(self) -> Worker:
        worker = Worker(self.spec_source(), self.log)
        with self._cond:
            closed = self._closed
            if not closed:
                self._all.add(worker)
        if closed:  # the pool closed while this worker was starting: it must not outlive it
            worker.kill()
            raise RuntimeError("function deleted")
        return worker

    def acquire(self) -> Worker:
        revision = self.spec_source().revision
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("function deleted")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.spec.revision == revision and worker.process.poll() is None:
                        self._busy += 1
                        return worker
                    self._all.discard(worker)
                    threading.Thread(target=worker.kill, daemon=True).start()
                if self._busy < self.max_workers:
                    self._busy += 1
                    break
                self._cond.wait()
        try:
            return self._start()
        except Exception:
            with self._cond:
                self._busy -= 1
                self._cond.notify()
            raise

    def release(self, worker: Worker, healthy: bool) -> None:
        current = self.spec_source().revision if not self._closed else -1
        with self._cond:
            self._busy -= 1
            keep = healthy and not self._closed and worker.spec.revision == current and worker.process.poll() is None
            if keep:
                self._idle.append(worker)
            self._cond.notify()
        if not keep:
            worker.kill()
            with self._cond:
                self._all.discard(worker)

    def retire_idle(self) -> None:
        """Kill idle workers (after a code or configuration change)."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._all.difference_update(idle)
        for worker in idle:
            worker.kill()

    def pids(self) -> list[int]:
        with self._cond:
            return [w.process.pid for w in self._all if w.process.poll() is None]

    def close(self) -> None:
        """Stop every worker, busy ones included (their invocations fail as exited)."""
        with self._cond:
            self._closed = True
            workers, self._idle = list(self._all), []
            self._all.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.kill()

    def run(self, event: Any, request_id: str, invoked_arn: str) -> Outcome:
        worker = self.acquire()
        healthy = False
        try:
            outcome, healthy = worker.invoke(event, request_id, invoked_arn)
            return outcome
        finally:
            self.release(worker, healthy)
