"""`sandbox replay --function F (--key K | --from H [--to H]) [--dry-run]`: archived events into a function."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import TextColumn
from rich.table import Table

from bootstrap.clients import client
from producer.target import resolve_topology
from sandbox import lake, target
from sandbox.commands.logs import resolve_functions
from sandbox.errors import ConfigError
from sandbox.output import console, note, progress_bar
from sandbox.replay import APPENDS, ReplayPlan, ReplayResult, invoke_all, plan, select
from sandbox.replay_events import Invocation

SHOW_PLAN = 20


def replay(
    function: Annotated[str, typer.Option("--function", help="archive, fanout, analytics or http (or the full name).")],
    start: Annotated[str | None, typer.Option("--from", help="First hour partition, YYYY-MM-DDTHH (UTC), or a day.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last hour partition (default: the --from hour, or day).")] = None,
    key: Annotated[list[str] | None, typer.Option("--key", help="A data-lake raw/ object key (repeatable).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; invoke nothing.")] = False,
    allow_duplicates: Annotated[
        bool, typer.Option("--allow-duplicates", help="Needed for fanout: Kinesis appends, so consumer A stores a second copy.")
    ] = False,
) -> None:
    """Re-send archived stream events from the data lake into a deployed function (sinks are idempotent)."""
    found = target.resolve()
    settings = found.settings
    first = lake.parse_hour(start) if start else None
    last = lake.parse_hour(end, end_of_day=True) if end else (lake.parse_hour(start, end_of_day=True) if start else None)
    target.require_running(settings, found.origin)
    topology = resolve_topology(settings)
    ((function_key, _),) = resolve_functions(topology, function).items()
    if function_key in APPENDS and not (allow_duplicates or dry_run):
        raise ConfigError(
            f"replaying into {function_key} appends the records to Kinesis again: consumer A would store them twice "
            "(consumer B deduplicates)",
            "replay into analytics/http instead, or pass --allow-duplicates if Kinesis lost them",
        )
    s3 = client("s3", settings)
    archived = select(s3, topology, list(key or []), first, last)
    replay_plan = plan(s3, topology, topology.function(function_key), archived)
    for line in replay_plan.notes:
        note(f"note: {line}")
    if dry_run:
        _print_plan(replay_plan)
        return
    spec = topology.function(function_key)
    result = _run(client("lambda", settings, max_attempts=1, timeout=spec.timeout_seconds + 5.0), replay_plan)
    _print_result(replay_plan, result)
    if not result.ok:
        raise typer.Exit(1)


def _run(lam: Any, replay_plan: ReplayPlan) -> ReplayResult:
    with progress_bar(f"replaying into {replay_plan.function}", TextColumn("records")) as progress:
        task = progress.add_task("replay", total=replay_plan.records)
        return invoke_all(lam, replay_plan, lambda invocation: progress.advance(task, invocation.records))


def _kinds(invocation: Invocation) -> str:
    counts = Counter(r.get("eventName", "?") for r in lake.stream_records(invocation.event))
    return " ".join(f"{name} {count}" for name, count in sorted(counts.items()))


def _print_plan(replay_plan: ReplayPlan) -> None:
    table = Table(title=f"dry run: {replay_plan.function}", title_justify="left")
    for column in ("#", "records", "events", "what"):
        table.add_column(column, justify="right" if column in ("#", "records") else "left", overflow="fold")
    for index, invocation in enumerate(replay_plan.invocations[:SHOW_PLAN], start=1):
        table.add_row(str(index), str(invocation.records), _kinds(invocation), escape(invocation.origin))
    console().print(table)
    more = len(replay_plan.invocations) - SHOW_PLAN
    if more > 0:
        note(f"… and {more} more invocations")
    typer.echo(
        f"dry run: would invoke {replay_plan.function} {len(replay_plan.invocations)} times with "
        f"{replay_plan.records} records from {replay_plan.sources} archived objects"
    )


def _print_result(replay_plan: ReplayPlan, result: ReplayResult) -> None:
    for error in result.errors[:SHOW_PLAN]:
        note(f"[red]failed[/]: {escape(error)}")
    verdict = "ok" if result.ok else "FAILED"
    typer.echo(
        f"replay: {replay_plan.function}: {result.invoked} invocations, {result.records} records from "
        f"{replay_plan.sources} archived objects; failed invocations {result.failed_invocations}, "
        f"failed records {result.failed_records}: {verdict}"
    )
