"""`sandbox backend`: which backend `make up` should start, and why (the name on stdout)."""

from __future__ import annotations

import typer

from sandbox import backend as selection
from sandbox.output import note


def backend() -> None:
    """Print the backend `make up` starts (docker|embedded); the reason, and the Docker endpoint, go to stderr."""
    choice = selection.choose()
    where = f" ({choice.variant})" if choice.variant else ""
    note(f"backend: {choice.backend}{where} — {choice.reason}")
    typer.echo(choice.backend.value)
