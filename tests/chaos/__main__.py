"""``python -m tests.chaos [--scenario NAME]... [--small] [--backend embedded|docker|all]``:
run the scenarios, print the table.

Exit 0 when every row ends with 0 missing and 0 duplicated per sink and `sandbox verify` agrees.
``--backend docker`` where no engine answers is one line and exit 2; ``all`` then runs the
embedded rows and says in one line why the Docker ones were skipped.
"""

from __future__ import annotations

import os
import time
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tests.chaos import isolated
from tests.chaos.census import SINKS
from tests.chaos.harness import Row

#: The scenario names, in the table's order (tests.chaos.scenarios maps them to modules).
SCENARIOS = ("flaky-sink", "sink-outage", "poison", "worker-kill", "restart", "burst", "endpoint-kill")

app = typer.Typer(add_completion=False)


class BackendChoice(StrEnum):
    EMBEDDED = "embedded"
    DOCKER = "docker"
    ALL = "all"


def backends(choice: BackendChoice, console: Console) -> list[str]:
    """The backends to run on: Docker only where it can run here (else one line saying why)."""
    wanted = ["embedded", "docker"] if choice is BackendChoice.ALL else [choice.value]
    if "docker" not in wanted:
        return wanted
    from tests.chaos.docker_stack import unavailable_reason

    reason = unavailable_reason()
    if reason is None:
        return wanted
    if choice is BackendChoice.DOCKER:
        console.print(f"error: the Docker backend cannot run here: {reason}", markup=False)
        raise typer.Exit(2)
    console.print(f"chaos: Docker rows skipped: {reason}", markup=False)
    return ["embedded"]


def table(rows: list[Row], title: str) -> Table:
    out = Table(title=title, title_justify="left", show_lines=True)
    out.add_column("scenario")
    out.add_column("backend")
    out.add_column("produced", justify="right")
    for sink in SINKS:
        out.add_column(f"{sink}\nfound/miss/dup", justify="right")
    for name in ("drain s", "failed batches", "verify", "ok"):
        out.add_column(name, justify="right")
    out.add_column("what the user sees", overflow="fold", max_width=70)
    for row in rows:
        cells = [row.sinks[s].cell() if s in row.sinks else "-" for s in SINKS]
        drain = f"{row.drain_s:.1f}" if row.drain_s is not None else "-"
        verdict = "[green]yes[/]" if row.ok else "[red]NO[/]"
        out.add_row(row.scenario, row.backend, str(row.produced), *cells, drain, str(row.failed_batches), row.verify, verdict, row.message)
    return out


@app.command()
def main(
    scenario: Annotated[list[str] | None, typer.Option("--scenario", "-s", help=f"Run only these: {', '.join(SCENARIOS)}.")] = None,
    small: Annotated[bool, typer.Option("--small", help="The small version of each scenario (seconds, not minutes).")] = False,
    backend: Annotated[BackendChoice, typer.Option(
        "--backend", "-b", help="embedded (this machine's Python), docker (a compose stack per scenario, our "
        "emulator as the endpoint) or all (both; Docker where an engine answers).")] = BackendChoice.EMBEDDED,
) -> None:
    """Inject each fault into a real producer run and count what every sink got."""
    names = scenario or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise typer.BadParameter(f"unknown scenario {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    console = Console(width=None if Console().is_terminal else 250)
    rows = []
    chosen = backends(backend, console)
    for where in chosen:
        for name in names:
            began = time.monotonic()
            console.print(f"[bold]chaos[/]: {name}{' (small)' if small else ''} on {where}…")
            row = isolated.run(name, small, backend=where)
            console.print(f"  {name} ({where}): {'ok' if row.ok else 'NOT ok'} in {time.monotonic() - began:.0f} s: "
                          + " · ".join(f"{s} {c.cell()}" for s, c in row.sinks.items()) + f" · {row.message}",
                          markup=False)
            rows.append(row)
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    flags = (" --small" if small else "") + (f" --backend {backend.value}" if backend is not BackendChoice.EMBEDDED else "")
    console.print(table(rows, f"make chaos{flags} (load average {load})"))
    raise typer.Exit(0 if all(r.ok for r in rows) else 1)


if __name__ == "__main__":
    app()
