"""`sandbox verify [RUN_ID] [--wait S] [--list]`: reconcile a producer run against every sink.

The verdict needs the run's whole manifest. A running run's header counts every
write at once, but its ids reach the manifest's parts up to a minute later, so a
running run gets no verdict, only how far it got ("partial: …"); `--wait` keeps
re-checking until the run has ended and reconciles (or the time is up).

Exit codes: 0 the run has ended and every click reached every sink exactly once;
1 not reconciled (missing, duplicated or other events); 3 partial: the run is still
running (nothing wrong found so far); 2 bad usage. Environment failures (nothing
answers, the HTTP sink down, …) are one line with the fix and exit 1.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.table import Table

from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from producer.manifest import Manifest, ManifestHeader, latest, load
from producer.target import resolve_topology
from sandbox import target
from sandbox.errors import SandboxError
from sandbox.manifests import read_header
from sandbox.output import console, note, plural
from sandbox.reconcile import SinkReport, reconcile
from sandbox.sinkclient import SinkClient
from sandbox.sinkwatch import SinkWatch

SHOW_IDS = 5
POLL_S = 1.0
EXIT_NOT_RECONCILED = 1
EXIT_PARTIAL = 3


class RunManifest:
    """One run's manifest, kept current cheaply: the small header is re-read on every
    ``refresh``, the id parts only when the header names new ones (or a new status)."""

    def __init__(self, settings: Settings, s3: Any, bucket: str, run_id: str) -> None:
        self._settings, self._s3, self._bucket, self.run_id = settings, s3, bucket, run_id
        self.header: ManifestHeader | None = None
        self.manifest: Manifest | None = None

    def refresh(self) -> Manifest:
        found = read_header(self._s3, self._bucket, self.run_id)
        if found is None or self.manifest is None or self._changed(found[1]):
            # load() raises the producer's one-line "no manifest for run …" for an unknown run.
            self.manifest = load(self._settings, self.run_id, bucket=self._bucket, s3=self._s3)
        if found is not None:
            self.header = found[1]
        return self.manifest

    def _changed(self, header: ManifestHeader) -> bool:
        return self.header is None or (header.parts, header.status) != (self.header.parts, self.header.status)

    @property
    def running(self) -> bool:
        return self.header is not None and self.header.status == "running"

    @property
    def expected(self) -> int:
        """Stream records the run caused so far: the header's count (ahead of the parts)."""
        assert self.manifest is not None
        return self.header.expected_stream_records if self.header is not None else self.manifest.expected_stream_records

    def progress(self) -> str:
        assert self.manifest is not None
        listed = len(self.manifest.clicks)
        total = self.header.counts.clicks if self.header is not None else listed
        return f"{listed:,} of {total:,} ids in the manifest so far"


def verify(
    run_id: Annotated[str | None, typer.Argument(help="Producer run id; the latest run (by start time) if left out.")] = None,
    wait: Annotated[
        float, typer.Option(min=0, help="Re-check for up to S seconds until the run has ended and reconciles.")
    ] = 0.0,
    list_ids: Annotated[
        bool, typer.Option("--list", help="Only print the run's click ids (from its manifest), one per line.")
    ] = False,
) -> None:
    """Check every click of a run reached every sink exactly once (exit 0; 1 if not; 3 while the run runs)."""
    settings = target.connect()
    topology = resolve_topology(settings)
    s3 = client("s3", settings)
    if run_id is None:
        run_id = latest(settings, topology.data_lake_bucket, s3=s3)
        if run_id is None:
            raise SandboxError("no producer run has a manifest yet", "run `sandbox produce --count 100` first")
    run = RunManifest(settings, s3, topology.data_lake_bucket, run_id)
    manifest = run.refresh()
    if list_ids:
        _list(run, manifest)
        return
    sink = SinkClient(settings.http_sink_url)
    if wait <= 0:
        reports = _check(SinkWatch(s3, sink, topology), run)
    else:
        reports = _wait(s3, sink, topology, run, wait)
    raise typer.Exit(_print(run, reports))


def _list(run: RunManifest, manifest: Manifest) -> None:
    for uuid in manifest.clicks:
        typer.echo(uuid)
    if run.running:
        note(f"run {run.run_id} is running: {run.progress()}")


def _check(watch: SinkWatch, run: RunManifest) -> list[SinkReport]:
    manifest = run.manifest
    assert manifest is not None
    return [reconcile(manifest, sink, events, expected=run.expected) for sink, events in watch.poll().items()]


def _done(run: RunManifest, reports: list[SinkReport]) -> bool:
    return not run.running and all(r.ok for r in reports)


def _wait(s3: Any, sink: SinkClient, topology: Topology, run: RunManifest, wait: float) -> list[SinkReport]:
    """Re-check every second until the run has ended and reconciles, or ``wait`` s passed."""
    deadline = time.monotonic() + wait
    watch = SinkWatch(s3, sink, topology)  # the readers keep what they read
    with console(stderr=True).status(f"verify: reading the sinks for run {run.run_id}…") as status:
        while True:
            started = time.monotonic()
            reports = _check(watch, run)
            left = deadline - time.monotonic()
            if _done(run, reports) or left <= 0:
                break
            counts = " · ".join(f"{r.sink} {r.records}/{r.expected}" for r in reports)
            running = f" (running: {run.progress()})" if run.running else ""
            status.update(f"verify: run {run.run_id}{running}: {counts} · waiting up to {left:.0f} s more")
            time.sleep(max(0.0, min(left, POLL_S - (time.monotonic() - started))))
            run.refresh()
    if not _done(run, reports) and not run.running:
        # Before saying no: one fresh full read, in case a late key sorted before the ones already seen.
        reports = _check(SinkWatch(s3, sink, topology), run)
    return reports


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:SHOW_IDS]) + (" …" if len(ids) > SHOW_IDS else "")


def _print(run: RunManifest, reports: list[SinkReport]) -> int:
    """Print the table and the verdict; returns the exit code (see the module docstring)."""
    status = run.header.status if run.header is not None else (run.manifest.status if run.manifest else "?")
    table = Table(title=f"run {run.run_id} ({status})", title_justify="left")
    for column in ("sink", "records", "expected", "missing", "duplicated", "TTL", "other", "ok"):
        table.add_column(column, justify="left" if column == "sink" else "right")
    for r in reports:
        verdict = "[dim]…[/]" if run.running else ("[green]yes[/]" if r.ok else "[red]NO[/]")
        table.add_row(
            r.sink, str(r.records), str(r.expected), str(len(r.missing_ids)), str(len(r.duplicate_ids)),
            str(r.ttl_deletes), str(r.other), verdict,
        )
    console().print(table)
    for r in reports:
        if r.duplicate_ids:
            note(f"{r.sink}: duplicated {_ids(r.duplicate_ids)}")
        if run.running:
            continue  # missing and unlisted ids are expected while the run goes on
        if r.missing_ids:
            note(f"{r.sink}: missing {_ids(r.missing_ids)}")
        if r.unexpected:
            note(f"{r.sink}: {plural(r.unexpected, 'event')} beyond the run's plan for its clicks (a write outside the producer?)")
        if r.unlisted_ids:
            note(
                f"{r.sink}: {plural(len(r.unlisted_ids), 'click')} of run {run.run_id} its manifest does not list "
                f"({_ids(r.unlisted_ids)}): was the run id reused (manifest overwritten), or did the run abort?"
            )
    if run.running:
        problem = any(r.duplicate_ids for r in reports)
        typer.echo(
            f"verify: run {run.run_id}: partial: {run.progress()} (the run is still running; "
            f"verify again when it has ended, or wait with --wait S)" + ("; duplicates found already" if problem else "")
        )
        return EXIT_NOT_RECONCILED if problem else EXIT_PARTIAL
    if all(r.ok for r in reports):
        typer.echo(f"verify: run {run.run_id}: every click reached every sink exactly once")
        return 0
    typer.echo(f"verify: run {run.run_id}: NOT reconciled")
    return EXIT_NOT_RECONCILED
