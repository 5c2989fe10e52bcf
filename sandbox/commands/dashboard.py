"""`sandbox dashboard`: the live web view of a running pipeline (either backend, or AWS).

`sandbox up` serves the same page itself (its ready line prints the URL); this command is
for a stack started elsewhere (Docker, another shell's `sandbox up --no-dashboard`, AWS).
"""

from __future__ import annotations

import threading
from typing import Annotated

import typer

from sandbox import ports, target
from sandbox.dashboard import DEFAULT_HOST, ENV_DASHBOARD_PORT, served
from sandbox.output import note
from sandbox.signals import stop_on_signals


def dashboard(
    port: Annotated[
        int, typer.Option(min=0, max=65535, envvar=ENV_DASHBOARD_PORT, help="Port on 127.0.0.1 (0: a free one).")
    ] = 0,
    interval: Annotated[float, typer.Option(min=0.2, help="Seconds between refreshes of the numbers.")] = 1.0,
) -> None:
    """Serve the dashboard (counts, latency, clicks over time, errors, trace) until Ctrl-C."""
    choose = "--port/SANDBOX_DASHBOARD_PORT (0: a free one)"
    if port:  # before reaching the endpoint: a taken port is the first thing to say
        ports.require_free(DEFAULT_HOST, port, "the dashboard", choose=choose)
    found, topology = target.bootstrapped()
    settings = found.settings
    title = f"sandbox dashboard · {settings.endpoint_url or 'AWS ' + settings.region} · sink {settings.http_sink_url}"
    with served(settings, topology, title, port=port, choose=choose, interval=interval) as server:
        note(f"dashboard at {server.url} (reads {settings.endpoint_url or 'AWS'}: {found.origin}); Ctrl-C stops")
        typer.echo(server.url)
        try:
            with stop_on_signals():
                threading.Event().wait()
        except KeyboardInterrupt:
            pass
