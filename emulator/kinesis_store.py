"""A Kinesis shard's records in a file, not in the heap.

Kinesis keeps records 24 h. moto keeps each as a Python object in an ``OrderedDict``
(``Shard.records``); even deflated (``CompactKinesisRecord``) a fan-out record held 800
bytes of heap, a quarter of what the endpoint kept for good per click. ``ShardRecords`` is
that mapping (``{sequence number: record}``, ascending) with the records in an append-only
file and four numbers per record in arrays: sequence number, where its bytes are, their
length and its arrival time (28 bytes).

- Reads build a ``CompactKinesisRecord`` from the file: the pollers read a few hundred
  records a second near the tip, where the page cache has them.
- Sequence numbers ascend, so a lookup (``get``, ``from_seq``) and a timestamp search
  (``first_at_or_after``) are binary searches, and trimming the oldest is moving a start index.
  Arrival times ascend as the wall clock does: a clock stepped back makes the timestamp
  searches (AT_TIMESTAMP, the 24 h trim) inexact around the step, as moto's own are.
- Bytes once written never change (compaction writes a new file): the snapshotter's forked
  child reads what was there at the fork while this process goes on appending.

The file is an ``AppendFile`` (emulator/append_file.py): unlinked, it goes with the process.
"""

from __future__ import annotations

import base64
import bisect
import datetime
import struct
import threading
import time
from array import array
from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

from emulator.append_file import AppendFile, offset_of
from emulator.compression import deflate, inflate

#: Rewrite the file without the trimmed records' bytes once they outweigh the live ones and this many bytes.
COMPACT_MIN_DEAD_BYTES = 16 * 1024 * 1024
_HEADER = struct.Struct("<HH")  # partition key length, explicit hash key length (NO_HASH_KEY: none)
_NO_HASH_KEY = 0xFFFF


class CompactKinesisRecord:
    """moto's Kinesis ``Record`` (the attributes moto and our pollers read) in half its heap.

    The payload is kept deflated, not as base64 text: a fan-out record is a
    DynamoDB stream record's JSON, which compresses about threefold. ``data`` gives back the
    base64 text moto stored; AWS keeps the bytes, and so the answer is the same."""

    __slots__ = ("partition_key", "_packed", "sequence_number", "explicit_hash_key", "created_at")

    def __init__(self, partition_key: str, data: str, sequence_number: int, explicit_hash_key: str | None) -> None:
        self.partition_key = partition_key
        self._packed = deflate(base64.b64decode(data))
        self.sequence_number = sequence_number
        self.explicit_hash_key = explicit_hash_key
        self.created_at = time.time()

    @classmethod
    def stored(cls, partition_key: str, packed: bytes, sequence_number: int, explicit_hash_key: str | None,
               created_at: float) -> CompactKinesisRecord:
        """A record as it was kept (its payload already deflated)."""
        record = cls.__new__(cls)
        record.partition_key, record._packed, record.sequence_number = partition_key, packed, sequence_number
        record.explicit_hash_key, record.created_at = explicit_hash_key, created_at
        return record

    @property
    def data(self) -> str:
        return base64.b64encode(inflate(self._packed)).decode("ascii")

    @property
    def created_at_datetime(self) -> datetime.datetime:
        """Naive UTC, as moto's ``utcnow`` gives it."""
        return datetime.datetime.fromtimestamp(self.created_at, datetime.timezone.utc).replace(tzinfo=None)

    def to_json(self) -> dict[str, Any]:
        return {
            "Data": inflate(self._packed),
            "PartitionKey": self.partition_key,
            "SequenceNumber": str(self.sequence_number),
            "ApproximateArrivalTimestamp": self.created_at_datetime,
        }


def _encode(record: Any) -> bytes:
    """A record's partition key, explicit hash key and deflated payload, as stored."""
    packed = record._packed if isinstance(record, CompactKinesisRecord) else deflate(base64.b64decode(record.data))
    key = record.partition_key.encode()
    hash_key = b"" if record.explicit_hash_key is None else str(record.explicit_hash_key).encode()
    return _HEADER.pack(len(key), _NO_HASH_KEY if record.explicit_hash_key is None else len(hash_key)) + key + hash_key + packed


def _decode(blob: bytes, sequence_number: int, created_at: float) -> CompactKinesisRecord:
    key_length, hash_length = _HEADER.unpack_from(blob)
    start = _HEADER.size
    key = blob[start : start + key_length].decode()
    start += key_length
    hash_key = None
    if hash_length != _NO_HASH_KEY:
        hash_key = blob[start : start + hash_length].decode()
        start += hash_length
    return CompactKinesisRecord.stored(key, blob[start:], sequence_number, hash_key, created_at)


class ShardRecords(MutableMapping[int, CompactKinesisRecord]):
    """``{sequence number: record}`` of one shard, ascending, the records in a file."""

    def __init__(self, rows: Iterable[tuple[int, float, bytes]] = ()) -> None:
        self._lock = threading.RLock()  # moto's callers hold the adapter's lock; this guards direct use
        self._load(rows)

    @classmethod
    def holding(cls, records: dict[int, Any]) -> ShardRecords:
        """A store holding moto's ``{sequence number: record}`` (a shard restored from an older snapshot)."""
        return cls([(seq, record.created_at, _encode(record)) for seq, record in records.items()])

    def _load(self, rows: Iterable[tuple[int, float, bytes]]) -> None:
        """A new file holding ``rows`` (ascending); the old file, if any, is left as it was."""
        self._file = AppendFile("emulator-kinesis-")
        self._dead = 0  # bytes of records trimmed or replaced
        self._seqs = array("q")
        self._offsets = array("q")
        self._lengths = array("i")  # -1: deleted (a record taken out of the middle)
        self._created = array("d")  # arrival times: ascending as the clock is
        self._start = 0  # entries before it are trimmed
        self._count = 0
        for seq, created_at, blob in rows:
            self._append(seq, created_at, blob)

    # -- the mapping -------------------------------------------------------------------
    def _find(self, seq: int) -> int | None:
        index = bisect.bisect_left(self._seqs, seq, self._start)
        if index < len(self._seqs) and self._seqs[index] == seq and self._lengths[index] >= 0:
            return index
        return None

    def __getitem__(self, seq: int) -> CompactKinesisRecord:
        with self._lock:
            index = self._find(seq)
            if index is None:
                raise KeyError(seq)
            return self._record(index)

    def __setitem__(self, seq: int, record: Any) -> None:
        blob = _encode(record)
        with self._lock:
            if len(self._seqs) == self._start or seq > self._seqs[-1]:
                self._append(seq, record.created_at, blob)
                return
            index = bisect.bisect_left(self._seqs, seq, self._start)  # moto never writes into the past
            offset = self._write(blob)
            if index < len(self._seqs) and self._seqs[index] == seq:
                if self._lengths[index] >= 0:
                    self._dead += self._lengths[index]
                else:
                    self._count += 1
                self._offsets[index], self._lengths[index], self._created[index] = offset, len(blob), record.created_at
            else:
                for column, value in ((self._seqs, seq), (self._offsets, offset), (self._lengths, len(blob)),
                                      (self._created, record.created_at)):
                    column.insert(index, value)
                self._count += 1

    def __delitem__(self, seq: int) -> None:
        with self._lock:
            index = self._find(seq)
            if index is None:
                raise KeyError(seq)
            self._dead += self._lengths[index]
            self._lengths[index] = -1
            self._count -= 1
            while self._start < len(self._seqs) and self._lengths[self._start] < 0:
                self._start += 1
            self._tidy()

    def __contains__(self, seq: object) -> bool:
        return isinstance(seq, int) and self._find(seq) is not None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        """Lazily, so that ``next(iter(records))`` (moto's first record) is one step."""
        index = self._start
        while index < len(self._seqs):
            if self._lengths[index] >= 0:
                yield self._seqs[index]
            index += 1

    def __reversed__(self) -> Iterator[int]:
        index = len(self._seqs) - 1
        while index >= self._start:
            if self._lengths[index] >= 0:
                yield self._seqs[index]
            index -= 1

    def clear(self) -> None:
        with self._lock:
            old = self._file
            self._load(())
            old.close()  # not truncated: a forked snapshotter may still be reading it

    # -- what moto and the pollers ask, without reading every record -------------------
    def from_seq(self, seq: int, limit: int) -> list[CompactKinesisRecord]:
        """Up to ``limit`` records with a sequence number of at least ``seq``."""
        with self._lock:
            index = bisect.bisect_left(self._seqs, seq, self._start)
            found: list[CompactKinesisRecord] = []
            while index < len(self._seqs) and len(found) < limit:
                if self._lengths[index] >= 0:
                    found.append(self._record(index))
                index += 1
            return found

    def first_at_or_after(self, timestamp: float) -> int | None:
        """The sequence number of the first record that arrived at or after ``timestamp``."""
        with self._lock:
            index = bisect.bisect_left(self._created, timestamp, self._start)
            while index < len(self._seqs) and self._lengths[index] < 0:
                index += 1
            return self._seqs[index] if index < len(self._seqs) else None

    def last_before(self, timestamp: float) -> int | None:
        """The sequence number of the last record that arrived before ``timestamp``."""
        with self._lock:
            index = bisect.bisect_left(self._created, timestamp, self._start) - 1
            while index >= self._start and self._lengths[index] < 0:
                index -= 1
            return self._seqs[index] if index >= self._start else None

    def drop_older_than(self, timestamp: float) -> int:
        """Trim the records that arrived before ``timestamp``; returns how many went."""
        with self._lock:
            end = bisect.bisect_left(self._created, timestamp, self._start)
            dropped = 0
            for index in range(self._start, end):
                if self._lengths[index] >= 0:
                    self._dead += self._lengths[index]
                    dropped += 1
            self._start, self._count = max(self._start, end), self._count - dropped
            self._tidy()
            return dropped

    def last_created_at(self) -> float | None:
        with self._lock:
            return self._created[-1] if len(self._seqs) > self._start else None

    # -- the file ----------------------------------------------------------------------
    def _record(self, index: int) -> CompactKinesisRecord:
        blob = self._file.read_at(self._offsets[index], self._lengths[index])
        return _decode(blob, self._seqs[index], self._created[index])

    def _write(self, blob: bytes) -> int:
        return offset_of(self._file.append(blob))

    def _append(self, seq: int, created_at: float, blob: bytes) -> None:
        self._offsets.append(self._write(blob))
        self._seqs.append(seq)
        self._lengths.append(len(blob))
        self._created.append(created_at)
        self._count += 1

    def _tidy(self) -> None:
        """Forget trimmed entries from the arrays, and trimmed bytes from the file, once they outweigh the rest."""
        if self._start and self._start * 2 > len(self._seqs):
            for column in (self._seqs, self._offsets, self._lengths, self._created):
                del column[: self._start]
            self._start = 0
        if self._dead > COMPACT_MIN_DEAD_BYTES and self._dead > self._file.end - self._dead:
            old = self._file
            self._load(self.rows())
            old.close()  # never changed: a forked snapshotter still reading its copy reads what it had

    def rows(self) -> list[tuple[int, float, bytes]]:
        """Every record's sequence number, arrival and stored bytes; reads only (a forked snapshotter calls it)."""
        with self._lock:
            return [(self._seqs[i], self._created[i], self._file.read_at(self._offsets[i], self._lengths[i]))
                    for i in range(self._start, len(self._seqs)) if self._lengths[i] >= 0]

    def __reduce__(self) -> tuple[Any, ...]:
        return ShardRecords, (self.rows(),)

    def __deepcopy__(self, memo: dict[int, Any]) -> ShardRecords:
        return ShardRecords(self.rows())
