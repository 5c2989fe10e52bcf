"""Deployment packages: unpacking uploads and their AWS code hash.

Uploads are hostile until checked: the zip's declared sizes are summed before anything is
written (AWS's 250 MB unzipped quota; Python's zipfile never inflates an entry past its
declared size, so the sum bounds the disk used), entries may not leave the package, and a
corrupt archive is the client's error (InvalidZipFileException), never the server's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import shutil
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import Any

from emulator.lambda_service.exceptions import InvalidParameterValue, InvalidZipFile

#: AWS's quota for a function's unzipped deployment package (bytes).
MAX_UNZIPPED_SIZE = 262_144_000
UNREADABLE = "Could not unzip uploaded file. Please check your file, then try to upload again."


def code_sha256(data: bytes) -> str:
    """AWS's CodeSha256: base64 of the zip's SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _decode(code: dict[str, Any]) -> bytes:
    """The zip's bytes from Code.ZipFile: JSON carries it as base64 text, nothing else."""
    blob = code.get("ZipFile")
    if not blob:
        raise InvalidParameterValue("The embedded emulator needs the code as ZipFile (S3 and image code are not supported).")
    if not isinstance(blob, str):  # bytes(<a huge int>) would allocate that many bytes
        raise InvalidParameterValue("Code.ZipFile must be the zip file, base64-encoded")
    try:
        return base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameterValue("Code.ZipFile must be the zip file, base64-encoded") from None


def _check_members(archive: zipfile.ZipFile, root: Path) -> None:
    """Refuse a package that is too big unzipped or has an entry outside ``root``."""
    if sum(info.file_size for info in archive.infolist()) >= MAX_UNZIPPED_SIZE:
        raise InvalidParameterValue(f"Unzipped size must be smaller than {MAX_UNZIPPED_SIZE} bytes")
    for member in archive.namelist():
        if not (root / member).resolve().is_relative_to(root):
            raise InvalidZipFile(f"Zip entry escapes the package: {member}")


def unpack(root: Path, name: str, code: dict[str, Any]) -> tuple[bytes, str]:
    """Decode, check and extract a ZipFile upload into a fresh directory under ``root``."""
    data = _decode(code)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidZipFile(UNREADABLE) from None
    target = root / name / uuid.uuid4().hex  # unique per upload: no lock needed to unpack
    with archive:
        _check_members(archive, target.resolve())
        target.mkdir(parents=True)
        try:
            archive.extractall(target)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as error:
            # a bad CRC, truncated or unknown compression, an encrypted entry
            shutil.rmtree(target, ignore_errors=True)
            raise InvalidZipFile(f"{UNREADABLE} ({error})") from None
    return data, str(target)
