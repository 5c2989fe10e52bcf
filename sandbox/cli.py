"""The `sandbox` command: wiring only; each command lives in ``sandbox.commands``.

Failures a user can cause are translated at one boundary (``sandbox.errors``) and
caught once, around the root command's invocation (what ``main`` runs, and what
typer's test runner runs too): one line with the fix, exit code != 0. Usage errors
click finds while parsing (a bad value, an unknown option or command) get the same
shape, ``error: … (fix: see sandbox <command> --help)`` and exit code 2, instead of
typer's boxed usage block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import typer
from typer.core import TyperGroup

from sandbox.commands import (
    backend, bootstrap, compose, dashboard, down, env, images, logs, produce, query, redrive, replay, reset, status, trace,
    up, verify,
)
from sandbox.errors import EXIT_USAGE, SandboxError, boundary

try:  # typer 0.2x vendors click: its parser raises typer._click's exceptions, not the installed click's
    from typer._click.exceptions import NoArgsIsHelpError as _TyperNoArgsIsHelp
    from typer._click.exceptions import UsageError as _TyperUsageError
except ImportError:  # pragma: no cover - a typer on the installed click
    _TyperNoArgsIsHelp, _TyperUsageError = click.exceptions.NoArgsIsHelpError, click.UsageError

_NO_ARGS_IS_HELP = (click.exceptions.NoArgsIsHelpError, _TyperNoArgsIsHelp)
_USAGE_ERRORS = (click.UsageError, _TyperUsageError)


@contextmanager
def usage_errors() -> Iterator[None]:
    """Click's usage errors (any command level) as one plain line; `sandbox` alone still shows the help."""
    try:
        yield
    except _NO_ARGS_IS_HELP:
        raise
    except _USAGE_ERRORS as error:
        text = " ".join(line.strip() for line in error.format_message().splitlines() if line.strip()).rstrip(".")
        command = error.ctx.command_path if error.ctx is not None else "sandbox"
        typer.echo(f"error: {text} (fix: see {command} --help)", err=True)
        raise typer.Exit(EXIT_USAGE) from None


class SandboxGroup(TyperGroup):
    """The root group: the single place where ``SandboxError`` and usage errors become a line and an exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        with usage_errors():  # the root's own options (`sandbox --nosuch`)
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with usage_errors(), boundary():  # subcommands are parsed inside invoke
                return super().invoke(ctx)
        except SandboxError as error:
            typer.echo(error.line(), err=True)
            raise typer.Exit(error.exit_code) from None


app = typer.Typer(
    cls=SandboxGroup,
    name="sandbox",
    help="A local AWS sandbox for the click pipeline (DynamoDB Streams -> Lambda -> S3/Kinesis).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("up")(up.up)
app.command("status")(status.status)
app.command("down")(down.down)
app.command("reset")(reset.reset)
app.command("produce")(produce.produce)
app.add_typer(bootstrap.app, name="bootstrap")
app.command("logs")(logs.logs)
app.command("env")(env.env)
app.command("verify")(verify.verify)
app.command("trace")(trace.trace)
app.command("query")(query.query)
app.command("dashboard")(dashboard.dashboard)
app.command("images")(images.images)
app.add_typer(compose.app, name="compose")
app.command("replay")(replay.replay)
app.command("redrive")(redrive.redrive)
app.command("backend")(backend.backend)


def main() -> None:
    """Console-script entry point (`sandbox = "sandbox.cli:main"`)."""
    app(prog_name="sandbox")


if __name__ == "__main__":  # pragma: no cover
    main()
