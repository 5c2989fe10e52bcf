"""Reading a function's answer to a stream batch (pure functions, unit-tested alone).

With ``FunctionResponseTypes: ["ReportBatchItemFailures"]`` a handler returns
``{"batchItemFailures": [{"itemIdentifier": "<sequence number>"}]}``. AWS
checkpoints before the lowest failed sequence number and retries from there; an
empty list (or null, or an empty object) means success; anything malformed, or an
identifier that is not in the batch, fails the whole batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class BatchResult:
    """``retry_from`` is None on success, else the index in the batch to retry from."""

    retry_from: int | None

    @property
    def succeeded(self) -> bool:
        return self.retry_from is None


SUCCESS = BatchResult(None)
WHOLE_BATCH_FAILED = BatchResult(0)


def parse_batch_item_failures(payload: bytes, sequence_numbers: list[str]) -> BatchResult:
    """Interpret a successful invocation's payload under ReportBatchItemFailures."""
    try:
        body = json.loads(payload or b"null")
    except ValueError:
        return WHOLE_BATCH_FAILED
    if body is None or body == {}:
        return SUCCESS
    if not isinstance(body, dict):
        return WHOLE_BATCH_FAILED
    failures = body.get("batchItemFailures")
    if failures is None or failures == []:
        return SUCCESS
    if not isinstance(failures, list):
        return WHOLE_BATCH_FAILED
    positions = {seq: index for index, seq in enumerate(sequence_numbers)}
    lowest: int | None = None
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier == "" or identifier not in positions:
            return WHOLE_BATCH_FAILED
        index = positions[identifier]
        lowest = index if lowest is None else min(lowest, index)
    return BatchResult(lowest)
