"""The `sandbox` command: wiring only; each command lives in ``sandbox.commands``.

Failures a user can cause are translated at one boundary (``sandbox.errors``) and
caught once, around the root command's invocation (what ``main`` runs, and what
typer's test runner runs too): one line with the fix, exit code != 0.
"""

from __future__ import annotations

from typing import Any

import click
import typer
from typer.core import TyperGroup

from sandbox.commands import backend, bootstrap, down, env, logs, produce, redrive, replay, status, trace, up, verify
from sandbox.errors import SandboxError, boundary


class SandboxGroup(TyperGroup):
    """The root group: the single place where ``SandboxError`` becomes a line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with boundary():
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
app.command("produce")(produce.produce)
app.add_typer(bootstrap.app, name="bootstrap")
app.command("logs")(logs.logs)
app.command("env")(env.env)
app.command("verify")(verify.verify)
app.command("trace")(trace.trace)
app.command("replay")(replay.replay)
app.command("redrive")(redrive.redrive)
app.command("backend")(backend.backend)


def main() -> None:
    """Console-script entry point (`sandbox = "sandbox.cli:main"`)."""
    app(prog_name="sandbox")


if __name__ == "__main__":  # pragma: no cover
    main()
