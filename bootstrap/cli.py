"""``python -m bootstrap plan|apply|destroy``: the API above, printed with rich.

User mistakes and AWS failures print one line and exit non-zero (2 for bad
settings or topology, 1 for anything else); never a traceback.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bootstrap import api
from bootstrap.errors import BootstrapError
from bootstrap.plan import Action, Plan
from bootstrap.settings import (
    ENV_ENDPOINT,
    ENV_HTTP_SINK_URL,
    ENV_KINESIS_SHARDS,
    ENV_PREFIX,
    ENV_REGION,
    ENV_STREAM_VIEW_TYPE,
    Settings,
    SettingsError,
)

T = TypeVar("T")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Create, update or delete the click pipeline on an AWS endpoint (LocalStack, the emulator, AWS).",
)
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

_STYLE = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red", Action.NOOP: "dim"}
_SIGN = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-", Action.NOOP: "="}


class ViewType(StrEnum):
    NEW_IMAGE = "NEW_IMAGE"
    OLD_IMAGE = "OLD_IMAGE"
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"
    KEYS_ONLY = "KEYS_ONLY"


@app.callback()
def _options(
    ctx: typer.Context,
    endpoint_url: Annotated[str | None, typer.Option(help=f"AWS endpoint (default: ${ENV_ENDPOINT}).")] = None,
    region: Annotated[str | None, typer.Option(help=f"Region (default: ${ENV_REGION}).")] = None,
    prefix: Annotated[str | None, typer.Option(help=f"Resource name prefix (default: ${ENV_PREFIX}).")] = None,
    stream_view_type: Annotated[ViewType | None, typer.Option(help="Table stream view type.")] = None,
    kinesis_shards: Annotated[int | None, typer.Option(min=1, max=16, help="Kinesis shard count.")] = None,
    http_sink_url: Annotated[str | None, typer.Option(help="URL consumer B posts to.")] = None,
) -> None:
    """Options override the environment (see README: Configuration)."""
    # On the click context, not in a module global: one invocation's options must not
    # leak into the next one in the same process (tests, `sandbox bootstrap`).
    given = {
        ENV_ENDPOINT: endpoint_url,
        ENV_REGION: region,
        ENV_PREFIX: prefix,
        ENV_STREAM_VIEW_TYPE: stream_view_type.value if stream_view_type else None,
        ENV_KINESIS_SHARDS: str(kinesis_shards) if kinesis_shards is not None else None,
        ENV_HTTP_SINK_URL: http_sink_url,
    }
    ctx.obj = {k: v for k, v in given.items() if v is not None}


def _settings(ctx: typer.Context) -> Settings:
    # Through from_env so options are validated exactly like environment variables.
    return Settings.from_env({**os.environ, **(ctx.obj or {})})


def render(plan: Plan, title: str) -> None:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in ("", "kind", "name", "detail"):
        table.add_column(column)
    for change in plan.changes:
        style = _STYLE[change.action]
        table.add_row(
            f"[{style}]{_SIGN[change.action]}[/]",
            change.kind,
            f"[{style}]{escape(change.name)}[/]",
            escape(change.detail),
        )
    console.print(table)


def _run(call: Callable[[], T]) -> T:
    try:
        return call()
    except BootstrapError as error:
        errors.print(f"[red]error:[/] {escape(str(error))}")
        raise typer.Exit(error.exit_code) from None
    except SettingsError as error:
        errors.print(f"[red]error:[/] {escape(str(error))}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        errors.print("[yellow]interrupted[/]: re-run the command; apply resumes where it stopped")
        raise typer.Exit(130) from None


def _progress(started: float) -> Callable[[str], None]:
    def report(message: str) -> None:
        console.print(f"[dim]{time.monotonic() - started:6.1f}s[/] {escape(message)}")

    return report


@app.command("plan")
def plan_command(ctx: typer.Context) -> None:
    """Show what apply would change (changes nothing)."""
    result = _run(lambda: api.plan(_settings(ctx)))
    render(result, f"Plan for {result.target.describe()}")
    console.print(f"[bold]{result.summary()}[/]")


@app.command("apply")
def apply_command(ctx: typer.Context) -> None:
    """Create or update every resource; a second run changes nothing."""
    started = time.monotonic()
    result = _run(lambda: api.apply(_settings(ctx), progress=_progress(started)))
    render(result, f"Applied to {result.target.describe()}")
    verdict = "nothing to do: already up to date" if result.is_noop else "done"
    console.print(f"[bold]{result.summary()}[/] ({verdict}, {time.monotonic() - started:.1f}s)")


@app.command("destroy")
def destroy_command(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting on real AWS.")] = False,
) -> None:
    """Delete every resource of the pipeline (data included)."""
    settings = _run(lambda: _settings(ctx))
    target = _run(lambda: api.target(settings))
    if target.real_aws and not yes:
        typer.confirm(f"Delete the pipeline '{settings.prefix}' in {target.describe()}?", abort=True)
    started = time.monotonic()
    result = _run(lambda: api.destroy(settings, progress=_progress(started)))
    render(result, f"Destroyed in {result.target.describe()}")
    console.print(f"[bold]{result.summary()}[/] ({time.monotonic() - started:.1f}s)")


def main() -> None:
    app(prog_name="python -m bootstrap")
