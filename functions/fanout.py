"""Fanout: every DynamoDB stream record into Kinesis (``KINESIS_STREAM_NAME``).

``PartitionKey`` is the item's key (``uuid``; one shard per item), ``Data`` the
compact JSON of the raw stream record exactly as received.

What is guaranteed about order, and why the batch is cut the way it is:

* Records are put in stream order, in chunks of at most 500 records / 5 MB that
  never hold two records of the same item. PutRecords does not order records within
  one call, and a retried subset lands after the rest of its call; with one record
  per item per call, and chunks sent one after another (each chunk's failed subset
  retried before the next chunk starts), every item's versions reach its shard in
  stream order.
* Only the failed subset is retried (bounded backoff); what succeeded is never
  re-sent by this invocation.
* What still fails is reported as batch item failures (DynamoDB SequenceNumbers, in
  stream order) together with every record of the later chunks, which are not sent
  at all: the mapping checkpoints before the earliest failed record and redelivers
  from there. Records of the failed chunk that did succeed come again with that
  redelivery; they are duplicates (consumers deduplicate by eventID), never reorders.
* Junk (not a stream record we can key, larger than a Kinesis record may be) fails
  on every retry, so it is rejected for good: logged with its SequenceNumber and
  eventID, skipped, never reported (reporting it would hold every later record back
  until the retries ran out, then send them all to the failure queue). The archive
  keeps its raw record. Only transient (Kinesis) failures stop the batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from botocore.exceptions import BotoCoreError, ClientError

from . import _aws, _retry
from ._batch import log_rejected, records_of
from ._config import KINESIS_STREAM_NAME, required
from ._stream import JunkRecord, item_key, validate

logger = Logger()
_aws.warm("kinesis")  # in the init phase: the first invocation finds it made

MAX_CHUNK_RECORDS = 500
MAX_CHUNK_BYTES = 5 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 2.0
#: Whole-call errors worth another try; anything else (missing stream, access) is not.
RETRYABLE_CALL_ERRORS = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "LimitExceededException",
     "InternalFailure", "InternalServerError", "ServiceUnavailable", "KMSThrottlingException"}
)


@dataclass(frozen=True)
class Entry:
    """One stream record as a PutRecords entry, named by its DynamoDB SequenceNumber."""

    sequence: str
    partition_key: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data) + len(self.partition_key.encode())


def to_entry(raw: dict[str, Any]) -> Entry:
    record = validate(raw)
    data = json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    entry = Entry(sequence=raw["dynamodb"]["SequenceNumber"], partition_key=item_key(record), data=data)
    if entry.size > MAX_RECORD_BYTES:
        raise JunkRecord(f"record {entry.sequence} is {entry.size} bytes, over Kinesis' 1 MiB limit")
    return entry


def chunks(entries: list[Entry]) -> list[list[Entry]]:
    """Consecutive runs within PutRecords' limits and with each item at most once."""
    result: list[list[Entry]] = []
    current: list[Entry] = []
    keys: set[str] = set()
    size = 0
    for entry in entries:
        full = len(current) == MAX_CHUNK_RECORDS or size + entry.size > MAX_CHUNK_BYTES
        if current and (full or entry.partition_key in keys):
            result.append(current)
            current, keys, size = [], set(), 0
        current.append(entry)
        keys.add(entry.partition_key)
        size += entry.size
    if current:
        result.append(current)
    return result


def put_chunk(kinesis: Any, stream: str, chunk: list[Entry]) -> list[Entry]:
    """Put one chunk, retrying only its failed entries; returns those still failing."""
    pending = chunk
    waits = _retry.delays(MAX_ATTEMPTS, BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            response = kinesis.put_records(
                StreamName=stream,
                Records=[{"Data": e.data, "PartitionKey": e.partition_key} for e in pending],
            )
            results = response["Records"]
            if len(results) != len(pending):
                raise RuntimeError(f"PutRecords gave {len(results)} results for {len(pending)} records")
            pending = [e for e, result in zip(pending, results, strict=True) if result.get("ErrorCode")]
            if pending:
                codes = sorted({r["ErrorCode"] for r in results if r.get("ErrorCode")})
                logger.warning("put_records partial failure", extra={"failed": len(pending), "codes": codes})
        except (ClientError, BotoCoreError) as error:
            code = error.response["Error"].get("Code", "") if isinstance(error, ClientError) else ""
            logger.warning("put_records call failed", extra={"attempt": attempt, "error": str(error)})
            if isinstance(error, ClientError) and code not in RETRYABLE_CALL_ERRORS:
                return pending
        if not pending or attempt == MAX_ATTEMPTS:
            return pending
        _retry.sleep(next(waits))
    return pending


def _report(sequences: list[str]) -> PartialItemFailureResponse:
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in sequences]}


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Fan the batch out, skipping junk; report the earliest unsent records as batch item failures."""
    raws = records_of(event, lambda record: record["dynamodb"]["SequenceNumber"])
    entries: list[Entry] = []
    for raw in raws:
        try:
            entries.append(to_entry(raw))
        except JunkRecord as junk:
            log_rejected(logger, raw["dynamodb"]["SequenceNumber"], str(junk), event_id=raw.get("eventID"))
    if not entries:
        return _report([])

    stream = required(KINESIS_STREAM_NAME)
    kinesis = _aws.client("kinesis")
    runs = chunks(entries)
    for index, chunk in enumerate(runs):
        failed = put_chunk(kinesis, stream, chunk)
        if failed:
            later = [entry.sequence for run in runs[index + 1 :] for entry in run]
            failures = [entry.sequence for entry in failed] + later
            logger.error("records unsent after retries", extra={"earliest": failures[0], "count": len(failures)})
            return _report(failures)
    logger.info(
        "fanned out batch",
        extra={"records": len(entries), "rejected_records": len(raws) - len(entries), "calls": len(runs)},
    )
    return _report([])
