"""The snapshot file: one header line of JSON, then a pickled payload; written atomically.

Why this shape: the header (format version, project version, when, what) can be read
and checked without unpickling anything, so a snapshot from another format version is
refused before a single object of it is loaded, never half-loaded. The payload's length
and SHA-256 are in the header, so a truncated or damaged file is recognised as such.

Atomic: the file is written to a temp file in the same directory, fsynced, then
``os.replace``d over the old one (and the directory fsynced), so a SIGKILL or a power
cut mid-write leaves the previous snapshot or the new one, never a torn mix.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MAGIC = "emulator-snapshot"
#: Bump when the payload's layout changes (or moto's pickled classes do): old files are then refused.
FORMAT_VERSION = 1


class SnapshotError(Exception):
    """A snapshot exists but cannot be used: ``message`` says which file and why; str() adds the fix."""

    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        self.message = f"the saved state {path} {why}"
        super().__init__(f"{self.message}; delete it to start fresh")


@dataclass(frozen=True)
class Header:
    """What a snapshot says about itself (readable without unpickling the payload)."""

    format_version: int
    project_version: str
    created_at: float
    payload_bytes: int
    payload_sha256: str
    summary: dict[str, int] = field(default_factory=dict)  # e.g. {"tables": 1, "items": 300}
    magic: str = MAGIC


def write_atomic(path: Path, payload: bytes, *, project_version: str, summary: dict[str, int]) -> Header:
    """Write header + payload to ``path`` atomically (temp file, fsync, rename, fsync the dir)."""
    header = Header(
        format_version=FORMAT_VERSION,
        project_version=project_version,
        created_at=time.time(),
        payload_bytes=len(payload),
        payload_sha256=hashlib.sha256(payload).hexdigest(),
        summary=dict(summary),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named by hand, not with tempfile: a forked writer must take no lock another thread may have held.
    temp = path.parent / f".{path.name}.{os.getpid()}.{time.time_ns()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(json.dumps(asdict(header)).encode() + b"\n")
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return header


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_header(path: Path) -> Header:
    """The header of ``path``, checked (magic, format version); raises SnapshotError."""
    try:
        with path.open("rb") as source:
            line = source.readline(64 * 1024)
    except OSError as error:
        raise SnapshotError(path, f"cannot be read ({error.strerror or error})") from None
    try:
        data: dict[str, Any] = json.loads(line)
        header = Header(**data)
    except (ValueError, TypeError):
        raise SnapshotError(path, "is not a snapshot this sandbox wrote (damaged header)") from None
    if header.magic != MAGIC:
        raise SnapshotError(path, "is not a snapshot this sandbox wrote")
    if header.format_version != FORMAT_VERSION:
        raise SnapshotError(
            path,
            f"has format version {header.format_version} (written by version {header.project_version}); "
            f"this sandbox reads version {FORMAT_VERSION} only",
        )
    return header


def read(path: Path) -> tuple[Header, bytes]:
    """Header and payload of ``path``, with the payload's length and hash verified."""
    header = read_header(path)
    try:
        with path.open("rb") as source:
            source.readline(64 * 1024)
            payload = source.read()
    except OSError as error:
        raise SnapshotError(path, f"cannot be read ({error.strerror or error})") from None
    if len(payload) != header.payload_bytes or hashlib.sha256(payload).hexdigest() != header.payload_sha256:
        raise SnapshotError(path, f"is damaged (payload {len(payload)} of {header.payload_bytes} bytes, or its checksum differs)")
    return header, payload
