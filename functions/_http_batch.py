"""Rows posted several per request: the HTTP sink's batch endpoint, seen from consumer B.

Why: one POST per row cost consumer B and the sink more CPU than the rest of consumer B's
work (a request's headers, parsing and answer per row, on both sides; docs/bench.md). A
lane's rows now go together, up to ``HTTP_BATCH_SIZE`` at a time.

The protocol (docs/http-sink.md): ``POST <HTTP_SINK_URL>/batch`` with
``{"records": [{"key": <Idempotency-Key>, "body": <row>}, ...]}``. The sink records them in
order, each once per key, and answers 200 when it holds them all. Any other answer means
only the leading ``"recorded"`` rows of its JSON body (0 when absent) are held: the next one
is the lane's failure, as if the rows had been posted one by one. A request larger than
``MAX_REQUEST_BYTES`` of rows is split (a larger row goes alone), so rows of DynamoDB's full
400 KB item size still fit the sink's 1 MiB body limit.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._batch import PartialDelivery
from ._http import DeliveryError, encode, post_bytes

BATCH_PATH = "batch"
#: Bytes one batch request carries at most (a larger row goes alone): half the sink's limit.
MAX_REQUEST_BYTES = 512 * 1024


def batch_url(url: str) -> str:
    """The batch endpoint next to a sink URL: ``…/deliveries`` -> ``…/deliveries/batch``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{BATCH_PATH}"))


def _requests(entries: list[bytes]) -> list[tuple[int, list[bytes]]]:
    """The encoded entries split into requests of at most MAX_REQUEST_BYTES: (first index, entries)."""
    requests: list[tuple[int, list[bytes]]] = []
    size = 0
    for index, entry in enumerate(entries):
        if not requests or size + len(entry) > MAX_REQUEST_BYTES:
            requests.append((index, []))
            size = 0
        requests[-1][1].append(entry)
        size += len(entry) + 1
    return requests


#: Answers meaning "no batch endpoint here": the sink is a webhook that takes single rows.
NO_BATCH_ENDPOINT = frozenset({404, 405})


def _answer(error: DeliveryError) -> dict[str, Any]:
    """The refusing sink's JSON answer ({} when it is none)."""
    try:
        answer = json.loads(error.answer or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _refusal(error: DeliveryError, answer: dict[str, Any], url: str) -> DeliveryError:
    """The refusal with what the sink said, and the fix when it has no batch endpoint."""
    said = answer.get("error")
    message = f"{error}: {str(said)[:200]}" if said else str(error)
    if error.status in NO_BATCH_ENDPOINT:
        message += (f"; {url} has no batch endpoint: redeploy with SANDBOX_HTTP_BATCH_SIZE=1 "
                    "for a sink that takes one row per POST")
    return DeliveryError(message, error.retryable, error.status, error.answer)


def _recorded(answer: dict[str, Any], sent: int) -> int:
    """How many leading rows a refusing sink says it holds (0 when it does not say)."""
    count = answer.get("recorded")
    if isinstance(count, bool) or not isinstance(count, int):
        return 0
    return max(0, min(count, sent))


def post_rows(url: str, rows: list[tuple[str, Any]], timeout: float, attempts: int, deadline: float) -> None:
    """POST ``(key, row)`` pairs to the batch endpoint ``url``, in order; raise ``PartialDelivery``
    with the count held when the sink does not take them all."""
    entries = [encode({"key": key, "body": row}) for key, row in rows]
    for first, chunk in _requests(entries):
        body = b'{"records":[' + b",".join(chunk) + b"]}"
        try:
            post_bytes(url, body, {}, timeout=timeout, attempts=attempts, deadline=deadline)
        except DeliveryError as error:
            answer = _answer(error)
            raise PartialDelivery(first + _recorded(answer, len(chunk)), _refusal(error, answer, url)) from error
        except Exception as error:  # noqa: BLE001 - the requests before this one were taken
            raise PartialDelivery(first, error) from error
