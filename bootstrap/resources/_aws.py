"""Small helpers shared by the resource modules (error codes, JSON policy normalisation)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from bootstrap.errors import error_code


def is_error(error: BaseException, *codes: str) -> bool:
    return isinstance(error, ClientError) and error_code(error) in codes


def canonical_json(document: Any) -> str:
    """Policy documents compare equal however AWS returns them (dict, JSON or URL-encoded JSON)."""
    if isinstance(document, str):
        text = document if document.lstrip().startswith("{") else unquote(document)
        document = json.loads(text)
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
