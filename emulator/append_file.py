"""An append-only, unlinked temporary file: where the emulator's stores (DynamoDB items,
Kinesis records) and the HTTP sink's old deliveries keep their data instead of the heap.

Append-only, because the snapshotter forks and pickles in the child while this process goes
on writing: bytes once written never change, so the child reads what was there at the fork
(a store that compacts writes a new file and closes the old one, never truncates it).
Unlinked, so the file goes with the process, however that ends. A ``location`` packs an
offset and a length in one int, for indexes that keep one number per entry.
"""

from __future__ import annotations

import os
import tempfile

_LENGTH_BITS = 32
_LENGTH_MASK = (1 << _LENGTH_BITS) - 1
#: One read(2) returns at most about 2 GiB: whole-file reads go in chunks of this.
_READ_CHUNK = 64 * 1024 * 1024


def length_of(location: int) -> int:
    return location & _LENGTH_MASK


def offset_of(location: int) -> int:
    return location >> _LENGTH_BITS


class AppendFile:
    """Bytes appended, read back by location; ``end`` is how many were written."""

    def __init__(self, prefix: str) -> None:
        self._file = tempfile.TemporaryFile(prefix=prefix, buffering=0)
        self.end = 0

    def append(self, data: bytes) -> int:
        """Write ``data`` after what is there; returns its location."""
        if len(data) > _LENGTH_MASK:
            raise ValueError(f"{len(data)} bytes do not fit one location (at most {_LENGTH_MASK})")
        if os.pwrite(self._file.fileno(), data, self.end) != len(data):
            raise OSError(f"short write of {len(data)} bytes to {self._file.name}: is the temp dir's disk full?")
        location = self.end << _LENGTH_BITS | len(data)
        self.end += len(data)
        return location

    def read(self, location: int) -> bytes:
        return self.read_at(offset_of(location), length_of(location))

    def read_at(self, offset: int, length: int) -> bytes:
        data = os.pread(self._file.fileno(), min(length, _READ_CHUNK), offset)
        if len(data) == length:
            return data  # one call: every read but a huge one
        chunks, done = [data], len(data)
        while done < length:
            if not chunks[-1]:
                raise OSError(f"{self._file.name} ended at {offset + done} bytes, not {offset + length}")
            chunks.append(os.pread(self._file.fileno(), min(length - done, _READ_CHUNK), offset + done))
            done += len(chunks[-1])
        return b"".join(chunks)

    def contents(self) -> bytes:
        """Every byte written so far."""
        return self.read_at(0, self.end)

    @staticmethod
    def cut(contents: bytes, location: int) -> bytes:
        """The bytes at ``location`` in what ``contents`` returned."""
        start = offset_of(location)
        return contents[start : start + length_of(location)]

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
