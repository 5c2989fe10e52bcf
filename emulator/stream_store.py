"""DynamoDB stream records every mapping has read, kept packed until retention drops them.

A stream record stays after every mapping read it: ``EMULATOR_STREAM_MIN_RETENTION_SECONDS``
(5 minutes) for other readers (``sandbox status``, the AWS CLI, a replay from TRIM_HORIZON).
As moto's ``StreamRecord``, one is about 3.7 KB of heap (nested dicts of its images), so
five minutes at 50 writes/s held about 55 MB, the largest store by far
(``make bench BENCH_ARGS="--only heap"``). Every few seconds retention packs what the readers
passed since its last pass, up to ``PACK_PER_LOCK`` records per hold of the lock, into one
deflated group of pickles of their JSON shape (``pack``): records of one table repeat their
attribute names and shapes, so in a group of 256 a click's record deflates to about 100
bytes where alone it took 490 (190 bytes of heap with its object, in the bench's mixed
workload). The records not yet read by every mapping, which the pollers read, stay moto's
objects, so the pipeline's path never unpacks anything.
"""

from __future__ import annotations

import pickle
from array import array
from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate
from typing import Any

from emulator.compression import deflate_run, inflate, inflate_run


def created_at(stream_record: Any, record: dict[str, Any]) -> float:
    """When the stream record was written (epoch seconds): the time the emulator stamped it
    with, else moto's ApproximateCreationDateTime (a record restored from an older snapshot)."""
    return getattr(stream_record, "emu_created", 0.0) or record["dynamodb"]["ApproximateCreationDateTime"].timestamp()  # type: ignore[no-any-return]


class _Group:
    """The pickles of a run of records, deflated together; ``_ends`` says where each ends."""

    __slots__ = ("_packed", "_ends")

    def __init__(self, records: list[dict[str, Any]]) -> None:
        pickles = [pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL) for record in records]
        self._ends = array("Q", accumulate(len(one) for one in pickles))
        self._packed = deflate_run(b"".join(pickles))

    def record(self, index: int) -> dict[str, Any]:
        start = self._ends[index - 1] if index else 0
        return pickle.loads(_inflated(self)[start:self._ends[index]])  # type: ignore[no-any-return]


@lru_cache(maxsize=2)
def _inflated(group: _Group) -> bytes:
    """A reader reads a group's records one after another: it is inflated once for all of them.
    (The two groups kept stay alive after retention drops them: a few hundred KB at most.)"""
    return inflate_run(group._packed)


class PackedStreamRecord:
    """A stream record as moto's ``StreamRecord`` answers (``record``, ``to_json()``), packed
    in a group with its neighbours; each read gives a fresh copy of its dict."""

    __slots__ = ("_group", "_index", "emu_created")

    def __init__(self, group: _Group, index: int, created: float) -> None:
        self._group = group
        self._index = index
        self.emu_created = created

    def __setstate__(self, state: tuple[None, dict[str, Any]]) -> None:
        _, slots = state
        if "_packed" in slots:  # from a snapshot of an earlier version: a record deflated alone
            self._group, self._index = _Group([pickle.loads(inflate(slots["_packed"]))]), 0
            self.emu_created = slots["emu_created"]
            return
        for name, value in slots.items():
            setattr(self, name, value)

    @classmethod
    def pack(cls, stream_records: Sequence[Any]) -> list[Any]:
        """``stream_records`` with moto's packed together into one group (packed ones stay as they are)."""
        fresh = [one for one in stream_records if not isinstance(one, PackedStreamRecord)]
        if not fresh:
            return list(stream_records)
        records = [one.record for one in fresh]
        group = _Group(records)
        packed: list[Any] = []
        index = 0  # of the next fresh record in the group
        for one in stream_records:
            if isinstance(one, PackedStreamRecord):
                packed.append(one)
            else:
                packed.append(cls(group, index, created_at(one, records[index])))
                index += 1
        return packed

    @property
    def record(self) -> dict[str, Any]:
        return self._group.record(self._index)

    def to_json(self) -> dict[str, Any]:
        return self.record
