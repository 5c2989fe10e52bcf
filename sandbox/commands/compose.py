"""`sandbox compose up|down|ps|logs`: the Docker path's stack (what `make up` runs when an engine answers)."""

from __future__ import annotations

import subprocess
from typing import Annotated

import typer

from sandbox import compose as stacks
from sandbox import engine, stack
from sandbox.errors import SandboxError
from sandbox.output import note

app = typer.Typer(help="The compose stack (LocalStack or our emulator as the AWS endpoint).", no_args_is_help=True)


@app.command("up")
def up(
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Return once every sink holds clicks.")] = False,
    explain: Annotated[bool, typer.Option(help="Say why this endpoint (`make up` has said it already).")] = True,
) -> None:
    """Start the stack: endpoint, bootstrap (one-shot), HTTP sink, producer; Ctrl-C stops it."""
    stack.up(note, detach=detach, explain=explain)


@app.command("down")
def down() -> None:
    """Remove the stack with its network and volumes (no-op when none exists)."""
    if not stack.down(note):
        note(f"no compose stack {stacks.project()} exists")


def _variant() -> stacks.Variant | None:
    docker = engine.client()
    return stack.running_variant(docker) if docker is not None else None


@app.command("ps")
def ps() -> None:
    """List the stack's containers (nothing when none exists)."""
    variant = _variant()
    if variant is None:
        note(f"no compose stack {stacks.project()} exists (start one with: make up)")
        return
    subprocess.run(stacks.command(variant, "ps", "-a"), cwd=stacks.REPO_ROOT, env=stacks.environment(), check=False)


@app.command("logs")
def logs(follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep following.")] = False) -> None:
    """Show (or follow) every container's logs."""
    variant = _variant()
    if variant is None:
        raise SandboxError(f"no compose stack {stacks.project()} exists", "start one with `make up`")
    subprocess.run(stacks.command(variant, "logs", *(["--follow"] if follow else [])), cwd=stacks.REPO_ROOT,
                   env=stacks.environment(), check=False)
