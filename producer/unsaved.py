"""What a run aborted by a vanished endpoint could not store, kept on local disk.

When the endpoint goes away mid-run the manifest (in S3 behind that same endpoint)
cannot be saved either. Two kinds of writes are then unknown to whoever reads the
stored manifest: those in flight (sent, no answer: maybe in the table) and those
acknowledged since the last stored save. Both are written to
``<state dir>/runs/<run_id>.unsaved.json`` and counted in the run's error message, so
the user knows exactly which writes to check; the stored manifest stays consistent
(it lists only acknowledged writes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bootstrap.settings import Settings
from producer.plan import Op


@dataclass(frozen=True)
class Unsaved:
    run_id: str
    unknown: list[dict[str, str]]  # {"uuid", "op"}: sent when the endpoint went away, no answer
    not_written: list[dict[str, str]]  # refused before reaching the endpoint: certainly not in the table
    acknowledged: dict[str, list[str]]  # clicks/updated/deleted the stored manifest lacks

    @classmethod
    def of(cls, run_id: str, in_flight: list[Op], maybe_applied: bool, acknowledged: dict[str, list[str]]) -> Unsaved:
        ops = [{"uuid": op.click.uuid, "op": str(op.kind)} for op in in_flight]
        return cls(run_id, ops if maybe_applied else [], [] if maybe_applied else ops, acknowledged)

    def path(self, settings: Settings) -> Path:
        return Path(settings.state_dir) / "runs" / f"{self.run_id}.unsaved.json"

    def store(self, settings: Settings) -> Path:
        """Write the file (atomically: a reader never sees half of it); its path."""
        path = self.path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".tmp")
        part.write_text(json.dumps(self.__dict__, indent=1))
        part.replace(path)
        return path

    def summary(self, path: Path | None, manifest_saved: bool) -> str:
        """The sentence the run's error message gets."""
        unsaved = sum(len(ids) for ids in self.acknowledged.values())
        parts = [f"{len(self.unknown)} write(s) of unknown outcome (sent, no answer: maybe in the table)"]
        if self.not_written:
            parts.append(f"{len(self.not_written)} refused (not written)")
        if not manifest_saved:
            parts.append(f"{unsaved} acknowledged write(s) the stored manifest lacks (it could not be saved)")
        where = f"; listed in {path}" if path is not None else ""
        return "; ".join(parts) + where
