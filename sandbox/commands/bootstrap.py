"""`sandbox bootstrap plan|apply|destroy`: bootstrap's API, aimed at the sandbox by default."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from rich.markup import escape

from bootstrap import api
from bootstrap.cli import render
from bootstrap.context import Progress
from sandbox import target
from sandbox.output import console

app = typer.Typer(no_args_is_help=True, help="Create, update or delete the pipeline's AWS resources.")


def _progress(started: float) -> Progress:
    out = console()

    def report(message: str) -> None:
        out.print(f"[dim]{time.monotonic() - started:6.1f}s[/] {escape(message)}")

    return report


@app.command("plan")
def plan() -> None:
    """Show what apply would change (changes nothing)."""
    settings = target.load()
    target.require_running(settings)
    result = api.plan(settings)
    render(result, f"Plan for {result.target.describe()}")
    console().print(f"[bold]{result.summary()}[/]")


@app.command("apply")
def apply() -> None:
    """Create or update every resource and wait until it is ready; a second run changes nothing."""
    settings = target.load()
    target.require_running(settings)
    started = time.monotonic()
    result = api.apply(settings, progress=_progress(started))
    render(result, f"Applied to {result.target.describe()}")
    verdict = "nothing to do: already up to date" if result.is_noop else "done"
    console().print(f"[bold]{result.summary()}[/] ({verdict}, {time.monotonic() - started:.1f}s)")


@app.command("destroy")
def destroy(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting on real AWS.")] = False,
) -> None:
    """Delete every resource of the pipeline (data included)."""
    settings = target.load()
    target.require_running(settings)
    where = api.target(settings)
    if where.real_aws and not yes:
        typer.confirm(f"Delete the pipeline '{settings.prefix}' in {where.describe()}?", abort=True)
    started = time.monotonic()
    result = api.destroy(settings, progress=_progress(started))
    render(result, f"Destroyed in {result.target.describe()}")
    console().print(f"[bold]{result.summary()}[/] ({time.monotonic() - started:.1f}s)")
