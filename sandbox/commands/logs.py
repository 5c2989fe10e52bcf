"""`sandbox logs [FUNCTION] [--follow]`: the functions' CloudWatch Logs, on any backend."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.markup import escape

from bootstrap.clients import client
from bootstrap.topology import Topology
from sandbox import target
from sandbox.errors import UnknownFunction
from sandbox.logtail import LogLine, LogTail, error_text
from sandbox.output import console, note

FOLLOW_INTERVAL_S = 1.0
_COLORS = ("cyan", "magenta", "green", "blue", "yellow")


def resolve_functions(topology: Topology, name: str | None) -> dict[str, str]:
    """Short key -> function name: all of them, or the one named by key or by full name."""
    names = topology.function_names()
    if name is None:
        return names
    for key, full in names.items():
        if name in (key, full):
            return {key: full}
    raise UnknownFunction(name, [*names, *names.values()])


def logs(
    function: Annotated[
        str | None, typer.Argument(help="archive, fanout, analytics or http (or the full name); all if left out.")
    ] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines (Ctrl-C to stop).")] = False,
    since: Annotated[float, typer.Option(min=0, help="Start this many seconds back.")] = 600.0,
) -> None:
    """Print function logs (group /aws/lambda/<name>); works on both backends."""
    found = target.resolve()
    settings = found.settings
    functions = resolve_functions(Topology.from_settings(settings), function)
    target.require_running(settings, found.origin)
    tail = LogTail(
        client("logs", settings, max_attempts=2),
        functions,
        since_ms=int((time.time() - since) * 1000),
    )
    colors = {key: _COLORS[i % len(_COLORS)] for i, key in enumerate(functions)}
    out = console()

    def show(lines: list[LogLine]) -> None:
        for line in lines:
            stamp = time.strftime("%H:%M:%S", time.localtime(line.timestamp_ms / 1000))
            style = "red" if error_text(line.message) else ""
            text = escape(line.message)
            out.print(f"[dim]{stamp}[/] [{colors[line.function]}]{line.function:>9}[/] " + (f"[{style}]{text}[/]" if style else text))

    first = tail.poll()
    show(first)
    if not follow:
        if not first:
            note(f"no log lines in the last {since:.0f} s for {', '.join(functions.values())}")
        return
    try:
        while True:
            time.sleep(FOLLOW_INTERVAL_S)
            show(tail.poll())
    except KeyboardInterrupt:
        return
