"""Reconcile a producer run's manifest against one sink: which click ids are missing or doubled.

Pure logic over ``SinkEvent`` tuples, so it is tested without AWS; the readers in
``sandbox.sinkread`` and ``sandbox.sinkwatch`` turn each sink's storage into those tuples.

Events carry the ``run_id`` of the item they belong to (null in a KEYS_ONLY stream),
so events of *this* run for clicks its manifest does not list are found too: the
trace of a reused run id (its manifest overwritten by a later run) or of writes the
manifest missed. They count as "other", like events beyond the plan for a listed
click (a write outside the producer); any "other" event means not reconciled.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from producer.manifest import Manifest


class SinkEvent(NamedTuple):
    uuid: str
    event_id: str
    event_name: str
    ttl_delete: bool = False
    run_id: str | None = None  # the item's run (None where the stream view does not carry it)


@dataclass
class SinkReport:
    sink: str
    expected: int  # stream records the run's writes caused
    records: int = 0  # distinct stream events of this run found in the sink
    missing_ids: list[str] = field(default_factory=list)  # clicks lacking an expected event
    duplicate_ids: list[str] = field(default_factory=list)  # clicks with an event stored twice
    ttl_deletes: int = 0  # REMOVEs by TTL expiry (not written by the producer)
    unexpected: int = 0  # events beyond the plan for a listed click
    unlisted_ids: list[str] = field(default_factory=list)  # clicks of this run the manifest does not list

    @property
    def other(self) -> int:
        """Events the manifest does not explain: beyond the plan, or of clicks it does not list."""
        return self.unexpected + len(self.unlisted_ids)

    @property
    def ok(self) -> bool:
        return not self.missing_ids and not self.duplicate_ids and not self.other


def reconcile(manifest: Manifest, sink: str, events: Iterable[SinkEvent], *, expected: int | None = None) -> SinkReport:
    """``expected``: the run's stream records per its header (a running run's parts lag it)."""
    planned = manifest.expected_events()
    report = SinkReport(sink=sink, expected=manifest.expected_stream_records if expected is None else expected)
    copies: dict[str, Counter[str]] = defaultdict(Counter)  # uuid -> event_id -> copies
    names: dict[tuple[str, str], str] = {}
    ttl: set[str] = set()
    unlisted: dict[str, set[str]] = defaultdict(set)  # uuid -> event ids (of this run, not in the manifest)
    for event in events:
        if event.uuid not in planned:
            if event.run_id == manifest.run_id:
                unlisted[event.uuid].add(event.event_id)
            continue
        copies[event.uuid][event.event_id] += 1
        names[(event.uuid, event.event_id)] = event.event_name
        if event.ttl_delete:
            ttl.add(event.event_id)
    for uuid, wanted in planned.items():
        seen = copies.get(uuid, Counter())
        if any(n > 1 for n in seen.values()):
            report.duplicate_ids.append(uuid)
        have = Counter(names[(uuid, event_id)] for event_id in seen if event_id not in ttl)
        want = Counter(wanted)
        if any(have[name] < count for name, count in want.items()):
            report.missing_ids.append(uuid)
        report.unexpected += sum(max(0, have[name] - want[name]) for name in have)
        report.ttl_deletes += sum(1 for event_id in seen if event_id in ttl)
        report.records += len(seen)
    report.unlisted_ids = sorted(unlisted)
    report.records += sum(len(ids) for ids in unlisted.values())
    return report
