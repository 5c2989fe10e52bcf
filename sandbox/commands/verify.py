"""`sandbox verify [RUN_ID]`: reconcile a producer run against every sink (missing/duplicate ids)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.table import Table

from bootstrap.clients import client
from bootstrap.topology import Topology
from producer.manifest import Manifest, list_runs, load
from producer.target import resolve_topology
from sandbox import target
from sandbox.errors import SandboxError
from sandbox.output import console, note
from sandbox.reconcile import SinkReport, reconcile
from sandbox.sinkclient import SinkClient
from sandbox.sinkwatch import SinkWatch

SHOW_IDS = 5
POLL_S = 1.0


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
    reports = _check(SinkWatch(s3, sink, topology), manifest) if wait <= 0 else _wait(s3, sink, topology, manifest, run_id, wait)
    _print(run_id, manifest.status, reports)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


def _check(watch: SinkWatch, manifest: Manifest) -> list[SinkReport]:
    return [reconcile(manifest, sink, events) for sink, events in watch.poll().items()]


def _wait(s3: Any, sink: SinkClient, topology: Topology, manifest: Manifest, run_id: str, wait: float) -> list[SinkReport]:
    """Re-check every second until reconciled or ``wait`` s passed; the readers keep what they read."""
    deadline = time.monotonic() + wait
    watch = SinkWatch(s3, sink, topology)
    with console(stderr=True).status(f"verify: reading the sinks for run {run_id}…") as status:
        while True:
            started = time.monotonic()
            reports = _check(watch, manifest)
            left = deadline - time.monotonic()
            if all(r.ok for r in reports) or left <= 0:
                break
            counts = " · ".join(f"{r.sink} {r.records}/{r.expected}" for r in reports)
            status.update(f"verify: run {run_id}: {counts} · waiting up to {left:.0f} s more")
            time.sleep(max(0.0, min(left, POLL_S - (time.monotonic() - started))))
    if not all(r.ok for r in reports):
        # Before saying no: one fresh full read, in case a late key sorted before the ones already seen.
        reports = _check(SinkWatch(s3, sink, topology), manifest)
    return reports


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
