"""``python -m bootstrap plan|apply|destroy``: the API above, printed with rich.

The target options (``--endpoint-url``, ``--prefix``, ``--kinesis-shards``, …) work
after the subcommand (``python -m bootstrap plan --prefix x``) and before it
(``python -m bootstrap --prefix x plan``); after wins. ``sandbox bootstrap`` is the
same commands (:func:`build_app`), with the sandbox's way of finding the endpoint.
User mistakes and AWS failures print one line ``error: … (fix: …)`` and exit
non-zero (2 for bad settings or topology, 1 for anything else); never a traceback.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any, TypeVar

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

#: Builds the settings from an environment mapping with the options applied to it:
#: ``Settings.from_env`` here, ``sandbox.target.load`` for ``sandbox bootstrap``.
SettingsSource = Callable[[Mapping[str, str]], Settings]
#: Runs before a command touches the endpoint (``sandbox bootstrap``: is anything running?).
ReadyCheck = Callable[[Settings], None]

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)  # soft wrap: an error stays one line

_STYLE = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red", Action.NOOP: "dim"}
_SIGN = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-", Action.NOOP: "="}
_HELP = "Create, update or delete the click pipeline on an AWS endpoint (LocalStack, the emulator, AWS)."


class ViewType(StrEnum):
    NEW_IMAGE = "NEW_IMAGE"
    OLD_IMAGE = "OLD_IMAGE"
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"
    KEYS_ONLY = "KEYS_ONLY"


#: The target options: parameter name -> (its type with the typer option, the variable it overrides).
_OPTIONS: dict[str, tuple[Any, str]] = {
    "endpoint_url": (Annotated[str | None, typer.Option(help=f"AWS endpoint (default: ${ENV_ENDPOINT}).")], ENV_ENDPOINT),
    "region": (Annotated[str | None, typer.Option(help=f"Region (default: ${ENV_REGION}).")], ENV_REGION),
    "prefix": (Annotated[str | None, typer.Option(help=f"Resource name prefix (default: ${ENV_PREFIX}).")], ENV_PREFIX),
    "stream_view_type": (
        Annotated[ViewType | None, typer.Option(help=f"Table stream view type (default: ${ENV_STREAM_VIEW_TYPE}).")],
        ENV_STREAM_VIEW_TYPE,
    ),
    "kinesis_shards": (
        Annotated[int | None, typer.Option(min=1, max=16, help=f"Kinesis shard count (default: ${ENV_KINESIS_SHARDS}).")],
        ENV_KINESIS_SHARDS,
    ),
    "http_sink_url": (
        Annotated[str | None, typer.Option(help=f"URL consumer B posts to (default: ${ENV_HTTP_SINK_URL}).")],
        ENV_HTTP_SINK_URL,
    ),
}


def _given(values: Mapping[str, Any]) -> dict[str, str]:
    """The options set on the command line, as the environment variables they override."""
    given: dict[str, str] = {}
    for name, (_, variable) in _OPTIONS.items():
        value = values.get(name)
        if value is not None:
            given[variable] = value.value if isinstance(value, StrEnum) else str(value)
    return given


def _with_target_options(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` (whose first parameter is the click context) plus the target options.

    They are merged over the group's on the context, never a module global: one
    invocation's options must not leak into the next in the same process (tests,
    ``sandbox bootstrap``).
    """

    def wrapper(ctx: typer.Context, **arguments: Any) -> None:
        options = {name: arguments.pop(name, None) for name in _OPTIONS}
        ctx.obj = {**(ctx.obj or {}), **_given(options)}
        command(ctx, **arguments)

    own = inspect.signature(command, eval_str=True)
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        for name, (annotation, _) in _OPTIONS.items()
    ]
    wrapper.__signature__ = own.replace(parameters=[*own.parameters.values(), *added])  # type: ignore[attr-defined]
    wrapper.__name__, wrapper.__doc__ = command.__name__, command.__doc__
    return wrapper


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


def build_app(
    settings_source: SettingsSource = Settings.from_env,
    *,
    ready: ReadyCheck | None = None,
    help: str = _HELP,  # noqa: A002 - typer's name for it
) -> typer.Typer:
    """The plan/apply/destroy commands, with settings from ``settings_source``.

    ``ready`` runs once the settings are known, before anything else (its own errors
    pass through: ``sandbox bootstrap`` prints them at its boundary).
    """
    app = typer.Typer(add_completion=False, no_args_is_help=True, help=help)

    def settings_of(ctx: typer.Context) -> Settings:
        # Options go through the source as environment variables: validated exactly like them.
        settings = _run(lambda: settings_source({**os.environ, **(ctx.obj or {})}))
        if ready is not None:
            _run(lambda: ready(settings))
        return settings

    @app.callback()
    @_with_target_options
    def options(ctx: typer.Context) -> None:
        """Options override the environment (see README: Configuration); they go before or after the command."""

    @app.command("plan")
    @_with_target_options
    def plan_command(ctx: typer.Context) -> None:
        """Show what apply would change (changes nothing)."""
        settings = settings_of(ctx)
        result = _run(lambda: api.plan(settings))
        render(result, f"Plan for {result.target.describe()}")
        console.print(f"[bold]{result.summary()}[/]")

    @app.command("apply")
    @_with_target_options
    def apply_command(ctx: typer.Context) -> None:
        """Create or update every resource and wait until it is ready; a second run changes nothing."""
        settings = settings_of(ctx)
        started = time.monotonic()
        result = _run(lambda: api.apply(settings, progress=_progress(started)))
        render(result, f"Applied to {result.target.describe()}")
        verdict = "nothing to do: already up to date" if result.is_noop else "done"
        console.print(f"[bold]{result.summary()}[/] ({verdict}, {time.monotonic() - started:.1f}s)")

    @app.command("destroy")
    @_with_target_options
    def destroy_command(
        ctx: typer.Context,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting on real AWS.")] = False,
    ) -> None:
        """Delete every resource of the pipeline (data included)."""
        settings = settings_of(ctx)
        target = _run(lambda: api.target(settings))
        if target.real_aws and not yes:
            typer.confirm(f"Delete the pipeline '{settings.prefix}' in {target.describe()}?", abort=True)
        started = time.monotonic()
        result = _run(lambda: api.destroy(settings, progress=_progress(started)))
        render(result, f"Destroyed in {result.target.describe()}")
        console.print(f"[bold]{result.summary()}[/] ({time.monotonic() - started:.1f}s)")

    return app


app = build_app()


def main() -> None:
    app(prog_name="python -m bootstrap")
