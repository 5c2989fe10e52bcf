"""The HTTP sink's journal: every recorded delivery as a JSON line, written before the sink answers.

Why a journal and not a snapshot: consumer B checkpoints a record only after the sink said
201, so a delivery the sink acknowledged must outlive any kill of the sink's process, whatever
the emulator's snapshot holds (it may be newer than the sink's last save, e.g. when the
endpoint runs in a process of its own). One ``write`` per delivery (a batch request's
deliveries together), flushed to the kernel before the answer, survives SIGKILL (the page
cache does); a torn last line (a kill mid-write, before the answer went out) is skipped on
replay.

Lines: ``{"delivery": {...}}`` (Delivery.as_dict), ``{"faults": {...}}`` (a new fault setting),
``{"reset": true}`` (DELETE /deliveries: what came before is forgotten).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class Journal:
    """An append-only JSON-lines file (opened for appending once replayed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def replay(self) -> Iterator[dict[str, Any]]:
        """The entries so far, in order; a damaged line (a torn write) is skipped."""
        try:
            with self.path.open("rb") as source:
                for line in source:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(entry, dict):
                        yield entry
        except FileNotFoundError:
            return

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if self.path.stat().st_size:
            os.write(self._fd, b"\n")  # a torn last line stays its own (skipped) line

    def append(self, entry: dict[str, Any]) -> None:
        """One line in one write(2): in the kernel before the caller answers its client."""
        self.append_many([entry])

    def append_many(self, entries: list[dict[str, Any]]) -> None:
        """Lines in one write(2) (a batch request's deliveries together)."""
        if self._fd is not None and entries:
            os.write(self._fd, b"".join(json.dumps(entry, separators=(",", ":")).encode() + b"\n" for entry in entries))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
