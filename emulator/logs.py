"""Function logs: CloudWatch Logs (``/aws/lambda/<name>``) on the same endpoint, plus a file.

Worker output arrives line by line on reader threads; lines are buffered and
flushed to moto's Logs backend by one background thread, so a chatty handler
never waits on the moto lock.

CloudWatch Logs keeps the newest ``events_kept`` events of each stream: moto keeps every
event in memory, and its log queries scan them all under the endpoint's lock, so a
long run would grow the endpoint and slow every `sandbox logs` and live-view poll. The
files (``log_dir``) keep every line.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

from emulator.moto_adapter import MotoAdapter

FLUSH_INTERVAL_SECONDS = 0.5


class FunctionLog:
    """The log of one function: one CloudWatch log stream per emulator run."""

    def __init__(self, hub: LogHub, function_name: str) -> None:
        self.group = f"/aws/lambda/{function_name}"
        self.stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self._hub = hub
        self._lines: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._file = None
        if hub.log_dir is not None:
            hub.log_dir.mkdir(parents=True, exist_ok=True)
            self._file = open(hub.log_dir / f"{function_name}.log", "a", encoding="utf-8")  # noqa: SIM115

    def write(self, line: str) -> None:
        with self._lock:
            self._lines.append((int(time.time() * 1000), line))
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()

    def drain(self) -> list[tuple[int, str]]:
        with self._lock:
            lines, self._lines = self._lines, []
        return lines

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class LogHub:
    """Owns every function log and the thread that flushes them."""

    def __init__(self, adapter: MotoAdapter, region: str, log_dir: str | None, events_kept: int = 0) -> None:
        self.adapter = adapter
        self.region = region
        self.events_kept = events_kept  # per stream; 0 = all
        self.log_dir = Path(log_dir) if log_dir else None
        self._logs: list[FunctionLog] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="log-flusher")

    def open(self, function_name: str) -> FunctionLog:
        log = FunctionLog(self, function_name)
        self._logs.append(log)
        return log

    def close(self, log: FunctionLog) -> None:
        """Flush and forget one function's log (its function was deleted)."""
        lines = log.drain()
        if lines:
            self.adapter.put_logs(self.region, log.group, log.stream, lines, keep=self.events_kept)
        log.close()
        if log in self._logs:
            self._logs.remove(log)

    def start(self) -> None:
        self._thread.start()

    def flush(self) -> None:
        for log in list(self._logs):
            lines = log.drain()
            if lines:
                self.adapter.put_logs(self.region, log.group, log.stream, lines, keep=self.events_kept)

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL_SECONDS):
            self.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.flush()
        for log in self._logs:
            log.close()
