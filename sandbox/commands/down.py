"""`sandbox down`: stop an embedded stack left running (its pidfile is in the state dir)."""

from __future__ import annotations

import typer

from bootstrap.settings import Settings
from sandbox import state
from sandbox.output import note


def down(
    timeout: float = typer.Option(state.STOP_TIMEOUT_S, help="Seconds to wait before killing it."),
) -> None:
    """Stop the embedded sandbox started by `make up`/`sandbox up` (no-op if none runs)."""
    settings = Settings.from_env()
    stopped = state.stop(settings, timeout=timeout)
    if stopped is None:
        note("no embedded sandbox is running")
        return
    note(f"stopped the embedded sandbox (pid {stopped.pid}, {stopped.endpoint_url or 'endpoint unknown'})")
