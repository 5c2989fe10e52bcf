"""The snapshot file: round trip, atomic replacement (also under SIGKILL), version and damage refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from emulator import moto_state, snapshot_file
from emulator.snapshot_file import FORMAT_VERSION, SnapshotError, read, read_header, write_atomic


def test_a_written_snapshot_reads_back_with_its_header(tmp_path: Path) -> None:
    path = tmp_path / "snap.bin"
    written = write_atomic(path, b"payload\nwith newlines", project_version="9.9", summary={"items": 3})
    header, payload = read(path)
    assert payload == b"payload\nwith newlines"
    assert header == written and header.summary == {"items": 3} and header.format_version == FORMAT_VERSION
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_a_failed_write_keeps_the_previous_snapshot_and_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "snap.bin"
    write_atomic(path, b"old", project_version="1", summary={})

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot_file.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_atomic(path, b"new" * 1000, project_version="1", summary={})
    monkeypatch.undo()
    assert read(path)[1] == b"old"
    assert list(tmp_path.iterdir()) == [path]


WRITER = """
import sys
from pathlib import Path
from emulator.snapshot_file import write_atomic
path, size = Path(sys.argv[1]), int(sys.argv[2])
print("go", flush=True)
n = 0
while True:
    n += 1
    write_atomic(path, bytes([n % 256]) * size, project_version="1", summary={"n": n})
"""


def test_sigkill_mid_write_leaves_a_whole_snapshot(tmp_path: Path) -> None:
    """A writer killed at arbitrary moments: the file is always one whole snapshot, never a torn mix."""
    path = tmp_path / "snap.bin"
    write_atomic(path, b"\x00" * 10, project_version="1", summary={"n": 0})
    for delay in (0.05, 0.11, 0.17, 0.23, 0.31):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(4_000_000)], stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None and writer.stdout.readline() == "go\n"
        threading.Event().wait(delay)  # kill at a different point of the write loop each time
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
        header, payload = read(path)  # raises if torn
        assert len(set(payload)) == 1 and len(payload) == header.payload_bytes


def _with_header(path: Path, **changes: object) -> None:
    header, _, payload = path.read_bytes().partition(b"\n")
    data = json.loads(header)
    data.update(changes)
    path.write_bytes(json.dumps(data).encode() + b"\n" + payload)


def test_another_format_version_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "snap.bin"
    write_atomic(path, b"x", project_version="0.0.1", summary={})
    _with_header(path, format_version=FORMAT_VERSION + 1)
    with pytest.raises(SnapshotError) as refused:
        read_header(path)
    assert f"format version {FORMAT_VERSION + 1}" in refused.value.message and "0.0.1" in refused.value.message
    assert "delete it to start fresh" in str(refused.value)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "damaged header"),
        (b"not json at all\n\x80\x04", "damaged header"),
        (b'{"some": "json"}\n', "damaged header"),
    ],
)
def test_a_file_that_is_no_snapshot_is_refused(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "snap.bin"
    path.write_bytes(content)
    with pytest.raises(SnapshotError, match=why):
        read(path)


def test_a_truncated_or_altered_payload_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "snap.bin"
    write_atomic(path, b"0123456789" * 100, project_version="1", summary={})
    whole = path.read_bytes()
    path.write_bytes(whole[:-10])
    with pytest.raises(SnapshotError, match="damaged"):
        read(path)
    path.write_bytes(whole[:-1] + b"X")
    with pytest.raises(SnapshotError, match="damaged"):
        read(path)


def test_locks_and_conditions_pickle_as_fresh_unlocked_ones() -> None:
    import pickle

    held = threading.Lock()
    held.acquire()
    state = {"lock": held, "rlock": threading.RLock(), "cond": threading.Condition(), "event": threading.Event()}
    back = pickle.loads(moto_state.dumps(state))
    assert back["lock"].acquire(blocking=False)
    with back["cond"]:
        back["cond"].notify_all()
    assert not back["event"].is_set()
