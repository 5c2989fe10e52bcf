"""The HTTP sink's deliveries on disk: each row, whole, as a JSON line in a file.

The sink must remember every key it recorded (idempotency) and list every delivery
(`sandbox verify`, `sandbox trace`), for as long as it runs. Kept as Python objects, a row
took 1 KB of heap or more (tracemalloc), a third of a megabyte a minute at 50 writes/s.
Here each is one line of JSON in an ``AppendFile`` (emulator/append_file.py: unlinked, it
goes with the process), and the sink keeps only its key and where the line is.

Lines are only appended (a changed row is a new line), so listing every row is one read of
the file and a cut of its lines, with no JSON parsed or written again.
"""

from __future__ import annotations

import json
from typing import Any

from emulator.append_file import AppendFile

_PREFIX = "httpsink-"


class Spill:
    """Append-only JSON lines; ``write`` gives a location that ``read`` takes."""

    def __init__(self) -> None:
        self._file = AppendFile(_PREFIX)

    def write(self, row: dict[str, Any]) -> int:
        return self._file.append(json.dumps(row, separators=(",", ":")).encode())

    def read(self, location: int) -> dict[str, Any]:
        row: dict[str, Any] = json.loads(self._file.read(location))
        return row

    def contents(self) -> bytes:
        """Every byte written so far (what ``slice`` cuts rows from)."""
        return self._file.contents()

    slice = staticmethod(AppendFile.cut)

    def clear(self) -> None:
        self._file.close()
        self._file = AppendFile(_PREFIX)

    def close(self) -> None:
        self._file.close()
