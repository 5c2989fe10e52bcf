"""A function log stream's events, the older ones packed: what moto keeps as ``LogStream.events``.

moto keeps each CloudWatch Logs event as an object: about 400 bytes of heap for a
120-character line (its attribute values, three ints, the string). A function writes
four lines per invocation (START, its own line, END, REPORT), so the function logs were
the largest store in ``make bench BENCH_ARGS="--only heap --heap 60"``: 1.7 KB per stream
record, up to ``EMULATOR_LOG_EVENTS_KEPT`` events per stream. Here the newest events stay
moto's objects and each older run of ``CHUNK_EVENTS`` is one deflated pickle (the lines of
an invocation repeat its request id, so they pack well), with its time range and size.

moto reads the events in four ways, all served here: ``len``/truth, iteration (oldest
first, each packed event a fresh ``LogEvent``), ``+=`` (PutLogEvents), and GetLogEvents and
FilterLogEvents over a time range, which ``moto_patches`` narrows to the chunks that overlap
it (``window``), so the live view's poll for the newest lines unpacks nothing it does not
answer with. StartQuery (Insights) and StartLiveTail iterate, so they unpack every chunk.
"""

from __future__ import annotations

import pickle
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from moto.logs.models import LogEvent

from emulator.compression import deflate_run, inflate_run

#: Events per packed chunk; at least this many, and under twice as many, stay objects.
CHUNK_EVENTS = 256

_Row = tuple[int, int, str, int]  # ingestion time, timestamp, message, event id


def _row(event: LogEvent) -> _Row:
    return (event.ingestion_time, event.timestamp, event.message, event.event_id)


def _event(row: _Row) -> LogEvent:
    event = LogEvent.__new__(LogEvent)  # no __init__: it would hand out a new event id
    event.ingestion_time, event.timestamp, event.message, event.event_id = row
    return event


class _Chunk:
    """``count`` events packed, oldest first; ``first``/``last`` bound their timestamps."""

    __slots__ = ("count", "first", "last", "size", "_packed")

    def __init__(self, rows: list[_Row]) -> None:
        self.count = len(rows)
        self.first = min(row[1] for row in rows)
        self.last = max(row[1] for row in rows)
        self.size = sum(len(row[2]) for row in rows)  # characters, as moto counts storedBytes
        self._packed = deflate_run(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))

    def rows(self) -> list[_Row]:
        return pickle.loads(inflate_run(self._packed))  # type: ignore[no-any-return]

    def overlaps(self, start: int | None, end: int | None) -> bool:
        return (not start or self.last >= start) and (not end or self.first <= end)


class PackedLogEvents:
    """The events of one log stream, oldest first; the oldest in chunks of ``CHUNK_EVENTS``."""

    def __init__(self, events: Iterable[LogEvent] = ()) -> None:
        self._chunks: deque[_Chunk] = deque()
        self._packed = 0  # events in chunks
        self._live: list[LogEvent] = []
        self += events

    def __len__(self) -> int:
        return self._packed + len(self._live)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self) -> Iterator[LogEvent]:
        for chunk in tuple(self._chunks):
            for row in chunk.rows():
                yield _event(row)
        yield from tuple(self._live)

    def __getitem__(self, index: int | slice) -> Any:
        """The newest events from the live ones; anything else reads everything (tests, tools)."""
        if isinstance(index, int) and -len(self._live) <= index < 0:
            return self._live[index]
        return list(self)[index]

    def __iadd__(self, events: Iterable[LogEvent]) -> PackedLogEvents:
        self._live.extend(events)
        while len(self._live) >= 2 * CHUNK_EVENTS:
            oldest, self._live = self._live[:CHUNK_EVENTS], self._live[CHUNK_EVENTS:]
            self._chunks.append(_Chunk([_row(event) for event in oldest]))
            self._packed += CHUNK_EVENTS
        return self

    def window(self, start: int | None, end: int | None) -> list[LogEvent]:
        """Every event of the chunks that overlap [start, end] (0 or None: open), and the live ones:
        a superset of the events in that range, oldest first, for moto's own filter to cut."""
        found = [_event(row) for chunk in self._chunks if chunk.overlaps(start, end) for row in chunk.rows()]
        return found + self._live

    def time_range(self) -> tuple[int, int] | None:
        """The first and last event timestamps, as moto's ``LogStream._update`` computes them."""
        if not self:
            return None
        firsts = [chunk.first for chunk in self._chunks] + [event.timestamp for event in self._live]
        lasts = [chunk.last for chunk in self._chunks] + [event.timestamp for event in self._live]
        return min(firsts), max(lasts)

    def drop_oldest(self, count: int) -> int:
        """Forget the ``count`` oldest events; returns the characters of their messages."""
        dropped = 0
        while count > 0 and self._chunks and self._chunks[0].count <= count:
            chunk = self._chunks.popleft()
            self._packed -= chunk.count
            count -= chunk.count
            dropped += chunk.size
        if count > 0 and self._chunks:  # part of a chunk: the rest is packed again
            rows = self._chunks.popleft().rows()
            self._packed -= len(rows)
            dropped += sum(len(row[2]) for row in rows[:count])
            self._chunks.appendleft(_Chunk(rows[count:]))
            self._packed += len(rows) - count
        elif count > 0:
            dropped += sum(len(event.message) for event in self._live[:count])
            del self._live[:count]
        return dropped


__all__ = ["CHUNK_EVENTS", "PackedLogEvents"]
