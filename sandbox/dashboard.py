"""Wiring of the dashboard: the app for one deployment, and a poller for `sandbox dashboard`.

`sandbox up` feeds the ``DashboardState`` from its own live-view loop (one collector per
process); `sandbox dashboard` and `sandbox compose up` run ``served``: a ``Poller`` thread
that polls a ``Collector`` once a second (exactly what `sandbox status --watch`
computes) behind the server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from sandbox import ports
from sandbox.collector import Collector
from sandbox.dashboard_app import DashboardApp, DashboardServer, FailedBatchPeek
from sandbox.dashboard_state import DashboardState
from sandbox.sinkclient import SinkClient
from sandbox.trace import Tracer

ENV_DASHBOARD_PORT = "SANDBOX_DASHBOARD_PORT"
DEFAULT_HOST = "127.0.0.1"
#: History the "last errors" panel starts with (as `sandbox status`).
ERRORS_LOOKBACK_S = 600


def make_app(settings: Settings, topology: Topology, state: DashboardState) -> DashboardApp:
    s3, ddb = client("s3", settings), client("dynamodb", settings)
    sqs = client("sqs", settings, max_attempts=1, timeout=5.0)

    def tracer() -> Tracer:
        return Tracer(settings, topology, s3=s3, ddb=ddb, sink=SinkClient(settings.http_sink_url), now=datetime.now(UTC))

    return DashboardApp(state, tracer, FailedBatchPeek(sqs, topology.failure_queue_name))


def start_server(settings: Settings, topology: Topology, state: DashboardState, *, host: str, port: int) -> DashboardServer:
    return DashboardServer(make_app(settings, topology, state), host=host, port=port).start()


@contextmanager
def served(settings: Settings, topology: Topology, title: str, *, port: int = 0, choose: str,
           interval: float = 1.0) -> Iterator[DashboardServer]:
    """The dashboard of a stack running elsewhere, polled and served until the block ends.

    ``port`` 0 picks a free one; a taken port is one line naming ``choose``, where another is set.
    """
    if port:
        ports.require_free(DEFAULT_HOST, port, "the dashboard", choose=choose)
    poller = Poller(settings, topology, DashboardState(title), interval=interval).start()
    try:
        server = start_server(settings, topology, poller.state, host=DEFAULT_HOST, port=port)
        try:
            yield server
        finally:
            server.stop()
    finally:
        poller.stop()


class Poller:
    """Polls a collector every ``interval`` seconds into ``state`` until ``stop``."""

    def __init__(self, settings: Settings, topology: Topology, state: DashboardState, *, interval: float = 1.0) -> None:
        self.state = state
        self.interval = interval
        self.collector = Collector(
            settings, topology, since_ms=int((time.time() - ERRORS_LOOKBACK_S) * 1000), on_row=state.add_row
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dashboard-poller", daemon=True)

    def start(self) -> Poller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            tick = time.monotonic()
            self.state.observe(self.collector.poll())
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - tick)))
