"""State that survives a restart: periodic, consistent snapshots of the whole emulator, and their restore.

What one snapshot holds, all from the same instant: moto's backends (tables and items,
streams and their records, Kinesis shards, S3 objects, queues and messages, IAM, logs),
and our functions (with their zip packages) and mappings (with each shard's checkpoint).

Why one instant matters: a poller advances its checkpoint only after the function's
writes (to S3, Kinesis) are done, and those pass through the lock that serializes moto.
Taking moto's state and the checkpoints under that lock means a restored checkpoint never
points past output the snapshot lacks (nothing skipped), and never lags behind more than
the batch that was in flight (re-delivered, and absorbed by the idempotent sinks). Writes
outside moto (the HTTP sink) must be durable once acknowledged: sandbox/httpsink_journal.py.

Why fork: pickling 10,000 clicks' worth of state takes far longer than a request, and
holding the lock that serializes requests for that long would stall the pipeline. On
Linux the snapshotter takes the locks, forks (a copy-on-write image of memory, a few
milliseconds), releases the locks, and the child pickles and writes the file while the
parent keeps serving (Redis's BGSAVE). Elsewhere it pickles under the locks.

A SIGKILL or a crash loses what changed since the last snapshot (at most ``interval``
seconds of writes, more once the state is so big that writing it takes longer: the pause
between snapshots stretches to twice the time one takes); a clean stop (Ctrl-C, SIGTERM) refuses further writes, then takes a
final snapshot, so it loses nothing.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import signal
import stat
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator import moto_state
from emulator.server import VERSION
from emulator.snapshot_file import Header, SnapshotError, read, read_header, write_atomic

if TYPE_CHECKING:
    from emulator.lambda_service.mappings import MappingRegistry
    from emulator.lambda_service.models import FunctionRegistry
    from emulator.moto_adapter import MotoAdapter

log = logging.getLogger("emulator.persistence")

#: How much the forked writer yields the CPU to the emulator's own threads and the function workers.
CHILD_NICENESS = 5  # mild: a starved writer means a longer loss window after a SIGKILL
#: A writer still busy after this long is taken to hang (a lock copied held by fork): killed.
CHILD_DEADLINE_S = 300.0
PROJECT_VERSION = VERSION  # the project version the header records


@dataclass
class Loaded:
    """A snapshot read back and unpickled, ready to be put in place."""

    path: Path
    header: Header
    payload: dict[str, Any]

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.header.created_at)

    def describe(self) -> str:
        """One line for people: what was restored and how old it is."""
        counts = self.header.summary
        shown = ", ".join(f"{counts[k]:,} {k.replace('_', ' ')}" for k in SUMMARY_ORDER if counts.get(k))
        return f"restored the saved state from {_age(self.age_s)} ago ({shown or 'empty'}) from {self.path}"


SUMMARY_ORDER = ("tables", "items", "stream_records", "kinesis_records", "objects", "messages", "functions", "mappings")


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def load(path: Path) -> Loaded | None:
    """The snapshot at ``path`` (None if there is none); SnapshotError if it cannot be used."""
    if not path.exists():
        return None
    header, data = read(path)
    collecting = gc.isenabled()
    gc.disable()  # millions of new objects would set off collection passes that find nothing to free
    try:
        payload = pickle.loads(data)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means "unusable", never half-loaded
        raise SnapshotError(path, f"cannot be loaded ({type(error).__name__}: {error})") from None
    finally:
        if collecting:
            gc.enable()
    if not isinstance(payload, dict) or "moto" not in payload:
        raise SnapshotError(path, "holds no emulator state")
    return Loaded(path, header, payload)


@dataclass
class Persistence:
    """How an Emulator persists: where, and what to restore first."""

    path: Path
    loaded: Loaded | None = None
    interval: float | None = None  # None: the emulator config's snapshot_interval


@dataclass
class Snapshotter:
    """Writes a snapshot every ``interval`` seconds when something changed, and a final one on stop."""

    path: Path
    adapter: MotoAdapter
    functions: FunctionRegistry
    mappings: MappingRegistry
    interval: float = 1.0
    use_fork: bool = field(default_factory=lambda: sys.platform.startswith("linux") and hasattr(os, "fork"))
    last: Header | None = None
    last_duration_s: float = 0.0
    last_pause_s: float = 0.0  # how long the last snapshot held the locks (requests waited that long)
    _stop: threading.Event = field(default_factory=threading.Event)
    _one_at_a_time: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None
    _seen: tuple[int, Any] | None = None

    def start(self) -> None:
        self._seen = self._fingerprint()
        self._thread = threading.Thread(target=self._run, daemon=True, name="snapshotter")
        self._thread.start()

    def stop(self, *, final: bool = True) -> None:
        """Stop the periodic snapshots; with ``final``, refuse further writes and take the last one."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if final:
            with self.adapter.lock:
                self.adapter.frozen = True
            self.snapshot_now()

    def _fingerprint(self) -> tuple[int, Any]:
        return self.adapter.changes, [(r["uuid"], r["checkpoints"]) for r in self.mappings.records()]

    def _pause(self) -> float:
        """The next wait: ``interval``, stretched so writing a big state takes at most a third of the
        time (the forked writer costs CPU the pipeline would use, on a 2-core laptop too)."""
        return max(self.interval, 2 * self.last_duration_s)

    def _run(self) -> None:
        while not self._stop.wait(self._pause()):
            seen = self._fingerprint()
            if seen == self._seen:
                continue
            try:
                self.snapshot_now()
                self._seen = seen
            except Exception:  # noqa: BLE001 - a failed snapshot must not stop the emulator: retry next tick
                log.exception("snapshot to %s failed", self.path)

    def snapshot_now(self) -> Header | None:
        """Take one snapshot (blocks until it is on disk; one at a time, so an older one never lands last)."""
        with self._one_at_a_time:
            return self._snapshot()

    def _snapshot(self) -> Header | None:
        started = time.monotonic()
        with self.adapter.lock:
            refs = {
                "moto": moto_state.capture(self.adapter.account_id),
                "functions": self.functions.records(),
                "mappings": self.mappings.records(),
            }
            if self.use_fork:
                reader, writer = os.pipe()
                pid = os.fork()
                if pid == 0:  # the child: a frozen copy of memory, no other threads
                    os.close(reader)
                    _child_write(self.path, refs, writer)
                os.close(writer)
            else:
                self._write(refs)
            self.last_pause_s = time.monotonic() - started
        if self.use_fork:
            self._wait_child(pid, reader)
        self.last_duration_s = time.monotonic() - started
        return self.last

    def _write(self, refs: dict[str, Any]) -> None:
        data = moto_state.dumps(refs)
        self.last = write_atomic(self.path, data, project_version=PROJECT_VERSION, summary=summarize(refs))

    def _wait_child(self, pid: int, reader: int) -> None:
        """Reap the writer; one that hangs past CHILD_DEADLINE_S is killed (the previous snapshot stays)."""
        deadline = time.monotonic() + CHILD_DEADLINE_S
        status = None
        while status is None:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = code
            elif time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                status = os.waitpid(pid, 0)[1]
            else:
                time.sleep(0.01)
        with os.fdopen(reader, "rb") as pipe:
            message = pipe.read().decode(errors="replace")
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"the snapshot writer failed: {message.strip() or f'exit status {status}'}")
        try:
            self.last = read_header(self.path)
        except SnapshotError as error:
            raise RuntimeError(str(error)) from None


def summarize(refs: dict[str, Any]) -> dict[str, int]:
    counts = moto_state.summary(refs["moto"])
    counts["functions"] = len(refs["functions"])
    counts["mappings"] = len(refs["mappings"])
    return counts


def _close_sockets() -> None:
    """The child needs no socket: close its copies, so a listening port is free once the parent dies."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for fd in fds:
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)
        except OSError:
            pass


def _child_write(path: Path, refs: dict[str, Any], report: int) -> None:
    """In the forked child: pickle, write atomically, exit (never returns, never runs the parent's cleanup)."""
    code = 0
    try:
        _close_sockets()
        os.nice(CHILD_NICENESS)  # the pipeline first: the snapshot takes the CPU left over
        gc.disable()  # a short-lived copy: nothing to collect, and pickling needs no passes
        data = moto_state.dumps(refs)
        write_atomic(path, data, project_version=PROJECT_VERSION, summary=summarize(refs))
    except BaseException as error:  # noqa: BLE001 - report anything to the parent, then exit
        code = 1
        try:
            os.write(report, f"{type(error).__name__}: {error}".encode()[:4000])
        except OSError:
            pass
    finally:
        os._exit(code)


def apply_moto_and_functions(loaded: Loaded, adapter: MotoAdapter, functions: FunctionRegistry) -> None:
    """Put the saved moto state and functions in place (before the endpoint serves)."""
    with adapter.lock:
        moto_state.install(adapter.account_id, loaded.payload["moto"])
    functions.restore(loaded.payload.get("functions") or [])


def apply_mappings(loaded: Loaded, mappings: MappingRegistry) -> None:
    """Recreate the mappings at their checkpoints (once the endpoint serves: their functions call it)."""
    mappings.restore(loaded.payload.get("mappings") or [])
