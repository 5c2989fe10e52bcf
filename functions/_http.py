"""POST one JSON document with timeouts and bounded retries (stdlib http.client only:
the Lambda runtime has no ``requests`` and the zip stays pure Python).

Connections are kept alive between records and invocations of a warm function (a
new TCP connection per record cost more than the POST itself), one set per thread:
consumer B posts its lanes from several threads, and an ``HTTPConnection`` is not
safe to share. A kept connection
the server has meanwhile closed is replaced at once, without counting as an attempt.

Retried: connection errors, timeouts, 408, 429 (honouring a short Retry-After) and
5xx. Anything else non-2xx is permanent (e.g. 400 for junk): retrying cannot help.

The in-function backoff is short (50 ms, doubling): a flaky sink that answers 503 at
once is best retried at once, and every wait here holds the record's lane. A sink
that stays down is the mapping's job: after the few attempts here the record goes
back as a batch item failure and the mapping's retry backoff spaces the next tries.
(A 200 ms base cost consumer B a p95 of ~2 s at a 30 % flaky sink, docs/chaos.md.)
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from . import _retry

BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 2.0
RETRYABLE_STATUS = frozenset({408, 429})


class DeliveryError(RuntimeError):
    """The document was not accepted; ``retryable`` says whether a later try might be.

    A refusal (a non-retryable answer) keeps the sink's ``status`` and ``answer`` body, so a
    caller can read what the sink said (a batch's count of recorded rows)."""

    def __init__(self, message: str, retryable: bool, status: int | None = None, answer: bytes = b"") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.answer = answer


_local = threading.local()


def _pool() -> dict[tuple[str, str, int], http.client.HTTPConnection]:
    """This thread's kept-alive connections."""
    pool = getattr(_local, "connections", None)
    if pool is None:
        pool = _local.connections = {}
    return pool


#: Errors that mean "a kept-alive connection was closed by the server meanwhile".
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _connection(url: str, timeout: float) -> tuple[tuple[str, str, int], http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    https = parts.scheme == "https"
    key = (parts.scheme, parts.hostname or "", parts.port or (443 if https else 80))
    connections = _pool()
    connection = connections.get(key)
    if connection is None:
        factory = http.client.HTTPSConnection if https else http.client.HTTPConnection
        connection = factory(key[1], key[2], timeout=timeout)
        connections[key] = connection
    connection.timeout = timeout
    if connection.sock is not None:
        connection.sock.settimeout(timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return key, connection, path


def _drop(key: tuple[str, str, int]) -> None:
    connection = _pool().pop(key, None)
    if connection is not None:
        connection.close()


def _exchange(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str | None, bytes]:
    """One POST on a kept-alive connection; returns (status, Retry-After, answer body)."""
    for fresh in (False, True):
        key, connection, path = _connection(url, timeout)
        reused = connection.sock is not None
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
        except _STALE:
            _drop(key)
            if reused and not fresh:
                continue  # the server closed the idle connection: one immediate retry
            raise
        except (OSError, http.client.HTTPException):
            _drop(key)
            raise
        if response.will_close:
            _drop(key)
        return response.status, response.getheader("Retry-After"), answer
    raise AssertionError("unreachable")


def post_json(url: str, document: Any, headers: dict[str, str], timeout: float, attempts: int,
              deadline: float) -> int:
    """POST ``document``; return the 2xx status or raise DeliveryError.

    ``deadline`` (a ``time.monotonic()`` value) bounds the whole exchange so the
    function returns its failure report before Lambda's own timeout would kill it.
    """
    return post_bytes(url, encode(document), headers, timeout, attempts, deadline)


def encode(document: Any) -> bytes:
    """A document as the compact UTF-8 JSON the sink is sent."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def post_bytes(url: str, body: bytes, headers: dict[str, str], timeout: float, attempts: int,
               deadline: float) -> int:
    """POST an encoded JSON ``body``, as ``post_json`` does."""
    waits = _retry.delays(attempts, BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS)
    problem = "no attempt made"
    for attempt in range(1, attempts + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeliveryError(f"out of time after {attempt - 1} attempts ({problem})", retryable=True)
        wait: float | None = None
        try:
            status, retry_after, answer = _exchange(
                url, body, {"Content-Type": "application/json", **headers}, min(timeout, remaining)
            )
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timeout, DNS
            problem = f"{type(error).__name__}: {error}"
        else:
            if 200 <= status < 300:
                return status
            problem = f"HTTP {status}"
            if status not in RETRYABLE_STATUS and status < 500:
                raise DeliveryError(f"sink refused the document: {problem}", retryable=False, status=status, answer=answer)
            wait = _retry_after(retry_after) if status == 429 else None
        if attempt < attempts:
            step = next(waits)
            chosen = min(BACKOFF_CAP_SECONDS, wait) if wait is not None else step
            _retry.sleep(max(0.0, min(chosen, deadline - time.monotonic())))
    raise DeliveryError(f"gave up after {attempts} attempts ({problem})", retryable=True)
