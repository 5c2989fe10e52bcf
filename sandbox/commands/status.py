"""`sandbox status [--watch]`: the live view for a stack that is already running, on any backend.

It reads only AWS APIs (through the endpoint) and the HTTP sink's /stats, so it
works the same for `make up` on Docker/LocalStack, the embedded backend and AWS.
Piped (`sandbox status --watch | cat`, a log file), ``--watch`` prints one plain
line per refresh, flushed at once, instead of redrawing a view nobody sees.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.live import Live

from sandbox import target
from sandbox.collector import Collector
from sandbox.output import console, note
from sandbox.view import one_line, render

#: History the "last errors" panel starts with.
ERRORS_LOOKBACK_S = 600


def status(
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Keep refreshing (Ctrl-C to stop).")] = False,
    interval: Annotated[float, typer.Option(min=0.2, help="Seconds between refreshes with --watch.")] = 1.0,
) -> None:
    """Show counts, rates, latency and errors of the running pipeline."""
    found, topology = target.bootstrapped()
    settings = found.settings
    note(f"[dim]endpoint {settings.endpoint_url or 'AWS ' + settings.region}: {found.origin}[/]")
    collector = Collector(settings, topology, since_ms=int((time.time() - ERRORS_LOOKBACK_S) * 1000))
    header = f"sandbox status · {settings.endpoint_url or 'AWS ' + settings.region} · sink {settings.http_sink_url}"
    out = console()
    if not watch:
        out.print(render(collector.poll(), header, hint=None))
        return
    try:
        if not out.is_terminal:
            printed: set[str] = set()
            while True:
                tick = time.monotonic()
                snapshot = collector.poll()
                stamp = time.strftime("%H:%M:%S", time.localtime(snapshot.at))
                typer.echo(f"{stamp} {one_line(snapshot)}")  # click.echo flushes every line
                for error in snapshot.errors:
                    if error not in printed:
                        printed.add(error)
                        typer.echo(f"  error: {error}")
                time.sleep(max(0.0, interval - (time.monotonic() - tick)))
        with Live(console=out, auto_refresh=False) as live:
            while True:
                tick = time.monotonic()
                size = (out.size.width, out.size.height)
                live.update(render(collector.poll(), header, size=size), refresh=True)
                time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    except KeyboardInterrupt:
        return
