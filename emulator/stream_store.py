"""DynamoDB stream records every mapping has read, kept packed until retention drops them.

A stream record stays after every mapping read it: ``EMULATOR_STREAM_MIN_RETENTION_SECONDS``
(5 minutes) for other readers (``sandbox status``, the AWS CLI, a replay from TRIM_HORIZON).
As moto's ``StreamRecord``, one is about 3.7 KB of heap (nested dicts of its images), so
five minutes at 50 writes/s held about 55 MB, the largest store by far
(``make bench BENCH_ARGS="--only heap"``). Retention packs the records the readers passed,
a run of them at a time (``pack``) into one deflated group of pickles of their JSON shape:
records of one table repeat their attribute names and shapes, so a group of 256 takes about
100 bytes a record where each deflated alone took 490. The records not yet read by every
mapping, which the pollers read, stay moto's objects, so the pipeline's path never unpacks
anything.
"""

from __future__ import annotations

import pickle
import zlib
from array import array
from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate
from typing import Any


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
        self._packed = zlib.compress(b"".join(pickles), 1)

    def record(self, index: int) -> dict[str, Any]:
        start = self._ends[index - 1] if index else 0
        return pickle.loads(_inflated(self)[start:self._ends[index]])  # type: ignore[no-any-return]


@lru_cache(maxsize=2)
def _inflated(group: _Group) -> bytes:
    """A reader reads a group's records one after another: it is inflated once for all of them."""
    return zlib.decompress(group._packed)


class PackedStreamRecord:
    """A stream record as moto's ``StreamRecord`` answers (``record``, ``to_json()``), packed
    in a group with its neighbours; each read gives a fresh copy of its dict."""

    __slots__ = ("_group", "_index", "emu_created")

    def __init__(self, group: _Group, index: int, created: float) -> None:
        self._group = group
        self._index = index
        self.emu_created = created

    @classmethod
    def pack(cls, stream_records: Sequence[Any]) -> list[Any]:
        """``stream_records`` with moto's packed together into one group (packed ones stay as they are)."""
        fresh = [one for one in stream_records if not isinstance(one, PackedStreamRecord)]
        if not fresh:
            return list(stream_records)
        records = [one.record for one in fresh]
        group = _Group(records)
        packed = iter([cls(group, index, created_at(one, record)) for index, (one, record) in enumerate(zip(fresh, records))])
        return [one if isinstance(one, PackedStreamRecord) else next(packed) for one in stream_records]

    @property
    def record(self) -> dict[str, Any]:
        return self._group.record(self._index)

    def to_json(self) -> dict[str, Any]:
        return self.record
