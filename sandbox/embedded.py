"""The embedded backend in this process: HTTP sink, emulator, and the bootstrapped pipeline.

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
from emulator import Emulator, EmulatorConfig
from emulator.persistence import Persistence
from sandbox import ports
from sandbox.errors import ConfigError, PortInUse
from sandbox.httpsink import HttpSink
from sandbox.httpsink_journal import Journal
from sandbox.saved_state import journal_path, load_saved, snapshot_path

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
    """Start order: sink (consumer B needs it), emulator, bootstrap apply. Stop: reverse."""

    def __init__(self, settings: Settings, *, progress: Progress = lambda _: None, persist: bool = False) -> None:
        self._requested = settings
        self.persist = persist
        self._progress = progress
        self._stack = ExitStack()
        self.settings = settings
        self.emulator: Emulator | None = None
        self.sink: HttpSink | None = None
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

        persistence = self._persistence()
        self.sink = HttpSink(sink_host, sink_port)
        if persistence is not None:
            journal = journal_path(self._requested)
            restored = self.sink.state.keep_in(Journal(journal))
            self._progress(f"state: the HTTP sink's {restored:,} deliveries restored from {journal}" if restored
                           else f"state: the HTTP sink records its deliveries in {journal}")
            self._stack.callback(self.sink.state.close)
        self._stack.enter_context(_serving(self.sink, sink_host, sink_port, "the HTTP sink"))
        self._progress(f"HTTP sink (consumer B's endpoint) listening at {self.sink.url}")
        # EMULATOR_* variables (TTL sweep interval, retention, workers) apply; host and port come
        # from AWS_ENDPOINT_URL, so the sandbox and its clients agree on one address.
        config = EmulatorConfig.from_env(host=host, port=port, region=self._requested.region)
        self.emulator = Emulator(config, persistence)
        self._stack.enter_context(_serving(self.emulator, host, port, "the AWS endpoint"))
        self._progress(f"emulator serving AWS APIs at {self.emulator.endpoint_url}")
        self.settings = self._requested.with_overrides(
            endpoint_url=self.emulator.endpoint_url, http_sink_url=self.sink.url
        )
        self.topology = Topology.from_settings(self.settings)
        self._progress("bootstrap: creating the pipeline (table, buckets, Kinesis, queue, role, 4 functions, mappings)")
        result = api.apply(self.settings, progress=lambda line: self._progress(f"  {line}"))
        self._progress(f"bootstrap: {result.summary()} ({time.monotonic() - started:.1f} s since start)")

    def _persistence(self) -> Persistence | None:
        """What to restore and where to save (None with --no-persist), said in one line."""
        if not self.persist:
            self._progress("state: not saved (--no-persist): this run starts empty and leaves nothing behind")
            return None
        path = snapshot_path(self._requested)
        started = time.monotonic()
        loaded = load_saved(path)
        if loaded is None:
            self._progress(f"state: none saved yet, starting fresh; saved to {path} while running (`sandbox reset` removes it)")
        else:
            self._progress(f"state: {loaded.describe()} in {time.monotonic() - started:.2f} s")
        return Persistence(path, loaded)

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
