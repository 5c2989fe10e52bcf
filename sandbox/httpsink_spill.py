"""Old deliveries of the HTTP sink on disk: their trimmed rows as JSON lines in a file.

The sink must remember every key it recorded (idempotency) and list every delivery
(`sandbox verify`, `sandbox trace`), for as long as it runs. Kept as Python objects, an old
delivery's trimmed row took about 1 KB of heap (tracemalloc), a third of a megabyte a minute
at 50 writes/s. Here each is one line of JSON in an unlinked temporary file (it goes with the
process, however that ends), and the sink keeps only its key and where the line is.

Lines are only appended (a changed row is a new line), so listing every row is one read of
the file and a join of its lines, with no JSON parsed or written again.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

_LENGTH_BITS = 32  # a location is offset << 32 | length
_READ_CHUNK = 64 * 1024 * 1024


class Spill:
    """Append-only JSON lines; ``write`` gives a location that ``read`` takes."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="httpsink-", buffering=0)
        self._end = 0

    def write(self, row: dict[str, Any]) -> int:
        line = json.dumps(row, separators=(",", ":")).encode()
        if os.pwrite(self._file.fileno(), line, self._end) != len(line):
            raise OSError(f"short write of a delivery ({len(line)} bytes): is the temp dir's disk full?")
        location = self._end << _LENGTH_BITS | len(line)
        self._end += len(line)
        return location

    def read(self, location: int) -> dict[str, Any]:
        row: dict[str, Any] = json.loads(self.raw(location))
        return row

    def raw(self, location: int) -> bytes:
        return os.pread(self._file.fileno(), location & _LENGTH_MASK, location >> _LENGTH_BITS)

    def contents(self) -> bytes:
        """Every byte written so far (what ``slice`` cuts rows from)."""
        chunks, offset = [], 0
        while offset < self._end:  # one read(2) returns at most about 2 GiB
            chunk = os.pread(self._file.fileno(), min(self._end - offset, _READ_CHUNK), offset)
            if not chunk:
                raise OSError(f"the sink's spill file ended at {offset} bytes, not {self._end}")
            chunks.append(chunk)
            offset += len(chunk)
        return b"".join(chunks)

    @staticmethod
    def slice(contents: bytes, location: int) -> bytes:
        start = location >> _LENGTH_BITS
        return contents[start : start + (location & _LENGTH_MASK)]

    def clear(self) -> None:
        self._file.close()
        self._file = tempfile.TemporaryFile(prefix="httpsink-", buffering=0)
        self._end = 0

    def close(self) -> None:
        self._file.close()


_LENGTH_MASK = (1 << _LENGTH_BITS) - 1
