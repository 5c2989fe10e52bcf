"""A bucket's objects in a file, not in the heap.

moto keeps every S3 object as a ``FakeKey`` in memory for good: about 2 KB of heap each
even after emulator/moto_patches.py shrank it, most of what a running sandbox grows by
(``make bench BENCH_ARGS="--only heap"``). ``DiskKeys`` is moto's ``bucket.keys``
(``{name: [versions]}``, a ``dict`` subclass), with each version list that is not in use
pickled in an append-only file and the dict holding where (one int) in its place:

- **moto's dict semantics stay.** The names are the dict's own keys, so ``in``, ``len``,
  truth and iterating names cost what they did; a value is a live version list or the int
  location of its pickle, and every read of a value goes through ``__sgetitem__``.
- **An in-place edit is never lost.** moto edits the ``FakeKey`` it read (an ACL, a legal
  hold) without putting it back. The most recently used lists stay live (``HOT_KEYS``)
  and are written when they leave, only if their pickle changed. Requests into moto run one
  at a time (the adapter's lock), so a list is never evicted between a request's read and
  its edit, short of that request reading ``HOT_KEYS`` others in between (none does).
- **Reading everything is a copy.** ``items()``, ``values()``, ``lists()`` (a listing, a
  bucket's deletion) give the live lists and fresh copies of the rest, as moto only reads
  those; a listing's page loads only the names it returns (``names_under`` and ``copies``,
  used by the listing in moto_patches).
- **Snapshots stay consistent.** The file is only appended to (compaction writes a new
  one), so a forked snapshotter reads what was there at the fork.
"""

from __future__ import annotations

import copy
import pickle
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from moto.s3.utils import _VersionedKeyStore

from emulator.append_file import AppendFile, length_of

#: Live version lists kept in memory (the most recently used): a request reads one or two
#: (a put, a copy) and a batch delete up to 1,000, each once; about 2 KB of heap each.
HOT_KEYS = 64
#: Rewrite the file without its dead bytes once they outweigh the live ones and this many bytes.
COMPACT_MIN_DEAD_BYTES = 16 * 1024 * 1024
_PREFIX = "emulator-objects-"


def _pickled(versions: list[Any]) -> bytes:
    return pickle.dumps(versions, protocol=pickle.HIGHEST_PROTOCOL)


class DiskKeys(_VersionedKeyStore):
    """moto's ``{name: [versions]}``; lists not used lately are in a file (see the module docstring)."""

    def __init__(self, rows: Iterable[tuple[str, bytes]] = ()) -> None:
        super().__init__()
        self._file = AppendFile(_PREFIX)
        self._dead = 0  # bytes no name points at any more
        # names whose list is live, and where its pickle was when it was read (None: not stored)
        self._hot: OrderedDict[str, int | None] = OrderedDict()
        self._lock = threading.RLock()  # moto's callers hold the adapter's lock; this guards direct use
        for name, body in rows:
            dict.__setitem__(self, name, self._file.append(body))

    @classmethod
    def holding(cls, store: dict[str, Any]) -> DiskKeys:
        """A store holding moto's ``_VersionedKeyStore`` (a bucket restored from an older snapshot)."""
        return cls([(name, _pickled(list(versions))) for name, versions in dict.items(store)])

    # -- the one read path moto's methods share ------------------------------------------
    def __sgetitem__(self, key: str) -> list[Any]:
        with self._lock:
            value = dict.__getitem__(self, key)  # KeyError, as moto's
            if type(value) is not int:
                self._touch(key)
                return value  # type: ignore[no-any-return]
            versions: list[Any] = pickle.loads(self._file.read(value))
            dict.__setitem__(self, key, versions)
            self._remember(key, value)
            return versions

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            super().__setitem__(key, value)  # reads the list (live now), appends, sets
            self._touch(key)

    def setlist(self, key: Any, list_: Any) -> None:
        with self._lock:
            super().setlist(key, list_)  # disposes the versions it drops, sets
            self._touch(key)

    def pop(self, key: str) -> None:  # type: ignore[override]
        """moto's: the live versions are disposed; a stored list has nothing open to dispose."""
        with self._lock:
            value = dict.__getitem__(self, key)  # KeyError, as moto's
            if type(value) is not int:
                super().pop(key)  # disposes them, drops the name
            self._forget(key, value)

    def __delitem__(self, key: str) -> None:
        with self._lock:
            self._forget(key, dict.__getitem__(self, key))  # KeyError, as a dict's

    def clear(self) -> None:
        with self._lock:
            dict.clear(self)
            self._hot.clear()
            old, self._file = self._file, AppendFile(_PREFIX)
            old.close()  # not truncated: a forked snapshotter may still be reading it
            self._dead = 0

    # -- reading everything: copies, outside the live set -----------------------------------
    def _copy_of(self, value: Any) -> list[Any]:
        return pickle.loads(self._file.read(value)) if type(value) is int else value  # type: ignore[no-any-return]

    def _iterlists(self) -> list[tuple[str, list[Any]]]:  # type: ignore[override]
        with self._lock:
            return [(name, self._copy_of(value)) for name, value in dict.items(self)]

    def _iteritems(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return [(name, versions[-1]) for name, versions in self._iterlists()]

    def _itervalues(self) -> list[Any]:  # type: ignore[override]
        return [versions[-1] for _, versions in self._iterlists()]

    items = iteritems = _iteritems  # type: ignore[assignment]
    lists = iterlists = _iterlists  # type: ignore[assignment]
    values = itervalues = _itervalues  # type: ignore[assignment]

    def names_under(self, prefix: str, delimiter: str | None) -> tuple[list[str], set[str]]:
        """The names under ``prefix`` and the common prefixes ``delimiter`` folds them into,
        as moto's listing finds them, without reading any object."""
        names: list[str] = []
        folders: set[str] = set()
        with self._lock:
            for name in dict.keys(self):
                if not name.startswith(prefix):
                    continue
                rest = name[len(prefix):]
                if delimiter and delimiter in rest:
                    folders.add(prefix + rest.split(delimiter)[0] + delimiter)
                else:
                    names.append(name)
        return names, folders

    def copies(self, names: Iterable[str]) -> list[Any]:
        """The newest version of each name (copies of stored ones, for reading)."""
        with self._lock:
            return [self._copy_of(dict.__getitem__(self, name))[-1] for name in names]

    # -- the file --------------------------------------------------------------------------
    def _touch(self, key: str) -> None:
        if key in self._hot:
            self._hot.move_to_end(key)
        else:
            self._remember(key, None)

    def _remember(self, key: str, location: int | None) -> None:
        self._hot[key] = location
        while len(self._hot) > HOT_KEYS:
            oldest = next(iter(self._hot))
            self._write(oldest, self._hot[oldest])  # left live, and tracked, if this raises (disk full)
            del self._hot[oldest]
        self._tidy()

    def _write(self, key: str, read_from: int | None) -> None:
        """A list leaves the live set: stored again only if its pickle changed since it was read."""
        body = _pickled(dict.__getitem__(self, key))
        if read_from is not None:
            if self._file.read(read_from) == body:
                dict.__setitem__(self, key, read_from)
                return
            self._dead += length_of(read_from)
        dict.__setitem__(self, key, self._file.append(body))

    def _forget(self, key: str, value: Any) -> None:
        """The name is gone (or going): what it stored is dead bytes now."""
        dict.pop(self, key, None)
        read_from = self._hot.pop(key, None)
        stored = value if type(value) is int else read_from
        if stored is not None:
            self._dead += length_of(stored)
        self._tidy()

    def _tidy(self) -> None:
        """Copy the stored lists to a new file once dead bytes outweigh the live ones. The old
        file is closed, never changed: a snapshotter's forked child reads what it had."""
        if self._dead <= COMPACT_MIN_DEAD_BYTES or self._dead <= self._file.end - self._dead:
            return
        new = AppendFile(_PREFIX)
        for name, value in dict.items(self):
            if type(value) is int:
                dict.__setitem__(self, name, new.append(self._file.read(value)))
        for name, read_from in self._hot.items():
            if read_from is not None:
                self._hot[name] = new.append(self._file.read(read_from))
        self._file.close()
        self._file, self._dead = new, 0

    def rows(self) -> list[tuple[str, bytes]]:
        """Every name and its list's pickle; reads only (a forked snapshotter calls it)."""
        with self._lock:
            return [(name, self._file.read(value) if type(value) is int else _pickled(value))
                    for name, value in dict.items(self)]

    def __reduce__(self) -> tuple[Any, ...]:
        return DiskKeys, (self.rows(),)

    def __deepcopy__(self, memo: dict[int, Any]) -> DiskKeys:
        return DiskKeys(self.rows())

    def __copy__(self) -> DiskKeys:
        return copy.deepcopy(self)
