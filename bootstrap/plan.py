"""What bootstrap would change (plan) or did change (apply/destroy), as plain data.

Each resource module diffs its desired state against what it read from AWS and
returns ``Change`` rows; the CLI renders them, tests assert on them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from bootstrap.target import Target


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "noop"


@dataclass(frozen=True)
class Change:
    """One resource and what happens (or happened) to it."""

    kind: str  # role, queue, bucket, kinesis-stream, table, function, mapping, log-group
    name: str
    action: Action
    detail: str = ""

    @property
    def pending(self) -> bool:
        return self.action is not Action.NOOP


@dataclass(frozen=True)
class Plan:
    """The changes for one target, in the order they are (or were) applied."""

    target: Target
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.pending)

    @property
    def is_noop(self) -> bool:
        return not self.pending

    def of_kind(self, kind: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == kind)

    def summary(self) -> str:
        """E.g. ``3 changes (2 create, 1 update), 12 unchanged`` or ``0 changes, 15 unchanged``."""
        counts = Counter(c.action for c in self.pending)
        unchanged = len(self.changes) - len(self.pending)
        head = f"{len(self.pending)} change{'' if len(self.pending) == 1 else 's'}"
        if counts:
            parts = ", ".join(f"{counts[a]} {a}" for a in Action if counts[a])
            head += f" ({parts})"
        return f"{head}, {unchanged} unchanged" if unchanged else head
