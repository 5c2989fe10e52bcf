"""`sandbox status [--watch]`: the live view for a stack that is already running, on any backend.

It reads only AWS APIs (through the endpoint) and the HTTP sink's /stats, so it
works the same for `make up` on Docker/LocalStack, the embedded backend and AWS.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.live import Live

from bootstrap.clients import client
from producer.target import resolve_topology
from sandbox import target
from sandbox.collector import Collector
from sandbox.output import console
from sandbox.view import render

#: History the "last errors" panel starts with.
ERRORS_LOOKBACK_S = 600


def status(
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Keep refreshing (Ctrl-C to stop).")] = False,
    interval: Annotated[float, typer.Option(min=0.2, help="Seconds between refreshes with --watch.")] = 1.0,
) -> None:
    """Show counts, rates, latency and errors of the running pipeline."""
    settings = target.load()
    target.require_running(settings)
    topology = resolve_topology(settings)
    # Not bootstrapped is one line with the fix (the boundary maps ResourceNotFoundException).
    client("dynamodb", settings, max_attempts=1).describe_table(TableName=topology.table_name)
    collector = Collector(settings, topology, since_ms=int((time.time() - ERRORS_LOOKBACK_S) * 1000))
    header = f"sandbox status · {settings.endpoint_url or 'AWS ' + settings.region} · sink {settings.http_sink_url}"
    out = console()
    if not watch:
        out.print(render(collector.poll(), header))
        return
    try:
        with Live(console=out, auto_refresh=False) as live:
            while True:
                tick = time.monotonic()
                live.update(render(collector.poll(), header), refresh=True)
                time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    except KeyboardInterrupt:
        return
