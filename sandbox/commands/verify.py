"""`sandbox verify [RUN_ID]`: reconcile a producer run against every sink (missing/duplicate ids)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from bootstrap.clients import client
from producer.manifest import list_runs, load
from producer.target import resolve_topology
from sandbox import sinkread, target
from sandbox.errors import SandboxError
from sandbox.output import console, note
from sandbox.reconcile import SinkReport, reconcile
from sandbox.sinkclient import SinkClient

SHOW_IDS = 5


def verify(
    run_id: Annotated[str | None, typer.Argument(help="Producer run id; the latest run if left out.")] = None,
    wait: Annotated[float, typer.Option(min=0, help="Re-check for up to S seconds until it reconciles.")] = 0.0,
) -> None:
    """Check every click of a run reached every sink exactly once (exit 1 if not)."""
    settings = target.load()
    target.require_running(settings)
    topology = resolve_topology(settings)
    if run_id is None:
        runs = list_runs(settings, topology.data_lake_bucket)
        if not runs:
            raise SandboxError("no producer run has a manifest yet", "run `sandbox produce --count 100` first")
        run_id = runs[-1]
    manifest = load(settings, run_id)
    s3 = client("s3", settings)
    sink = SinkClient(settings.http_sink_url)
    deadline = time.monotonic() + wait
    while True:
        reports = [
            reconcile(manifest, "data lake", sinkread.data_lake(s3, topology)),
            reconcile(manifest, "A (analytics)", sinkread.analytics(s3, topology)),
            reconcile(manifest, "B (HTTP)", sinkread.http(sink)),
        ]
        if all(r.ok for r in reports) or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    _print(run_id, manifest.status, reports)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


def _print(run_id: str, run_status: str, reports: list[SinkReport]) -> None:
    table = Table(title=f"run {run_id} ({run_status})", title_justify="left")
    for column in ("sink", "records", "expected", "missing", "duplicated", "TTL", "other", "ok"):
        table.add_column(column, justify="left" if column == "sink" else "right")
    for r in reports:
        table.add_row(
            r.sink, str(r.records), str(r.expected), str(len(r.missing_ids)), str(len(r.duplicate_ids)),
            str(r.ttl_deletes), str(r.unexpected), "[green]yes[/]" if r.ok else "[red]NO[/]",
        )
    console().print(table)
    for r in reports:
        if r.missing_ids:
            note(f"{r.sink}: missing {', '.join(r.missing_ids[:SHOW_IDS])}{' …' if len(r.missing_ids) > SHOW_IDS else ''}")
        if r.duplicate_ids:
            note(f"{r.sink}: duplicated {', '.join(r.duplicate_ids[:SHOW_IDS])}{' …' if len(r.duplicate_ids) > SHOW_IDS else ''}")
    verdict = "every click reached every sink exactly once" if all(r.ok for r in reports) else "NOT reconciled"
    typer.echo(f"verify: run {run_id}: {verdict}")
