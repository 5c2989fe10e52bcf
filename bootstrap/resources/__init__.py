"""One module per resource kind, each with the same small face.

``read_state(ctx)``            what exists now (None / empty when nothing)
``plan(ctx, state, wiring)``   pure diff of desired vs ``state`` -> list[Change]
``apply(ctx, state, wiring)``  make it so, then wait until ready (bounded)
``wire(state, changes, wiring)`` ARNs later resources need (optional)
``destroy(ctx, state)``        delete what exists -> list[Change]

``ORDER`` is the apply order; destroy runs it backwards. ``orphans`` (functions of this
prefix the topology dropped) goes before ``functions``: gone before new mappings are counted.
"""

from __future__ import annotations

from types import ModuleType

from bootstrap.resources import buckets, functions, kinesis, mappings, orphans, queue, role, table

ORDER: tuple[ModuleType, ...] = (role, queue, buckets, kinesis, table, orphans, functions, mappings)

__all__ = ["ORDER"]
