"""Where the embedded sandbox keeps its state between runs, and how `sandbox reset` removes it.

``<state dir>/snapshot.bin`` (see sandbox.state for where the state dir is) is written by
emulator/persistence.py about once a second while something changes, and once more on
a clean stop; ``<state dir>/httpsink.jsonl`` gets each of the HTTP sink's deliveries before
the sink answers. `sandbox up` restores both on start unless ``--no-persist``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bootstrap.settings import Settings
from emulator.snapshot_file import SnapshotError, read_header
from sandbox import state
from sandbox.errors import SandboxError

SNAPSHOT = "snapshot.bin"
SINK_JOURNAL = "httpsink.jsonl"
ENV_PERSIST = "SANDBOX_PERSIST"
RESET_FIX = "`sandbox reset` removes it and the next `sandbox up` starts fresh; `sandbox up --no-persist` leaves it alone"


def snapshot_path(settings: Settings) -> Path:
    return state.state_dir(settings) / SNAPSHOT


def journal_path(settings: Settings) -> Path:
    """The HTTP sink's deliveries (sandbox/httpsink_journal.py): saved apart, on every delivery."""
    return state.state_dir(settings) / SINK_JOURNAL


def check_saved(path: Path) -> None:
    """Refuse an unusable snapshot (another format version, damaged header) with one line; the
    endpoint process loads it (and checks its payload)."""
    if not path.exists():
        return
    try:
        read_header(path)
    except SnapshotError as error:
        raise SandboxError(error.message, RESET_FIX) from None


@dataclass(frozen=True)
class Removed:
    path: Path
    size: int  # bytes removed
    created_at: float | None  # when the snapshot was written, if its header could be read


def reset(settings: Settings) -> Removed | None:
    """Remove the saved state (and leftover temp files); refuse while a sandbox runs on it."""
    running = state.read(settings)
    if running is not None:
        raise SandboxError(
            f"an embedded sandbox is running (pid {running.pid}) and keeps saving its state",
            "stop it first (`sandbox down` or Ctrl-C), then `sandbox reset`",
        )
    path = snapshot_path(settings)
    leftovers = list(path.parent.glob(f".{SNAPSHOT}.*.tmp")) if path.parent.is_dir() else []
    leftovers += [journal] if (journal := journal_path(settings)).exists() else []
    if not path.exists() and not leftovers:
        return None
    try:
        created: float | None = read_header(path).created_at if path.exists() else None
    except SnapshotError:
        created = None  # another version's or a damaged file: removed all the same
    size = 0
    for found in [path, *leftovers]:
        if found.exists():
            size += found.stat().st_size
            found.unlink()
    return Removed(path, size, created)
