"""``python -m producer``: write click events to the sandbox table.

The command's options and body are reused by ``sandbox produce``: it calls
:func:`run_command` with its own way of finding the target (the running sandbox),
so nothing is passed through ``os.environ``.
Exit codes: 0 all writes succeeded, 1 a write failed or the target is not
usable, 2 bad arguments or configuration, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bootstrap.settings import ENV_ENDPOINT, ENV_PREFIX, Settings, SettingsError
from producer.errors import OptionsError, ProducerError
from producer.options import DEFAULT_TTL_SECONDS, DEFAULT_USERS, ProduceOptions, WriteMode
from producer.pacer import shortfall
from producer.run import ProduceSummary, ProgressUpdate, produce

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(add_completion=False, help=__doc__.split("\n")[0])

#: Builds the settings from an environment mapping (the flags already applied to it):
#: ``Settings.from_env`` here, ``sandbox.target.load`` for ``sandbox produce``.
SettingsSource = Callable[[Mapping[str, str]], Settings]


def produce_command(
    count: Annotated[
        int | None, typer.Option("--count", "-n", help="Clicks to write (default: 100).")
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="Write clicks for this many seconds instead of --count.")
    ] = None,
    rate: Annotated[
        float, typer.Option(help="Writes per second (puts+updates+deletes); 0 = unpaced.")
    ] = 0.0,
    users: Annotated[int, typer.Option(help="Distinct users clicking.")] = DEFAULT_USERS,
    seed: Annotated[
        int | None, typer.Option(help="Same seed, same users/sessions/actions/pages.")
    ] = None,
    update_ratio: Annotated[
        float, typer.Option(help="Share of clicks later updated (MODIFY).")
    ] = 0.0,
    delete_ratio: Annotated[
        float, typer.Option(help="Share of clicks later deleted (REMOVE).")
    ] = 0.0,
    ttl_seconds: Annotated[
        int, typer.Option(help="expires_at = write time + this.")
    ] = DEFAULT_TTL_SECONDS,
    run_id: Annotated[
        str | None, typer.Option(help="Run id (manifest name); default: new, time-sortable.")
    ] = None,
    write_mode: Annotated[
        WriteMode, typer.Option(help="auto: batch when the rate allows.")
    ] = WriteMode.AUTO,
    endpoint_url: Annotated[
        str | None, typer.Option(help=f"Overrides {ENV_ENDPOINT}.")
    ] = None,
    prefix: Annotated[str | None, typer.Option(help=f"Overrides {ENV_PREFIX}.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    show_progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress bar (default: on a terminal)."),
    ] = None,
) -> None:
    """Write click events to the table; updates/deletes follow for the given shares of clicks."""
    run_command(
        Settings.from_env,
        count=count,
        duration=duration,
        rate=rate,
        users=users,
        seed=seed,
        update_ratio=update_ratio,
        delete_ratio=delete_ratio,
        ttl_seconds=ttl_seconds,
        run_id=run_id,
        write_mode=write_mode,
        endpoint_url=endpoint_url,
        prefix=prefix,
        as_json=as_json,
        show_progress=show_progress,
    )


def run_command(
    settings_source: SettingsSource,
    *,
    count: int | None = None,
    duration: float | None = None,
    rate: float = 0.0,
    users: int = DEFAULT_USERS,
    seed: int | None = None,
    update_ratio: float = 0.0,
    delete_ratio: float = 0.0,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    run_id: str | None = None,
    write_mode: WriteMode = WriteMode.AUTO,
    endpoint_url: str | None = None,
    prefix: str | None = None,
    as_json: bool = False,
    show_progress: bool | None = None,
) -> None:
    """The command's body, with the settings from ``settings_source`` (flags applied on top)."""
    err = Console(stderr=True)
    try:
        options = ProduceOptions(
            count=count,
            duration=duration,
            rate=rate,
            users=users,
            seed=seed,
            update_ratio=update_ratio,
            delete_ratio=delete_ratio,
            ttl_seconds=ttl_seconds,
            run_id=run_id,
            write_mode=write_mode,
        ).validated()
        settings = _settings(settings_source, endpoint_url, prefix)
        settings.require_target()
    except (OptionsError, SettingsError) as error:
        _fail(err, error, EXIT_USAGE)

    if show_progress is None:
        show_progress = err.is_terminal and not as_json
    stop = threading.Event()
    try:
        with _stop_on_sigint(stop), _progress_display(err, show_progress, options.rate) as on_progress:
            summary = produce(settings, options, progress=on_progress, stop=stop)
    except ProducerError as error:
        _fail(err, error, error.exit_code)
    except SettingsError as error:
        _fail(err, error, EXIT_USAGE)
    except KeyboardInterrupt:  # the second Ctrl-C: produce() stored the manifest as "aborted"
        err.print(f"aborted: run {options.run_id} stopped at once; its manifest says aborted")
        raise typer.Exit(EXIT_INTERRUPTED) from None

    if as_json:
        typer.echo(json.dumps(summary.to_dict()))
    else:
        out = Console()
        if not out.is_terminal and not os.environ.get("COLUMNS"):
            out = Console(width=1000)  # piped: never wrap the run id or the manifest URI
        out.print(_summary_table(summary))
    if summary.status == "interrupted":
        raise typer.Exit(EXIT_INTERRUPTED)
    if summary.failed:
        _fail(
            err,
            ProducerError(
                f"{summary.failed} writes of run {summary.run_id} failed",
                f"see failed[] in {summary.manifest_uri}; once the cause is fixed, "
                f"run again (--seed {summary.seed} repeats the content)",
            ),
            EXIT_FAILED,
        )


app.command(name="produce")(produce_command)


def main() -> None:
    app(prog_name="python -m producer")


def _settings(source: SettingsSource, endpoint_url: str | None, prefix: str | None) -> Settings:
    """Settings from the environment, with the flags validated by the same rules as the env."""
    environ = dict(os.environ)
    if endpoint_url is not None:
        environ[ENV_ENDPOINT] = endpoint_url
    if prefix is not None:
        environ[ENV_PREFIX] = prefix
    return source(environ)


def _fail(console: Console, error: Exception, code: int) -> NoReturn:
    console.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _stop_on_sigint(stop: threading.Event) -> Iterator[None]:
    """First Ctrl-C: finish the current write, flush, store the manifest. Second: abort."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _progress_display(console: Console, enabled: bool, target_rate: float = 0.0) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("[bold]producing"),
        BarColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("produce", total=None, counts="")

        def update(p: ProgressUpdate) -> None:
            counts = (
                f"{p.written} put, {p.updated} upd, {p.deleted} del, {p.failed} failed, "
                f"{p.rate:,.0f}/s"
            )
            short = shortfall(p.rate, target_rate, p.elapsed_s)
            if short:
                counts += f" [yellow]({short})[/]"
            if p.total_ops is not None:
                bar.update(task, total=p.total_ops, completed=p.done_ops, counts=counts)
            else:
                total = p.duration_s or 1.0
                bar.update(task, total=total, completed=min(p.elapsed_s, total), counts=counts)

        yield update


def _summary_table(s: ProduceSummary) -> Table:
    table = Table(title=f"producer run {s.run_id} ({s.status})", show_header=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    rows = [
        ("written (clicks)", f"{s.written}"),
        ("updated", f"{s.updated}"),
        ("deleted", f"{s.deleted}"),
        ("failed", f"{s.failed}" + (f" (+{s.skipped} follow-ups skipped)" if s.skipped else "")),
        ("stream records expected", f"{s.expected_stream_records}"),
        ("rate", f"{s.rate:,.1f} writes/s" + f" (target {s.target_rate:g})" * bool(s.target_rate)
         + (f"; {short}" if (short := shortfall(s.rate, s.target_rate, s.elapsed_s)) else "")),
        ("elapsed", f"{s.elapsed_s:.2f} s"),
        ("writes via", f"{s.write_mode}, {s.requests} requests, {s.retries} retries"),
        ("table", s.table),
        ("seed", str(s.seed)),
        ("run id", s.run_id),
        ("manifest", s.manifest_uri),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
