"""A hash-key table's items in a file, not in the heap.

moto keeps every item as Python objects for good: 1,257 bytes of heap per click item
(``make bench BENCH_ARGS="--only heap"``), so a sandbox left running grows by a third of its
memory slope with the table alone. ``DiskItems`` is the mapping moto's ``Table.items`` is
for a table without a range key (``{hash key: Item}``), its items pickled in an append-only
file with an index in memory (the key's text and where its pickle is):

- **An in-place edit is never lost.** moto edits the ``Item`` that ``get_item`` handed out
  (``update_item``, transactions) and does not put it back. The most recently used items
  stay in memory as live objects (``HOT_ITEMS``, more than one request touches) and are
  written when they leave it, and only if their pickle changed. One request touches at most
  100 items (a transaction), and requests into moto run one at a time (the adapter's lock),
  so an item is never evicted between the read and the edit of one request.
- **Reading everything is a copy.** ``values()`` (a scan, a GSI query) gives the live objects
  and fresh copies of the rest, as moto only reads those.
- **Snapshots stay consistent.** The snapshotter forks and pickles in the child while this
  process goes on writing. Bytes once written are never changed (the file is only appended
  to; compaction writes a new file), so what the child reads is what was there at the fork.
- **TTL without a scan.** Each write of an item with a Number in the TTL attribute pushes it
  on a heap: the sweeper pops the items due (``expired``) instead of reading every item.

The file is an ``AppendFile`` (emulator/append_file.py): unlinked, it goes with the process.
"""

from __future__ import annotations

import copy
import heapq
import pickle
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, MutableMapping
from decimal import Decimal, InvalidOperation
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

from emulator.append_file import AppendFile, length_of

#: Live items kept in memory (the most recently used): above the 100 items one request may
#: touch (a transaction, a batch read), and about 350 KB of heap.
HOT_ITEMS = 256
#: Rewrite the file without its dead bytes once they outweigh the live ones and this many bytes.
COMPACT_MIN_DEAD_BYTES = 16 * 1024 * 1024
_PREFIX = "emulator-items-"


def key_text(value: DynamoType) -> str:
    """A hash key as text, equal exactly when moto's ``DynamoType`` keys are equal
    (numbers compare by value: ``1`` and ``1.0`` are one key)."""
    if value.type == "N":
        try:
            sign, digits, exponent = Decimal(value.value).as_tuple()
        except (InvalidOperation, TypeError, ValueError):
            return f"N{value.value!r}"
        if not isinstance(exponent, int) or not any(digits):
            return "N0" if isinstance(exponent, int) else f"N{value.value!r}"  # zero (any sign); NaN, Infinity
        while digits[-1] == 0:  # exact: Decimal.normalize() rounds to 28 digits, DynamoDB keeps 38
            digits, exponent = digits[:-1], exponent + 1
        return f"N{'-' if sign else ''}{''.join(map(str, digits))}E{exponent}"
    return f"{value.type}{value.value!r}"


def ttl_number(item: Item, attribute: str | None) -> float | None:
    """The item's TTL attribute as DynamoDB reads it: a Number, or nothing."""
    value = item.attrs.get(attribute) if attribute else None
    if value is None or value.type != "N":
        return None
    try:
        return float(value.value)
    except (TypeError, ValueError):
        return None


class _Hot:
    """A live item and the pickle it was read or last written as (None: never written)."""

    __slots__ = ("item", "written")

    def __init__(self, item: Item, written: bytes | None) -> None:
        self.item = item
        self.written = written


def _pickled(item: Item) -> bytes:
    """An item as stored: its attributes as a plain dict, the rest of its state beside them."""
    state = dict(item.__dict__)
    attrs = dict(state.pop("attrs"))
    return pickle.dumps((state, attrs), protocol=pickle.HIGHEST_PROTOCOL)


def _unpickled(body: bytes) -> Item:
    """An item back, the way moto's ``Item.__deepcopy__`` builds one: unpickling the
    ``LimitedSizeDict`` itself would check the item's size again for every attribute
    (O(n^2) per item: 220 us for a click, most of an update's cost)."""
    stored = pickle.loads(body)
    if isinstance(stored, Item):  # a row of 052f8b6 (a pickled Item), restored from its snapshot
        return stored
    state, attrs = stored
    item: Item = Item.__new__(Item)
    item.__dict__.update(state)
    limited = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(limited, attrs)  # dict's own update: no size check, the item passed it when written
    item.attrs = limited
    return item


class DiskItems(MutableMapping[DynamoType, Item]):
    """``{hash key: Item}`` in an append-only file; the most recently used items live in memory."""

    def __init__(self, rows: Iterable[tuple[str, bytes]] = (), ttl_attribute: str | None = None) -> None:
        self._file = AppendFile(_PREFIX)
        self._dead = 0  # bytes no key points at any more
        self._index: dict[str, int] = {}  # key text -> location of its newest pickle
        self._hot: OrderedDict[str, _Hot] = OrderedDict()
        self._ttl_attribute = ttl_attribute
        self._due: list[tuple[float, str, int]] = []  # heap of (ttl, key text, location it was read from)
        self._lock = threading.RLock()  # moto's callers hold the adapter's lock; this guards direct use
        for text, body in rows:
            self._store(text, body, None)

    @classmethod
    def holding(cls, items: dict[DynamoType, Item], ttl_attribute: str | None = None) -> DiskItems:
        """A store holding moto's ``{hash key: Item}`` (a table restored from an older snapshot)."""
        return cls([(key_text(key), _pickled(item)) for key, item in items.items()], ttl_attribute)

    # -- the mapping -------------------------------------------------------------------
    def __getitem__(self, key: DynamoType) -> Item:
        text = key_text(key)
        with self._lock:
            hot = self._hot.get(text)
            if hot is not None:
                self._hot.move_to_end(text)
                return hot.item
            location = self._index.get(text)
            if location is None:
                raise KeyError(key)
            body = self._read(location)
            item: Item = _unpickled(body)
            self._remember(text, _Hot(item, body))
            return item

    def __setitem__(self, key: DynamoType, item: Item) -> None:
        text = key_text(key)
        with self._lock:
            hot = self._hot.get(text)
            if hot is not None:
                hot.item = item
                self._hot.move_to_end(text)
            else:
                self._remember(text, _Hot(item, None))

    def __delitem__(self, key: DynamoType) -> None:
        text = key_text(key)
        with self._lock:
            hot = self._hot.pop(text, None)
            location = self._index.pop(text, None)
            if location is not None:
                self._dead += length_of(location)
                self._tidy()
            elif hot is None:
                raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, DynamoType):
            return False
        text = key_text(key)
        return text in self._hot or text in self._index

    def __len__(self) -> int:
        with self._lock:
            return len(self._index) + sum(1 for text in self._hot if text not in self._index)

    def __iter__(self) -> Iterator[DynamoType]:
        return iter([item.hash_key for item in self.values()])

    def values(self) -> list[Item]:  # type: ignore[override]
        """Every item: the live ones, and a copy of each of the others (for reading)."""
        with self._lock:
            return [hot.item for hot in self._hot.values()] + [
                _unpickled(self._read(location)) for text, location in self._index.items() if text not in self._hot
            ]

    def items(self) -> list[tuple[DynamoType, Item]]:  # type: ignore[override]
        return [(item.hash_key, item) for item in self.values()]

    def keys(self) -> list[DynamoType]:  # type: ignore[override]
        return [item.hash_key for item in self.values()]

    def clear(self) -> None:
        with self._lock:
            self._hot.clear()
            self._index.clear()
            self._due.clear()
            old, self._file = self._file, AppendFile(_PREFIX)
            old.close()  # not truncated: a forked snapshotter may still be reading it
            self._dead = 0

    # -- TTL ---------------------------------------------------------------------------
    def expired(self, attribute: str, now: float, limit: int) -> list[Item]:
        """Up to ``limit`` items whose ``attribute`` is a Number below ``now``, as live objects
        (deleting one of them deletes what is stored)."""
        with self._lock:
            if attribute != self._ttl_attribute:
                self._retag(attribute)
            found: dict[str, Item] = {
                text: hot.item for text, hot in self._hot.items()
                if (ttl := ttl_number(hot.item, attribute)) is not None and ttl < now
            }
            kept: list[tuple[float, str, int]] = []  # entries still valid: back on the heap after
            while self._due and self._due[0][0] < now and len(found) < limit:
                entry = heapq.heappop(self._due)
                _, text, location = entry
                if self._index.get(text) != location:
                    continue  # rewritten or deleted since: its newest write has its own entry
                kept.append(entry)  # dropped once the item is deleted (its location is gone)
                if text in self._hot or text in found:
                    continue  # a live object: decided by its attribute now, above
                body = self._read(location)
                hot = _Hot(_unpickled(body), body)
                self._remember(text, hot, tidy=False)  # a compaction now would move what ``kept`` points at
                found[text] = hot.item
            for entry in kept:
                heapq.heappush(self._due, entry)
            self._tidy()
            return list(found.values())[:limit]

    def _retag(self, attribute: str) -> None:
        """The TTL attribute is new or changed (UpdateTimeToLive): read it from every stored item."""
        self._ttl_attribute = attribute
        self._due = []
        for text, location in self._index.items():
            ttl = ttl_number(_unpickled(self._read(location)), attribute)
            if ttl is not None:
                self._due.append((ttl, text, location))
        heapq.heapify(self._due)

    # -- the file ----------------------------------------------------------------------
    def _remember(self, text: str, hot: _Hot, tidy: bool = True) -> None:
        self._hot[text] = hot
        while len(self._hot) > HOT_ITEMS:
            self._write(*self._hot.popitem(last=False))
        if tidy:
            self._tidy()

    def _write(self, text: str, hot: _Hot) -> None:
        """Store a live item if it changed since it was read or last written."""
        body = _pickled(hot.item)
        if body != hot.written:
            self._store(text, body, hot.item)
            hot.written = body

    def _store(self, text: str, body: bytes, item: Item | None) -> None:
        old = self._index.get(text)
        if old is not None:
            self._dead += length_of(old)
        location = self._file.append(body)
        self._index[text] = location
        if self._ttl_attribute is not None:
            ttl = ttl_number(item if item is not None else _unpickled(body), self._ttl_attribute)
            if ttl is not None:
                heapq.heappush(self._due, (ttl, text, location))

    def _tidy(self) -> None:
        """Compact the file once dead bytes outweigh the live ones; drop the TTL heap's stale
        entries (each write of an item pushes one) once they outnumber the items."""
        if self._dead > COMPACT_MIN_DEAD_BYTES and self._dead > self._file.end - self._dead:
            self._compact()
        elif len(self._due) > 2 * len(self._index) + 1_024:
            self._due = [entry for entry in self._due if self._index.get(entry[1]) == entry[2]]
            heapq.heapify(self._due)

    def _read(self, location: int) -> bytes:
        return self._file.read(location)

    def _compact(self) -> None:
        """Copy the live pickles to a new file. The old file is closed, never changed, so a
        snapshotter's forked child still reading it reads what it had at the fork."""
        new = AppendFile(_PREFIX)
        moved: dict[int, int] = {}
        for text, location in self._index.items():
            moved[location] = self._index[text] = new.append(self._read(location))
        self._file.close()
        self._file, self._dead = new, 0
        self._due = [(ttl, text, moved[loc]) for ttl, text, loc in self._due if loc in moved and self._index.get(text) == moved[loc]]
        heapq.heapify(self._due)

    def flush(self) -> None:
        """Write every live item that changed (they stay live)."""
        with self._lock:
            for text, hot in self._hot.items():
                self._write(text, hot)
            self._tidy()

    def rows(self) -> list[tuple[str, bytes]]:
        """Every item's key text and pickle; reads only (a forked snapshotter calls it)."""
        with self._lock:
            rows = [(text, _pickled(hot.item)) for text, hot in self._hot.items()]  # edited in place, maybe
            rows += [(text, self._read(location)) for text, location in self._index.items() if text not in self._hot]
            return rows

    def __reduce__(self) -> tuple[Any, ...]:
        return DiskItems, (self.rows(), self._ttl_attribute)

    def __deepcopy__(self, memo: dict[int, Any]) -> DiskItems:
        return DiskItems(self.rows(), self._ttl_attribute)

    def __copy__(self) -> DiskItems:
        return copy.deepcopy(self)

