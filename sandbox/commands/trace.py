"""`sandbox trace CLICK_UUID`: one click from the producer to every sink, by its id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bootstrap.clients import client
from producer.target import resolve_topology
from sandbox import target
from sandbox.errors import ConfigError, SandboxError
from sandbox.output import console
from sandbox.sinkclient import SinkClient
from sandbox.trace import Trace, Tracer


def trace(
    click: Annotated[str, typer.Argument(metavar="CLICK_UUID", help="The click's uuid (the table key).")],
    hours: Annotated[
        int, typer.Option(min=1, max=744, help="Hours back to search when nothing says when the click was written.")
    ] = 24,
) -> None:
    """Show where one click is: run manifest, table item, data lake, consumer A rows, HTTP deliveries."""
    click = click.strip()
    if not click or "/" in click:
        raise ConfigError(f"{click!r} is not a click id", "pass the uuid printed by the producer or seen in a sink")
    found = target.resolve()
    settings = found.settings
    target.require_running(settings, found.origin)
    topology = resolve_topology(settings)
    tracer = Tracer(
        settings,
        topology,
        s3=client("s3", settings),
        ddb=client("dynamodb", settings),
        sink=SinkClient(settings.http_sink_url),
        now=datetime.now(UTC),
        fallback_hours=hours,
    )
    result = tracer.trace(click)
    if not result.found:
        raise SandboxError(
            f"click {click} is not in any stage (table, data lake, consumer A, consumer B, run manifests)",
            "check the id (`sandbox verify RUN_ID --list` prints a run's click ids); widen the search with --hours",
        )
    _print(result)


def _print(result: Trace) -> None:
    table = Table(title=f"click {result.click}", title_justify="left")
    for column in ("stage", "event", "id", "where / detail"):
        table.add_column(column, overflow="fold")
    for stage in result.stages:
        if not stage.hits:
            table.add_row(stage.name, "", "", f"[red]{escape(stage.missing)}[/]")
            continue
        for index, hit in enumerate(stage.hits):
            table.add_row(stage.name if index == 0 else "", hit.event, escape(hit.ident), escape(hit.detail))
        table.add_section()
    console().print(table)
    summary = " · ".join(f"{s.name} {len(s.hits) if s.hits else '[red]none[/]'}" for s in result.stages)
    console().print(summary)
