"""`sandbox query "SQL"` / `sandbox query --shell`: SQL over consumer A's rows and the raw data lake.

The objects are read from S3 through the endpoint (either backend, or AWS) into an
in-memory DuckDB (``sandbox.lakeload``, ``sandbox.lakedb``); the same tables exist on
Athena with the DDL of docs/athena.md.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import TextColumn
from rich.table import Table

from bootstrap.clients import client
from producer.target import resolve_topology
from sandbox import lakeschema, target
from sandbox.errors import ConfigError, SandboxError
from sandbox.lakedb import LakeDatabase, QueryError, Result
from sandbox.lakeload import SOURCES, LakeReader, LakeRows
from sandbox.lakeschema import TABLES, VIEWS
from sandbox.output import console, note, plural, progress_bar

#: Loads of at least this many objects show a progress bar (on stderr).
PROGRESS_FROM = 20
SHELL_HELP = "end a statement with ';'  ·  .tables  .schema  .reload  .quit"


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def query(
    sql: Annotated[str | None, typer.Argument(metavar="SQL", help="One statement, e.g. \"SELECT action, count(*) FROM clicks GROUP BY 1\".")] = None,
    shell: Annotated[bool, typer.Option("--shell", help="Load once, then read statements from the terminal.")] = False,
    output: Annotated[Format, typer.Option("--format", "-f", help="table, csv or json.")] = Format.TABLE,
    schema: Annotated[bool, typer.Option("--schema", help="List the tables and their columns (reads nothing).")] = False,
    athena_ddl: Annotated[
        bool, typer.Option("--athena-ddl", help="Print the Athena DDL of the same tables for this deployment's buckets.")
    ] = False,
) -> None:
    """SQL (DuckDB) over the analytics rows (clicks) and the data lake (raw_events, deleted)."""
    if schema:
        _print_schema()
        return
    if athena_ddl:
        typer.echo(lakeschema.athena_ddl(resolve_topology(target.load())), nl=False)
        return
    if (sql is None) == (not shell):
        raise ConfigError("give one SQL statement or --shell", 'e.g. sandbox query "SELECT action, count(*) FROM clicks GROUP BY 1"')
    found = target.resolve()
    settings = found.settings
    target.require_running(settings, found.origin)
    reader = LakeReader(client("s3", settings), resolve_topology(settings))
    db = LakeDatabase()
    rows = _load(reader, db, wanted=None if shell else referenced(sql or ""))
    if shell:
        _shell(reader, db, output)
        return
    assert sql is not None
    result = db.query(sql)
    _print(result, output)
    note(f"[dim]{plural(len(result.rows), 'row')} in {result.seconds * 1000:.0f} ms "
         f"(over {plural(len(rows.clicks), 'click row')}, {plural(len(rows.raw_events), 'raw event')})[/]")


def referenced(sql: str) -> set[str]:
    """The sources (``sandbox.lakeload.SOURCES``) a statement names: ``clicks``, and ``raw`` for
    raw_events and deleted; both if neither."""
    words = set(re.findall(r"[a-z_]+", sql.lower()))
    wanted = ({"clicks"} & words) | ({"raw"} if words & {"raw_events", "deleted"} else set())
    return wanted or {"clicks", "raw"}


def _load(reader: LakeReader, db: LakeDatabase, wanted: set[str] | None = None) -> LakeRows:
    """Read the lake into ``db``; ``wanted`` skips a sink the statement does not name."""
    sources = SOURCES if wanted is None else tuple(wanted)
    clicks, raw = reader.plan(sources)
    total = len(clicks) + len(raw)
    if total == 0:
        raise SandboxError(
            f"the data lake is empty: no objects under {' or '.join(reader.prefixes(sources))}",
            "produce some clicks first (`sandbox produce --count 100`, or `make up`), then query again",
        )
    if total >= PROGRESS_FROM and sys.stderr.isatty():
        with progress_bar("loading the lake", TextColumn("objects")) as progress:
            task = progress.add_task("load", total=total)
            rows = reader.read(clicks, raw, lambda done, _: progress.update(task, completed=done))
    else:
        if total >= PROGRESS_FROM:
            note(f"loading {plural(total, 'object')} from S3…")
        rows = reader.read(clicks, raw)
    db.load(rows)
    note(f"[dim]loaded {plural(len(rows.clicks), 'click row')} ({plural(len(clicks), 'object')}) and "
         f"{plural(len(rows.raw_events), 'raw event')} ({plural(len(raw), 'object')}), {rows.bytes / 1e6:.1f} MB[/]")
    return rows


def _cell(value: Any) -> Any:
    """JSON-able cell values (timestamps as ISO text, decimals as numbers)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _print(result: Result, output: Format) -> None:
    if output is Format.JSON:
        typer.echo(json.dumps([dict(zip(result.columns, map(_cell, row), strict=True)) for row in result.rows], default=str))
        return
    if output is Format.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([["" if v is None else _cell(v) for v in row] for row in result.rows])
        sys.stdout.flush()
        return
    table = Table()
    first = result.rows[0] if result.rows else ()
    for index, column in enumerate(result.columns):
        number = index < len(first) and isinstance(first[index], (int, float, Decimal)) and not isinstance(first[index], bool)
        table.add_column(escape(column), overflow="fold", justify="right" if number else "left")
    for row in result.rows:
        table.add_row(*["[dim]NULL[/]" if v is None else escape(str(_cell(v))) for v in row])
    console().print(table)


def _print_schema() -> None:
    table = Table(title="sandbox query tables (docs/athena.md: the same on Athena)", title_justify="left")
    for column in ("table", "column", "type", "meaning"):
        table.add_column(column)
    for name, columns in TABLES.items():
        for index, column in enumerate(columns):
            table.add_row(name if index == 0 else "", column.name, column.duckdb, column.doc)
        table.add_section()
    for name, select in VIEWS.items():
        table.add_row(name, "(view)", "", select)
    console().print(table)


def _shell(reader: LakeReader, db: LakeDatabase, output: Format) -> None:
    """A small REPL: statements end with ';'; errors are one line and the shell goes on."""
    note(SHELL_HELP)
    pending: list[str] = []
    while True:
        try:
            line = input("sql> " if not pending else "...> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            return
        command = line.strip()
        if not pending and command.startswith("."):
            if command in (".quit", ".exit"):
                return
            if command == ".tables":
                typer.echo(" ".join(f"{name}={count}" for name, count in db.counts().items()))
            elif command == ".schema":
                _print_schema()
            elif command == ".reload":
                _load(reader, db)
            else:
                note(f"unknown command {command!r}: {SHELL_HELP}")
            continue
        pending.append(line)
        if not command.endswith(";"):
            continue
        statement, pending = "\n".join(pending), []
        try:
            result = db.query(statement)
        except QueryError as error:
            typer.echo(error.line(), err=True)
            continue
        _print(result, output)
        note(f"[dim]{plural(len(result.rows), 'row')} in {result.seconds * 1000:.0f} ms[/]")
