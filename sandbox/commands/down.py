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
    where = state.state_dir(settings)  # before the pidfile goes: the search finds it by that file
    stopped = state.stop(settings, timeout=timeout)
    if stopped is None:
        note(
            f"no embedded sandbox is running (looked for {state.PIDFILE} in {state.searched(settings)}; "
            "one started with another SANDBOX_STATE_DIR needs the same setting here)"
        )
        return
    note(f"stopped the embedded sandbox (pid {stopped.pid}, {stopped.endpoint_url or 'endpoint unknown'}; recorded in {where})")
