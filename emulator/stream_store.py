"""DynamoDB stream records every mapping has read, kept packed until retention drops them.

A stream record stays after every mapping read it: ``EMULATOR_STREAM_MIN_RETENTION_SECONDS``
(5 minutes) for other readers (``sandbox status``, the AWS CLI, a replay from TRIM_HORIZON).
As moto's ``StreamRecord``, one is about 3.7 KB of heap (nested dicts of its images), so
five minutes at 50 writes/s held about 55 MB, the largest store by far
(``make bench BENCH_ARGS="--only heap"``). Retention packs each record the readers passed
into a deflated pickle of its JSON shape; the records not yet read by every mapping, which
the pollers read, stay moto's objects, so the pipeline's path never unpacks anything.
"""

from __future__ import annotations

import pickle
from typing import Any

from emulator.compression import deflate, inflate


def created_at(stream_record: Any, record: dict[str, Any]) -> float:
    """When the stream record was written (epoch seconds): the time the emulator stamped it
    with, else moto's ApproximateCreationDateTime (a record restored from an older snapshot)."""
    return getattr(stream_record, "emu_created", 0.0) or record["dynamodb"]["ApproximateCreationDateTime"].timestamp()  # type: ignore[no-any-return]


class PackedStreamRecord:
    """A stream record as moto's ``StreamRecord`` answers (``record``, ``to_json()``), packed;
    each read gives a fresh copy of its dict."""

    __slots__ = ("_packed", "emu_created")

    def __init__(self, record: dict[str, Any], created: float) -> None:
        self._packed = deflate(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        self.emu_created = created

    @classmethod
    def of(cls, stream_record: Any) -> PackedStreamRecord:
        """``stream_record`` packed (moto's, or one packed already)."""
        if isinstance(stream_record, PackedStreamRecord):
            return stream_record
        record = stream_record.record
        return cls(record, created_at(stream_record, record))

    @property
    def record(self) -> dict[str, Any]:
        return pickle.loads(inflate(self._packed))  # type: ignore[no-any-return]

    def to_json(self) -> dict[str, Any]:
        return self.record
