"""`sandbox reset`: forget the embedded sandbox's saved state, so the next `sandbox up` starts fresh."""

from __future__ import annotations

import time

from bootstrap.settings import Settings
from sandbox import saved_state
from sandbox.output import note


def reset() -> None:
    """Remove the saved state (tables, streams, objects, checkpoints, the sink's deliveries) of the embedded sandbox.

    Refused while a sandbox runs (it would write it again within a second): stop it first.
    """
    settings = Settings.from_env()
    removed = saved_state.reset(settings)
    if removed is None:
        note(f"no saved state to remove ({saved_state.snapshot_path(settings)} does not exist); the next `sandbox up` starts fresh")
        return
    age = f", saved {time.time() - removed.created_at:.0f} s ago" if removed.created_at else ""
    note(f"removed the saved state {removed.path} ({removed.size / 1e6:.1f} MB{age}); the next `sandbox up` starts fresh")
