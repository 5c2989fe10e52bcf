"""Deployment packages: unpacking uploads and their AWS code hash."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any

from emulator.lambda_service.exceptions import InvalidParameterValue, InvalidZipFile


def code_sha256(data: bytes) -> str:
    """AWS's CodeSha256: base64 of the zip's SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def unpack(root: Path, name: str, code: dict[str, Any]) -> tuple[bytes, str]:
    """Decode and extract a ZipFile upload into a fresh directory under ``root``; refuse zip-slip."""
    blob = code.get("ZipFile")
    if not blob:
        raise InvalidParameterValue("The embedded emulator needs the code as ZipFile (S3 and image code are not supported).")
    try:
        data = base64.b64decode(blob, validate=True) if isinstance(blob, str) else bytes(blob)
    except (binascii.Error, TypeError, ValueError):
        raise InvalidParameterValue("Code.ZipFile must be the zip file, base64-encoded") from None
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InvalidZipFile("Could not unzip uploaded file. Please check your file, then try to upload again.")
    target = root / name / uuid.uuid4().hex  # unique per upload: no lock needed to unpack
    target.mkdir(parents=True)
    root = target.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            if not (root / member).resolve().is_relative_to(root):
                shutil.rmtree(target, ignore_errors=True)
                raise InvalidZipFile(f"Zip entry escapes the package: {member}")
        archive.extractall(target)
    return data, str(target)
