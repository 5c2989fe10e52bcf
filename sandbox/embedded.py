"""The embedded backend: the HTTP sink and the emulator as child processes, and the bootstrapped pipeline.

``EmbeddedStack`` is a context manager: whatever started is stopped again on the
way out (also when start fails half-way), so Ctrl-C leaves no process or port behind.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Protocol

from bootstrap import api
from bootstrap.settings import DEFAULT_ENDPOINT, Settings
from bootstrap.topology import Topology
from emulator import EmulatorConfig
from emulator.config import ConfigError as EmulatorConfigError
from sandbox import child_server, ports
from sandbox.child_server import ChildExited, ChildServer
from sandbox.errors import ConfigError, PortInUse, SandboxError
from sandbox.httpsink import DELIVERIES_PATH
from sandbox.saved_state import check_saved, journal_path, snapshot_path
from sandbox.state import state_dir

DEFAULT_ENDPOINT_PORT = 4566
DEFAULT_SINK_PORT = 8088

Progress = Callable[[str], None]


def endpoint_of(settings: Settings) -> tuple[str, int]:
    """Where the embedded endpoint listens: AWS_ENDPOINT_URL's host:port, default 127.0.0.1:4566."""
    url = settings.endpoint_url or DEFAULT_ENDPOINT
    if not ports.is_local(url):
        raise ConfigError(
            f"AWS_ENDPOINT_URL={url} is not on this machine; the embedded backend listens locally",
            "unset AWS_ENDPOINT_URL, or set it to http://127.0.0.1:<port>",
        )
    return ports.host_port(url, DEFAULT_ENDPOINT_PORT)


class EmbeddedStack:
    """Start order: sink (consumer B needs it) and emulator (spawned together), bootstrap apply. Stop: reverse."""

    def __init__(self, settings: Settings, *, progress: Progress = lambda _: None, persist: bool = False) -> None:
        """``persist``: restore the state saved in the state dir and keep saving it (`sandbox up`'s default)."""
        self._requested = settings
        self.persist = persist
        self._progress = progress
        self._stack = ExitStack()
        self.settings = settings
        self.emulator: ChildServer | None = None
        self.sink: ChildServer | None = None
        self.topology: Topology | None = None

    def __enter__(self) -> EmbeddedStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def preflight(self) -> tuple[tuple[str, int], tuple[str, int]]:
        """Check both ports are usable before anything starts; returns them."""
        host, port = endpoint_of(self._requested)
        sink_host, sink_port = ports.host_port(self._requested.http_sink_url, DEFAULT_SINK_PORT)
        ports.require_free(host, port, "the AWS endpoint")
        ports.require_free(sink_host, sink_port, "the HTTP sink")
        return (host, port), (sink_host, sink_port)

    def start(self) -> None:
        started = time.monotonic()
        (host, port), (sink_host, sink_port) = self.preflight()

        # EMULATOR_* variables (TTL sweep interval, retention, workers) apply; host and port come
        # from AWS_ENDPOINT_URL, so the sandbox and its clients agree on one address. Checked here
        # (one clear line), then read again by the endpoint process (sandbox/child_server.py).
        try:
            EmulatorConfig.from_env(host=host, port=port, region=self._requested.region)
        except EmulatorConfigError as error:
            raise ConfigError(str(error), "fix or unset the EMULATOR_* variable it names") from None
        logs = state_dir(self._requested)
        emulator_args, sink_args = self._persistence()
        self.sink = child_server.http_sink(sink_host, sink_port, logs / "httpsink.log", sink_args)
        self.emulator = child_server.emulator(host, port, self._requested.region, logs / "emulator.log", emulator_args)
        for child in (self.sink, self.emulator):  # both import at once; each is stopped on the way out
            self._stack.callback(child.stop)
            child.spawn()
        self._start_child(self.sink, sink_host, sink_port, "the HTTP sink")
        sink_url = f"{self.sink.base_url}{DELIVERIES_PATH}"
        self._progress(f"HTTP sink (consumer B's endpoint) listening at {sink_url} (process {self.sink.pid})")
        self._start_child(self.emulator, host, port, "the AWS endpoint")
        self._relay_state(self.emulator)  # what was restored: the snapshot first, then the sink's journal
        self._relay_state(self.sink)
        self._progress(f"emulator serving AWS APIs at {self.emulator.base_url} "
                       f"(process {self.emulator.pid}, log {self.emulator.log_path})")
        self.settings = self._requested.with_overrides(endpoint_url=self.emulator.base_url, http_sink_url=sink_url)
        self.topology = Topology.from_settings(self.settings)
        self._progress("bootstrap: creating the pipeline (table, buckets, Kinesis, queue, role, 4 functions, mappings)")
        result = api.apply(self.settings, progress=lambda line: self._progress(f"  {line}"))
        self._progress(f"bootstrap: {result.summary()} ({time.monotonic() - started:.1f} s since start)")

    def _start_child(self, child: ChildServer, host: str, port: int, what: str) -> None:
        try:
            self._stack.enter_context(_serving(child, host, port, what))
        except ChildExited as error:
            raise SandboxError(str(error), f"see {child.log_path}") from None

    def _persistence(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The children's options for the saved state (none with --no-persist). The snapshot's
        header is checked here, so a refused one is one line before anything starts; the
        children load it and say what they restored (relayed by ``_relay_state``)."""
        if not self.persist:
            self._progress("state: not saved (--no-persist): this run starts empty and leaves nothing behind")
            return (), ()
        snapshot = snapshot_path(self._requested)
        check_saved(snapshot)
        return ("--snapshot", str(snapshot)), ("--journal", str(journal_path(self._requested)))

    def _relay_state(self, child: ChildServer) -> None:
        for line in child.output():
            if line.startswith("state: "):
                self._progress(line)

    def stop(self) -> None:
        """Stop what was started, newest first (idempotent)."""
        self._stack.close()


class _Server(Protocol):
    def start(self) -> object: ...

    def stop(self) -> None: ...


@contextmanager
def _serving(server: _Server, host: str, port: int, what: str) -> Iterator[None]:
    """Start a server, turning "address in use" (a race after the port check) into PortInUse."""
    try:
        server.start()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(host, port, what) from error
        raise
    try:
        yield
    finally:
        server.stop()
