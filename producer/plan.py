"""Which writes a run makes, in which order: puts, and later updates/deletes of some clicks.

Ratios are exact over the clicks actually produced (``round_half_up(clicks * ratio)``),
also when a ``--duration`` run stops at an unknown count: clicks are grouped in
blocks, and when a block closes its share of updates/deletes is drawn at random
from it and scheduled a random number of steps later, so MODIFY and REMOVE
records interleave with new INSERTs. Per item the order is always put < update <
delete. Everything is deterministic for a seed.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from producer.events import Click, ClickGenerator

#: Clicks per block; also the largest lag (in steps) before an update/delete.
BLOCK = 100


class OpKind(StrEnum):
    PUT = "put"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Op:
    """One write to the table."""

    kind: OpKind
    click: Click


def quota(clicks: int, ratio: float) -> int:
    """How many of ``clicks`` get a follow-up at ``ratio`` (round half up, never banker's)."""
    return math.floor(clicks * ratio + 0.5)


def expected_ops(clicks: int, update_ratio: float, delete_ratio: float) -> int:
    """Stream records a complete run of ``clicks`` clicks produces."""
    return clicks + quota(clicks, update_ratio) + quota(clicks, delete_ratio)


class OperationPlan:
    """Yields the run's operations lazily; ``more_clicks()`` decides when puts stop."""

    def __init__(
        self,
        generator: ClickGenerator,
        *,
        update_ratio: float = 0.0,
        delete_ratio: float = 0.0,
        seed: int = 0,
        block: int = BLOCK,
    ) -> None:
        for name, ratio in (("update_ratio", update_ratio), ("delete_ratio", delete_ratio)):
            if not 0.0 <= ratio <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        self._generator = generator
        self._update_ratio = update_ratio
        self._delete_ratio = delete_ratio
        self._rng = random.Random(f"{seed}:plan")
        self._block_size = max(1, block)
        self._block: list[Click] = []
        self._heap: list[tuple[int, int, Op]] = []
        self._tiebreak = 0
        self._step = 0
        self._clicks = 0
        self._updates_planned = 0
        self._deletes_planned = 0

    @property
    def clicks(self) -> int:
        return self._clicks

    def ops(self, more_clicks: Callable[[int], bool]) -> Iterator[Op]:
        """All operations. ``more_clicks(clicks_so_far)`` False ends the puts; follow-ups drain.

        Stopping the iteration early (e.g. on Ctrl-C) simply drops the pending follow-ups.
        """
        while more_clicks(self._clicks):
            yield from self._due(self._step)
            click = self._generator.next()
            self._clicks += 1
            self._step += 1
            yield Op(OpKind.PUT, click)
            self._block.append(click)
            if len(self._block) >= self._block_size:
                self._close_block()
        self._close_block()
        while self._heap:
            yield heapq.heappop(self._heap)[2]

    def _due(self, step: int) -> Iterator[Op]:
        while self._heap and self._heap[0][0] <= step:
            yield heapq.heappop(self._heap)[2]

    def _schedule(self, step: int, op: Op) -> None:
        self._tiebreak += 1
        heapq.heappush(self._heap, (step, self._tiebreak, op))

    def _close_block(self) -> None:
        if not self._block:
            return
        rng, block = self._rng, self._block
        n_updates = quota(self._clicks, self._update_ratio) - self._updates_planned
        n_deletes = quota(self._clicks, self._delete_ratio) - self._deletes_planned
        updates = rng.sample(block, n_updates)
        deletes = rng.sample(block, n_deletes)
        update_step: dict[str, int] = {}
        for click in sorted(updates, key=lambda c: c.seq):
            update_step[click.uuid] = self._step + rng.randint(1, self._block_size)
            self._schedule(update_step[click.uuid], Op(OpKind.UPDATE, click))
        for click in sorted(deletes, key=lambda c: c.seq):
            after = update_step.get(click.uuid, self._step)
            self._schedule(after + rng.randint(1, self._block_size), Op(OpKind.DELETE, click))
        self._updates_planned += n_updates
        self._deletes_planned += n_deletes
        self._block = []
