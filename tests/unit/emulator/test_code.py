"""Deployment packages are checked before anything is written: size, entry paths, corruption."""

from __future__ import annotations

import base64
import io
import struct
import zipfile
from pathlib import Path

import pytest

from emulator.lambda_service.code import MAX_UNZIPPED_SIZE, unpack
from emulator.lambda_service.exceptions import InvalidParameterValue, InvalidZipFile


def _zip(entries: dict[str, bytes], level: int = 6) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _code(data: bytes) -> dict[str, str]:
    return {"ZipFile": base64.b64encode(data).decode()}


def _claiming(data: bytes, size: int) -> bytes:
    """A one-entry zip whose headers claim ``size`` uncompressed bytes (a zip bomb's lie)."""
    patched = bytearray(data)
    struct.pack_into("<I", patched, 22, size)  # local file header: uncompressed size
    central = patched.rfind(b"PK\x01\x02")
    struct.pack_into("<I", patched, central + 24, size)  # central directory: uncompressed size
    return bytes(patched)


def test_a_good_package_is_unpacked(tmp_path: Path) -> None:
    data, directory = unpack(tmp_path, "fn", _code(_zip({"app.py": b"x = 1\n", "pkg/mod.py": b""})))
    assert (Path(directory) / "app.py").read_bytes() == b"x = 1\n"
    assert Path(directory).is_relative_to(tmp_path / "fn")
    assert data.startswith(b"PK")


def test_a_real_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    # 26 entries of 10 MiB zeros: 1.2 MB zipped, 272 MB unzipped (AWS's quota: 262,144,000 bytes)
    bomb = _zip({f"part{i}.bin": bytes(10 << 20) for i in range(26)}, level=1)
    with pytest.raises(InvalidParameterValue, match=f"Unzipped size must be smaller than {MAX_UNZIPPED_SIZE} bytes"):
        unpack(tmp_path, "fn", _code(bomb))
    assert list(tmp_path.rglob("*.bin")) == []


def test_a_zip_claiming_gigabytes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="Unzipped size"):
        unpack(tmp_path, "fn", _code(_claiming(_zip({"a.py": b"a" * 100}), 4_000_000_000)))
    assert not (tmp_path / "fn").exists()


@pytest.mark.parametrize("member", ["../escape.py", "pkg/../../escape.py", "/etc/escape.py"])
def test_entries_outside_the_package_are_refused(tmp_path: Path, member: str) -> None:
    with pytest.raises(InvalidZipFile, match="escapes the package"):
        unpack(tmp_path / "root", "fn", _code(_zip({"ok.py": b"", member: b"pwned"})))
    assert list(tmp_path.rglob("escape.py")) == []


def test_corrupt_data_is_an_invalid_zip_not_a_crash(tmp_path: Path) -> None:
    data = bytearray(_zip({"a.py": b"x" * 10_000}))
    data[40:60] = bytes(20)  # the deflate stream, after the local header
    with pytest.raises(InvalidZipFile, match="Could not unzip"):
        unpack(tmp_path, "fn", _code(bytes(data)))
    assert list((tmp_path / "fn").iterdir()) == []  # the half-written directory is gone


@pytest.mark.parametrize("blob", [10**12, [80, 75], {"a": 1}, True], ids=["huge int", "list", "map", "bool"])
def test_zipfile_must_be_base64_text(tmp_path: Path, blob: object) -> None:
    # bytes(10**12) would allocate a terabyte
    with pytest.raises(InvalidParameterValue, match="base64"):
        unpack(tmp_path, "fn", {"ZipFile": blob})


@pytest.mark.parametrize("data", [b"not a zip", b"PK\x03\x04garbage", _zip({"a.py": b"a" * 500})[:-30]],
                         ids=["text", "a bare header", "truncated"])
def test_not_a_zip(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(InvalidZipFile):
        unpack(tmp_path, "fn", _code(data))
