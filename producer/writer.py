"""Writes a run's operations to the table: batched puts, single updates and deletes.

Retry policy (the client itself is built with ``max_attempts=1``, so botocore
never re-sends a write behind our back):

* throttling, refused connections and ``UnprocessedItems`` were certainly not
  applied: retried for every kind of write, with capped exponential backoff and
  full jitter;
* a lost response (timeout, connection closed, HTTP 5xx) may have been applied:
  only puts are retried (the same full item again is idempotent); an update or
  delete in that state is reported failed rather than risk a second stream record.

Updates and deletes are conditional on the item existing, so they never upsert a
ghost item (moto emits two INSERTs for an upsert) or emit nothing silently.
Per item the order put < update < delete holds: an update or delete whose put
still waits in the batch buffer flushes the buffer first; other items' follow-ups
go out at once and let the batch fill.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bootstrap.topology import TABLE_KEY, TTL_ATTRIBUTE
from producer.errors import (
    ProducerError,
    error_code,
    is_connect_failure,
    is_throttle,
    is_transport_failure,
)
from producer.events import Click
from producer.plan import Op, OpKind

#: DynamoDB's limit for one BatchWriteItem call.
MAX_BATCH = 25
#: Errors that stop the run: nothing else can succeed either.
_FATAL_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "AccessDeniedException",
    }
)


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one operation."""

    op: Op
    ok: bool
    error: str = ""


@dataclass
class WriterStats:
    requests: int = 0
    batches: int = 0
    retries: int = 0


def click_item(
    click: Click,
    *,
    run_id: str,
    ts_ms: int,
    ttl_seconds: int,
    table_key: str = TABLE_KEY,
    ttl_attribute: str = TTL_ATTRIBUTE,
) -> dict[str, Any]:
    """The DynamoDB item of a click (docs/data-contracts.md: Click item).

    The key and TTL attribute names are the topology's (``topology.table_key``,
    ``topology.ttl_attribute``), never spelled out here.
    """
    return {
        table_key: {"S": click.uuid},
        "user": {"S": click.user},
        "action": {"S": click.action},
        "page": {"S": click.page},
        "session": {"S": click.session},
        "ts": {"N": str(ts_ms)},
        ttl_attribute: {"N": str(ts_ms // 1000 + ttl_seconds)},
        "run_id": {"S": run_id},
    }


class FatalWriteError(ProducerError):
    """Carries the botocore error that makes further writes pointless (mapped by the caller).

    ``in_flight``: the operations of the request that met it, never reported to
    ``on_result``; ``maybe_applied``: whether an earlier attempt of that request lost its
    answer (so the table may hold them: their outcome is unknown) or every attempt was
    refused before reaching the endpoint (certainly not written).
    """

    def __init__(self, cause: BaseException, in_flight: list[Op] | None = None, maybe_applied: bool = True) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.in_flight = list(in_flight or [])
        self.maybe_applied = maybe_applied


@dataclass
class ClickWriter:
    """Buffers puts into batches of ``batch_size`` (1 = put_item) and reports every outcome.

    ``table_key``/``ttl_attribute`` default to bootstrap/topology.py's; a caller
    holding the run's Topology passes ``topology.table_key``/``topology.ttl_attribute``.
    """

    client: Any
    table: str
    run_id: str
    ttl_seconds: int
    on_result: Callable[[WriteResult], None]
    batch_size: int = MAX_BATCH
    max_batch_delay: float = 0.25
    table_key: str = TABLE_KEY
    ttl_attribute: str = TTL_ATTRIBUTE
    max_attempts: int = 8
    backoff_base: float = 0.05
    backoff_cap: float = 2.0
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    stats: WriterStats = field(default_factory=WriterStats)
    _buffer: list[Op] = field(default_factory=list)
    _buffered: set[str] = field(default_factory=set)
    _buffer_since: float = 0.0
    _jitter: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")

    # --- public -------------------------------------------------------------------
    def submit(self, op: Op) -> None:
        """Write ``op`` now (update/delete, single puts) or buffer it (batched puts)."""
        if op.kind is OpKind.PUT and self.batch_size > 1:
            if not self._buffer:
                self._buffer_since = time.monotonic()
            self._buffer.append(op)
            self._buffered.add(op.click.uuid)
        else:
            if op.click.uuid in self._buffered:
                self.flush()  # per item: the put lands before its update/delete
            {OpKind.PUT: self._put, OpKind.UPDATE: self._update}.get(op.kind, self._delete)(op)
        if self._buffer and (
            len(self._buffer) >= self.batch_size
            or time.monotonic() - self._buffer_since >= self.max_batch_delay
        ):
            self.flush()

    def is_buffered(self, uuid: str) -> bool:
        """True while the put of ``uuid`` waits in the batch buffer (its outcome is unknown)."""
        return uuid in self._buffered

    def flush(self) -> None:
        """Send buffered puts (retrying unprocessed items) and report their outcomes."""
        if not self._buffer:
            return
        ops, self._buffer = self._buffer, []
        self._buffered.clear()
        ts = self._now_ms()
        pending = {op.click.uuid: (op, self._item(op.click, ts)) for op in ops}
        attempt = 0
        lost = False  # an attempt's answer was lost: it may have been applied
        while pending:
            requests = [{"PutRequest": {"Item": item}} for _, item in pending.values()]
            try:
                self.stats.batches += 1
                response = self._call("batch_write_item", RequestItems={self.table: requests})
            except (BotoCoreError, ClientError) as error:
                lost = lost or not is_connect_failure(error)
                last_try = attempt + 1 >= self.max_attempts
                if last_try or not self._retryable(error, idempotent=True):
                    self._fail_all([op for op, _ in pending.values()], error, maybe_applied=lost)
                    return
            else:
                unprocessed = response.get("UnprocessedItems", {}).get(self.table, [])
                left = {r["PutRequest"]["Item"][self.table_key]["S"] for r in unprocessed}
                for key in [k for k in pending if k not in left]:
                    self.on_result(WriteResult(pending.pop(key)[0], ok=True))
                if not pending:
                    return
                if attempt + 1 >= self.max_attempts:
                    for op, _ in pending.values():
                        self.on_result(WriteResult(op, ok=False, error="unprocessed after retries"))
                    return
            self._backoff(attempt)
            attempt += 1

    # --- single operations -----------------------------------------------------------
    def _put(self, op: Op) -> None:
        item = self._item(op.click, self._now_ms())
        self._single(op, "put_item", idempotent=True, TableName=self.table, Item=item)

    def _update(self, op: Op) -> None:
        self._single(
            op,
            "update_item",
            idempotent=False,
            TableName=self.table,
            Key=self._key(op),
            UpdateExpression="SET #ts = :ts, #updated = :updated",
            ConditionExpression="attribute_exists(#key)",
            ExpressionAttributeNames={"#ts": "ts", "#updated": "updated", "#key": self.table_key},
            ExpressionAttributeValues={
                ":ts": {"N": str(self._now_ms())},
                ":updated": {"N": "1"},
            },
        )

    def _delete(self, op: Op) -> None:
        self._single(
            op,
            "delete_item",
            idempotent=False,
            TableName=self.table,
            Key=self._key(op),
            ConditionExpression="attribute_exists(#key)",
            ExpressionAttributeNames={"#key": self.table_key},
        )

    def _single(self, op: Op, method: str, *, idempotent: bool, **kwargs: Any) -> None:
        lost = False  # an attempt's answer was lost: it may have been applied
        for attempt in range(self.max_attempts):
            try:
                self._call(method, **kwargs)
            except (BotoCoreError, ClientError) as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    self.on_result(WriteResult(op, ok=False, error="item no longer exists"))
                    return
                lost = lost or not is_connect_failure(error)
                last_try = attempt + 1 >= self.max_attempts
                if last_try or not self._retryable(error, idempotent=idempotent):
                    self._fail_all([op], error, maybe_applied=lost)
                    return
                self._backoff(attempt)
            else:
                self.on_result(WriteResult(op, ok=True))
                return

    # --- helpers -------------------------------------------------------------------
    def _item(self, click: Click, ts_ms: int) -> dict[str, Any]:
        return click_item(
            click,
            run_id=self.run_id,
            ts_ms=ts_ms,
            ttl_seconds=self.ttl_seconds,
            table_key=self.table_key,
            ttl_attribute=self.ttl_attribute,
        )

    def _key(self, op: Op) -> dict[str, Any]:
        return {self.table_key: {"S": op.click.uuid}}

    def _call(self, method: str, **kwargs: Any) -> Any:
        self.stats.requests += 1
        return getattr(self.client, method)(**kwargs)

    def _retryable(self, error: BaseException, *, idempotent: bool) -> bool:
        if error_code(error) in _FATAL_CODES:
            raise FatalWriteError(error, maybe_applied=False) from error
        if is_throttle(error) or is_connect_failure(error):
            return True
        server_error = isinstance(error, ClientError) and (
            error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
        )
        return idempotent and (is_transport_failure(error) or server_error)

    def _fail_all(self, ops: list[Op], error: BaseException, *, maybe_applied: bool) -> None:
        if is_connect_failure(error):
            # The endpoint went away: every further write would fail the same way.
            raise FatalWriteError(error, ops, maybe_applied) from error
        message = f"{error_code(error) or type(error).__name__}: {error}"
        for op in ops:
            self.on_result(WriteResult(op, ok=False, error=message))

    def _backoff(self, attempt: int) -> None:
        self.stats.retries += 1
        self.sleep(self._jitter.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt)))

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)
