"""Reconcile a producer run's manifest against one sink: which click ids are missing or doubled.

Pure logic over ``SinkEvent`` tuples, so it is tested without AWS; the readers in
``sandbox.sinkread`` turn each sink's storage into those tuples.
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


@dataclass
class SinkReport:
    sink: str
    expected: int  # stream records the run's writes caused
    records: int = 0  # distinct stream events of this run found in the sink
    missing_ids: list[str] = field(default_factory=list)  # clicks lacking an expected event
    duplicate_ids: list[str] = field(default_factory=list)  # clicks with an event stored twice
    ttl_deletes: int = 0  # REMOVEs by TTL expiry (not written by the producer)
    unexpected: int = 0  # other events beyond the plan

    @property
    def ok(self) -> bool:
        return not self.missing_ids and not self.duplicate_ids


def reconcile(manifest: Manifest, sink: str, events: Iterable[SinkEvent]) -> SinkReport:
    expected = manifest.expected_events()
    report = SinkReport(sink=sink, expected=manifest.expected_stream_records)
    copies: dict[str, Counter[str]] = defaultdict(Counter)  # uuid -> event_id -> copies
    names: dict[tuple[str, str], str] = {}
    ttl: set[str] = set()
    for event in events:
        if event.uuid not in expected:
            continue
        copies[event.uuid][event.event_id] += 1
        names[(event.uuid, event.event_id)] = event.event_name
        if event.ttl_delete:
            ttl.add(event.event_id)
    for uuid, wanted in expected.items():
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
    return report
