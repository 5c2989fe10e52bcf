"""The run manifest: every click id of a run, stored next to the data it explains.

It lives in the data-lake bucket, so any check (tests, ``sandbox status``, a human
with the AWS CLI) can reconcile the sinks against it on either backend. Lists hold
only writes that succeeded, so ``expected_stream_records`` is exact for the
producer's own writes (TTL expiry adds REMOVE records of its own on top).

Why append-only: a demo run lasts days and re-saves its manifest every few seconds;
re-uploading every id each time would cost O(n²). So a manifest is

* a small **header**, ``manifests/<run_id>.json``: run id, status, options, counts,
  ``expected_stream_records`` and how many parts hold the ids (re-written on every
  save; ``sandbox status`` reads only this);
* numbered **parts**, ``manifests/<run_id>/part-000001.json``, …: each holds the ids
  written since the previous part (``clicks``, ``updated``, ``deleted``, ``failed``).
  A part is written once and never changed; it is written before the header that
  counts it, so a reader never sees a header naming a part that does not exist.

The header's counts are live; the ids follow in the next part (at most
``PART_INTERVAL_S`` later while a run is going, and all of them when it ends).
:func:`load` reassembles the whole :class:`Manifest`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from bootstrap.clients import client
from bootstrap.settings import Settings
from producer.errors import ManifestNotFound, OptionsError, ProducerError, RunIdTaken, boundary, error_code
from producer.target import resolve_topology

PREFIX = "manifests/"
FORMAT_VERSION = 2
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: While a run goes on, its ids are written as a new part at least this often...
PART_INTERVAL_S = 60.0
#: ...or as soon as this many are waiting.
PART_MAX_IDS = 10_000
#: Parts read at once by :func:`load`.
LOAD_THREADS = 8
_LISTS = ("clicks", "updated", "deleted")


def check_run_id(run_id: str) -> str:
    """Run ids become S3 keys and attribute values: keep them short and plain."""
    if not RUN_ID_PATTERN.match(run_id):
        raise OptionsError(
            f"run id {run_id!r} is not valid", "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return run_id


def manifest_key(run_id: str) -> str:
    """The header's key (the manifest's name)."""
    return f"{PREFIX}{check_run_id(run_id)}.json"


def part_key(run_id: str, number: int) -> str:
    return f"{PREFIX}{check_run_id(run_id)}/part-{number:06d}.json"


@dataclass
class FailedOp:
    uuid: str
    op: str
    error: str


@dataclass
class Counts:
    clicks: int = 0
    updated: int = 0
    deleted: int = 0
    failed: int = 0

    @property
    def expected_stream_records(self) -> int:
        return self.clicks + self.updated + self.deleted


@dataclass
class ManifestHeader:
    """What ``manifests/<run_id>.json`` holds: everything but the ids."""

    run_id: str
    table: str
    seed: int
    status: str = "running"
    started_at: int = 0  # epoch ms
    finished_at: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)
    parts: int = 0
    #: Clicks put per action (the producer's own tally; what `sandbox query` is checked against).
    actions: dict[str, int] = field(default_factory=dict)

    @property
    def expected_stream_records(self) -> int:
        return self.counts.expected_stream_records

    def to_json(self) -> str:
        data = asdict(self)
        data["expected_stream_records"] = self.expected_stream_records
        return json.dumps({"version": FORMAT_VERSION, **data}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> ManifestHeader:
        """Parse a header; a format-1 manifest (one document with every id) works too."""
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManifestHeader:
        if data.get("version", 1) == 1:
            return Manifest.from_v1(data).header(parts=0)
        known = {"run_id", "table", "seed", "status", "started_at", "finished_at", "options", "parts", "actions"}
        return cls(**{k: v for k, v in data.items() if k in known}, counts=Counts(**data["counts"]))


@dataclass
class Manifest:
    """What a run wrote. ``status``: running, complete, interrupted or aborted."""

    run_id: str
    table: str
    seed: int
    status: str = "running"
    started_at: int = 0  # epoch ms
    finished_at: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    clicks: list[str] = field(default_factory=list)  # put, in write order
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[FailedOp] = field(default_factory=list)

    @property
    def expected_stream_records(self) -> int:
        """Stream records the producer's successful writes cause: puts + updates + deletes."""
        return len(self.clicks) + len(self.updated) + len(self.deleted)

    def expected_events(self) -> dict[str, list[str]]:
        """Per click id, the stream event names in the order they must arrive."""
        updated, deleted = set(self.updated), set(self.deleted)
        return {
            uuid: ["INSERT"]
            + (["MODIFY"] if uuid in updated else [])
            + (["REMOVE"] if uuid in deleted else [])
            for uuid in self.clicks
        }

    def header(self, parts: int) -> ManifestHeader:
        counts = Counts(len(self.clicks), len(self.updated), len(self.deleted), len(self.failed))
        return ManifestHeader(
            self.run_id, self.table, self.seed, self.status, self.started_at, self.finished_at,
            dict(self.options), counts, parts,
        )

    @classmethod
    def from_v1(cls, data: dict[str, Any]) -> Manifest:
        """A format-1 manifest (every id in one document, written before parts existed)."""
        data = {k: v for k, v in data.items() if k != "version"}
        data["failed"] = [FailedOp(**f) for f in data.get("failed", [])]
        return cls(**data)


class ManifestWriter:
    """Saves one run's manifest as it grows: new ids go to a new part, then the header.

    Memory stays bounded too: ids already stored in a part are not kept.
    """

    def __init__(
        self,
        settings: Settings,
        bucket: str,
        header: ManifestHeader,
        *,
        s3: Any = None,
        part_interval_s: float = PART_INTERVAL_S,
        part_max_ids: int = PART_MAX_IDS,
        clock: Callable[[], float] = time.monotonic,
        new_run: bool = False,
    ) -> None:
        """``new_run``: the first save creates the header only if no run has it (never overwrites one)."""
        self.settings, self.bucket, self.header = settings, bucket, header
        self._s3 = s3
        self._must_create = new_run
        self._part_interval, self._part_max = part_interval_s, part_max_ids
        self._clock = clock
        self._pending = Manifest(header.run_id, header.table, header.seed)
        #: Parts written since the last stored header: a reader cannot see their ids yet.
        self._uncovered: list[Manifest] = []
        self._last_part = clock()

    @property
    def counts(self) -> Counts:
        """Every id added so far (stored or pending)."""
        return self.header.counts

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{manifest_key(self.header.run_id)}"

    def add(self, kind: str, uuid: str, *, action: str | None = None) -> None:
        """Record a successful write: ``kind`` is clicks (put), updated or deleted; a put's
        ``action`` is tallied in the header's ``actions``."""
        if kind not in _LISTS:
            raise ValueError(f"unknown manifest list {kind!r}")
        getattr(self._pending, kind).append(uuid)
        setattr(self.header.counts, kind, getattr(self.header.counts, kind) + 1)
        if action is not None and kind == "clicks":
            self.header.actions[action] = self.header.actions.get(action, 0) + 1

    def add_failed(self, failed: FailedOp) -> None:
        self._pending.failed.append(failed)
        self.header.counts.failed += 1

    def save(self, *, final: bool = False) -> str:
        """Store the header, after a part with the pending ids when due (always when ``final``).

        Returns the header's s3:// URI.
        """
        pending = sum(len(getattr(self._pending, k)) for k in (*_LISTS, "failed"))
        due = final or pending >= self._part_max or self._clock() - self._last_part >= self._part_interval
        with boundary(self.settings, bucket=self.bucket):
            s3 = self._s3 = self._s3 or client("s3", self.settings)
            if pending and due:
                number = self.header.parts + 1
                body = {k: getattr(self._pending, k) for k in _LISTS}
                body["failed"] = [asdict(f) for f in self._pending.failed]
                _put(s3, self.bucket, part_key(self.header.run_id, number), json.dumps(body, separators=(",", ":")))
                self.header.parts = number
                self._uncovered.append(self._pending)
                self._pending = Manifest(self.header.run_id, self.header.table, self.header.seed)
            if due:
                self._last_part = self._clock()
            self._put_header(s3)
            self._uncovered.clear()
        return self.uri

    def unsaved(self) -> dict[str, list[str]]:
        """The ids of successful writes a reader of the stored manifest cannot see yet:
        pending ones and those in parts no stored header counts (after a failed save)."""
        unseen = [*self._uncovered, self._pending]
        return {kind: [uuid for part in unseen for uuid in getattr(part, kind)] for kind in _LISTS}

    def _put_header(self, s3: Any) -> None:
        key = manifest_key(self.header.run_id)
        if not self._must_create:
            _put(s3, self.bucket, key, self.header.to_json())
            return
        try:  # atomic: two runs started with the same id at once cannot both get it
            _put(s3, self.bucket, key, self.header.to_json(), IfNoneMatch="*")
        except ClientError as error:
            if error_code(error) not in _TAKEN_CODES:
                raise
            raise _taken(self.bucket, self.header.run_id) from None
        self._must_create = False


def _put(s3: Any, bucket: str, key: str, text: str, **conditions: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType="application/json", **conditions)


#: S3's answers to a conditional create of a key that exists (412), or is being created (409).
_TAKEN_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})


def _taken(bucket: str, run_id: str) -> RunIdTaken:
    return RunIdTaken(
        f"run id {run_id} is taken: s3://{bucket}/{manifest_key(run_id)} holds an earlier run",
        "pick another --run-id (or leave it out for a new one)",
    )


def require_new_run(settings: Settings, bucket: str, run_id: str, *, s3: Any = None) -> None:
    """Refuse a run id that already has a manifest, before anything is written.

    A second run with the same id would overwrite the first run's manifest, and with
    it the only record of which clicks that run wrote.
    """
    with boundary(settings, bucket=bucket):
        s3 = s3 or client("s3", settings)
        try:
            s3.head_object(Bucket=bucket, Key=manifest_key(run_id))
        except ClientError as error:
            if error_code(error) in ("404", "NoSuchKey", "NotFound"):
                return
            raise
    raise _taken(bucket, run_id)


def save(settings: Settings, bucket: str, manifest: Manifest, *, s3: Any = None) -> str:
    """Store a whole manifest at once (its ids as one part), replacing what the run had stored.

    Returns the header's s3:// URI. A running producer uses :class:`ManifestWriter` instead.
    """
    header = manifest.header(parts=0)
    header.counts = Counts()  # counted again as the ids are added
    writer = ManifestWriter(settings, bucket, header, s3=s3)
    for kind in _LISTS:
        for uuid in getattr(manifest, kind):
            writer.add(kind, uuid)
    for failed in manifest.failed:
        writer.add_failed(failed)
    return writer.save(final=True)


def load(
    settings: Settings, run_id: str, *, bucket: str | None = None, s3: Any = None
) -> Manifest:
    """Read a run's manifest (header and parts) from the data-lake bucket (the settings' by default)."""
    if bucket is None:
        bucket = resolve_topology(settings).data_lake_bucket  # one STS call
    with boundary(settings, bucket=bucket):
        s3 = s3 or client("s3", settings)
        raw = _get(s3, bucket, manifest_key(run_id))
        if raw is None:
            raise ManifestNotFound(
                f"no manifest for run {run_id} in s3://{bucket}/{PREFIX}",
                f"check the run id (`aws s3 ls s3://{bucket}/{PREFIX}` lists the runs)",
            )
        data = json.loads(raw)
        if data.get("version", 1) == 1:
            return Manifest.from_v1(data)
        header = ManifestHeader.from_dict(data)
        keys = [part_key(run_id, n) for n in range(1, header.parts + 1)]
        with ThreadPoolExecutor(max_workers=LOAD_THREADS) as pool:
            parts = list(pool.map(lambda key: _get(s3, bucket, key), keys))
    if any(part is None for part in parts):
        raise ProducerError(
            f"the manifest of run {run_id} is incomplete: a part is missing under s3://{bucket}/{PREFIX}{run_id}/",
            "parts are never deleted by the sandbox: use another run (or produce a new one)",
        )
    manifest = Manifest(
        header.run_id, header.table, header.seed, header.status, header.started_at,
        header.finished_at, header.options,
    )
    for part in (json.loads(raw_part) for raw_part in parts if raw_part is not None):
        for kind in _LISTS:
            getattr(manifest, kind).extend(part.get(kind, []))
        manifest.failed.extend(FailedOp(**f) for f in part.get("failed", []))
    return manifest


def _get(s3: Any, bucket: str, key: str) -> bytes | None:
    """The object's body, or None when there is no such key."""
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error_code(error) not in ("NoSuchKey", "404"):
            raise
        return None


def list_runs(settings: Settings, bucket: str, *, s3: Any = None) -> list[str]:
    """Run ids with a manifest, oldest first by the header's ``started_at``.

    Not by id: ``--run-id`` takes any name, so ids need not sort by time. Costs one
    listing plus one small read per run (the headers, in parallel; never the parts).
    """
    runs: list[str] = []
    with boundary(settings, bucket=bucket):
        s3 = s3 or client("s3", settings)
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=PREFIX, Delimiter="/"):
            runs += [
                o["Key"][len(PREFIX) : -len(".json")] for o in page.get("Contents", []) if o["Key"].endswith(".json")
            ]
        with ThreadPoolExecutor(max_workers=LOAD_THREADS) as pool:
            headers = list(pool.map(lambda run: _get(s3, bucket, f"{PREFIX}{run}.json"), runs))
    started = {run: _started_at(raw) for run, raw in zip(runs, headers, strict=True) if raw is not None}
    return sorted(started, key=lambda run: (started[run], run))


def latest(settings: Settings, bucket: str, *, s3: Any = None) -> str | None:
    """The id of the run that started last, or None when no run has a manifest."""
    runs = list_runs(settings, bucket, s3=s3)
    return runs[-1] if runs else None


def _started_at(raw: bytes) -> int:
    """A header's start time (epoch ms); 0 for one that cannot be read (listed, sorted first)."""
    try:
        return int(json.loads(raw).get("started_at") or 0)
    except (ValueError, TypeError, AttributeError):
        return 0


__all__ = [
    "Counts",
    "FailedOp",
    "Manifest",
    "ManifestHeader",
    "ManifestWriter",
    "check_run_id",
    "latest",
    "list_runs",
    "load",
    "manifest_key",
    "part_key",
    "require_new_run",
    "save",
]
