"""`sandbox redrive [--function F] [--dry-run]`: failed stream batches from the SQS queue back through their function."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import TextColumn
from rich.table import Table

from bootstrap.clients import client
from producer.target import resolve_topology
from sandbox import target
from sandbox.commands.logs import resolve_functions
from sandbox.output import console, note, plural, progress_bar
from sandbox.redrive import FailureQueue, Message, Outcome, Redriver, RedriveResult, StreamFetcher

SHOW = 20
_STYLE = {
    Outcome.REDRIVEN: "green", Outcome.PENDING: "cyan", Outcome.FAILED: "red",
    Outcome.GONE: "yellow", Outcome.UNREADABLE: "yellow",
}


def redrive(
    function: Annotated[
        str | None, typer.Option("--function", help="Only batches of this function (archive, fanout, analytics, http or the full name).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be redriven; invoke nothing, delete nothing.")] = False,
) -> None:
    """Re-run the batches the failure queue describes; a message is deleted only once its batch succeeded."""
    found = target.resolve()
    settings = found.settings
    target.require_running(settings, found.origin)
    topology = resolve_topology(settings)
    only = set(resolve_functions(topology, function).values()) if function else None
    sqs = client("sqs", settings)
    queue = FailureQueue(sqs, sqs.get_queue_url(QueueName=topology.failure_queue_name)["QueueUrl"])
    timeout = max(spec.timeout_seconds for spec in topology.functions) + 5.0
    redriver = Redriver(
        queue,
        StreamFetcher(client("dynamodbstreams", settings), client("kinesis", settings)),
        client("lambda", settings, max_attempts=1, timeout=timeout),
        wanted=lambda batch: only is None or batch.function_name in only,
    )
    messages = redriver.collect()
    if not messages:
        typer.echo(f"redrive: the queue {topology.failure_queue_name} holds no failed batches" + (f" of {function}" if function else ""))
        return
    result = _run(redriver, messages, dry_run)
    _print(result, dry_run)
    gone = [m.batch for m in result.messages if m.outcome is Outcome.GONE and m.batch is not None]
    if gone:
        keys = {name: key for key, name in topology.function_names().items()}
        hints = sorted({_replay_hint(keys.get(b.function_name, b.function_name), b.replay_hours()) for b in gone})
        note(
            "some records are no longer in their stream (expired or trimmed): their messages stay in the queue; "
            f"re-send them from the data lake instead: {'; '.join(hints)}"
        )
    if not result.ok:
        raise typer.Exit(1)


def _replay_hint(function: str, hours: tuple[str, str] | None) -> str:
    first, last = hours or ("YYYY-MM-DDTHH", "YYYY-MM-DDTHH")
    return f"`sandbox replay --function {function} --from {first} --to {last}`"


def _run(redriver: Redriver, messages: list[Message], dry_run: bool) -> RedriveResult:
    verb = "checking" if dry_run else "redriving"
    with progress_bar(f"{verb} failed batches", TextColumn("{task.fields[done]}")) as progress:
        task = progress.add_task(verb, total=len(messages), done="")
        redriven = [0]

        def advance(message: Message) -> None:
            redriven[0] += message.outcome in (Outcome.REDRIVEN, Outcome.PENDING)
            progress.update(task, advance=1, done=f"{redriven[0]} ok")

        return redriver.run(messages, dry_run=dry_run, advance=advance)


def _print(result: RedriveResult, dry_run: bool) -> None:
    table = Table(title="dry run: failed batches" if dry_run else "redrive", title_justify="left")
    for column in ("#", "function", "batch", "records", "outcome", "detail"):
        table.add_column(column, justify="right" if column in ("#", "records") else "left", overflow="fold")
    for index, message in enumerate(result.messages[:SHOW], start=1):
        batch = message.batch
        outcome = message.outcome or Outcome.UNREADABLE
        table.add_row(
            str(index),
            escape(batch.function_name) if batch else "?",
            escape(batch.describe()) if batch else escape(f"message {message.message_id}"),
            str(message.records) if message.records else "",
            f"[{_STYLE[outcome]}]{outcome.value}[/]",
            escape(message.detail),
        )
    console().print(table)
    if len(result.messages) > SHOW:
        note(f"… and {len(result.messages) - SHOW} more batches")
    counts = ", ".join(
        f"{result.count(o)} {o.value}" for o in (Outcome.REDRIVEN, Outcome.PENDING, Outcome.FAILED, Outcome.GONE, Outcome.UNREADABLE)
        if result.count(o)
    )
    kept = sum(1 for m in result.messages if m.outcome is not Outcome.REDRIVEN)
    verdict = "ok" if result.ok else "NOT all redriven"
    action = "would redrive" if dry_run else "redrove"
    typer.echo(
        f"redrive: {plural(len(result.messages), 'failed batch', 'failed batches')} ({counts}); "
        f"{action} {plural(result.records, 'record')}; {plural(kept, 'message')} left in the queue: {verdict}"
    )
