"""POST one JSON document with timeouts and bounded retries (stdlib urllib only:
the Lambda runtime has no ``requests`` and the zip stays pure Python).

Retried: connection errors, timeouts, 408, 429 (honouring a short Retry-After) and
5xx. Anything else non-2xx is permanent (e.g. 400 for junk): retrying cannot help.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from typing import Any

from . import _retry

BACKOFF_BASE_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 2.0
RETRYABLE_STATUS = frozenset({408, 429})


class DeliveryError(RuntimeError):
    """The document was not accepted; ``retryable`` says whether a later try might be."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = error.headers.get("Retry-After") if error.headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def post_json(url: str, document: Any, headers: dict[str, str], timeout: float, attempts: int,
              deadline: float) -> int:
    """POST ``document``; return the 2xx status or raise DeliveryError.

    ``deadline`` (a ``time.monotonic()`` value) bounds the whole exchange so the
    function returns its failure report before Lambda's own timeout would kill it.
    """
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    waits = _retry.delays(attempts, BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS)
    problem = "no attempt made"
    for attempt in range(1, attempts + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeliveryError(f"out of time after {attempt - 1} attempts ({problem})", retryable=True)
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
        )
        wait: float | None = None
        try:
            with urllib.request.urlopen(request, timeout=min(timeout, remaining)) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            error.close()
            problem = f"HTTP {error.code}"
            if error.code not in RETRYABLE_STATUS and error.code < 500:
                raise DeliveryError(f"sink refused the document: {problem}", retryable=False) from error
            wait = _retry_after(error) if error.code == 429 else None
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timeout, DNS
            problem = f"{type(error).__name__}: {error}"
        if attempt < attempts:
            step = next(waits)
            chosen = min(BACKOFF_CAP_SECONDS, wait) if wait is not None else step
            _retry.sleep(max(0.0, min(chosen, deadline - time.monotonic())))
    raise DeliveryError(f"gave up after {attempts} attempts ({problem})", retryable=True)
