"""The one place that looks inside moto: patches and direct reads of its in-memory state.

A moto upgrade should touch this file only. Everything here runs under the
emulator's moto lock (moto is not thread-safe: its Kinesis loses records under
concurrent writes), which callers hold through ``MotoAdapter.lock``.

What is patched, and why (FACTS.md has the measurements):
- DynamoDB stream shards: moto invokes Lambda synchronously inside ``put_item``
  when a mapping exists and numbers records by list position, so trimming would
  reuse sequence numbers. Our ``add`` keeps a monotonic counter, never calls
  moto's Lambda, drops no-op MODIFYs and the keys-only INSERT of an update_item
  upsert (AWS emits neither), and signals pollers that data arrived.
- DynamoDB stream re-enabling: moto refuses to enable a stream once one was ever
  enabled and keeps writing to a disabled one; AWS allows a new stream after
  disabling (new ARN) and a disabled stream takes no records.
- Kinesis shards: moto finds the last sequence number by copying every key
  (O(n) per put); ours keeps a counter so sequence numbers stay monotonic after
  trimming and insertion is O(1).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
from moto.dynamodbstreams import models as streams_models
from moto.kinesis.models import KinesisBackend, Shard, kinesis_backends
from moto.logs.models import logs_backends

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

_listeners: list[Callable[[], None]] = []
_local = threading.local()
_patched = False


def _notify() -> None:
    for listener in list(_listeners):
        listener()


# --- DynamoDB stream shard patches -------------------------------------------------
def _next_seq(shard: StreamShard) -> int:
    if not hasattr(shard, "_emu_next_seq"):
        shard._emu_next_seq = shard.starting_sequence_number + len(shard.items)  # type: ignore[attr-defined]
        shard._emu_trimmed = 0  # type: ignore[attr-defined]
    return shard._emu_next_seq  # type: ignore[attr-defined]


def _shard_add(self: StreamShard, old: Any, new: Any) -> None:
    if getattr(_local, "skip_upsert_insert", False) and old is None:
        _local.skip_upsert_insert = False  # the keys-only put inside update_item
        return
    if old is not None and new is not None and old.to_json() == new.to_json():
        return  # AWS writes no stream record when nothing changed
    view_type = self.table.stream_specification["StreamViewType"]  # type: ignore[index]
    event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    seq = _next_seq(self)
    record = StreamRecord(self.table, view_type, event_name, old, new, seq)
    record.emu_created = time.time()  # type: ignore[attr-defined]
    self.items.append(record)
    self._emu_next_seq = seq + 1  # type: ignore[attr-defined]
    _notify()


def _shard_get(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
    _next_seq(self)
    index = max(0, start - self.starting_sequence_number - self._emu_trimmed)  # type: ignore[attr-defined]
    return [record.to_json() for record in self.items[index : index + quantity]]


_original_iterator_init = streams_models.ShardIterator.__init__


def _iterator_init(self: Any, backend: Any, shard: StreamShard, kind: str, seq: int | None = None) -> None:
    _original_iterator_init(self, backend, shard, kind, seq)
    if kind == "LATEST":
        self.sequence_number = _next_seq(shard)


def _update_table_streams(self: DynamoDBBackend, table: Table, specification: dict[str, Any]) -> None:
    """AWS refuses to enable a stream only while one is enabled; moto refuses forever after."""
    from moto.dynamodb.exceptions import StreamAlreadyEnabledException

    enabling = specification.get("StreamEnabled") or specification.get("StreamViewType")
    if enabling and (table.stream_specification or {}).get("StreamEnabled"):
        raise StreamAlreadyEnabledException
    table.set_stream_specification(specification)
    if not (table.stream_specification or {}).get("StreamEnabled"):
        table.stream_shard = None  # a disabled stream takes no more records


_original_update_item = DynamoDBBackend.update_item
_original_table_put = Table.put_item


def _update_item(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
    _local.in_update_item = True
    try:
        return _original_update_item(self, *args, **kwargs)
    finally:
        _local.in_update_item = False
        _local.skip_upsert_insert = False


def _table_put(self: Table, *args: Any, **kwargs: Any) -> Any:
    if getattr(_local, "in_update_item", False):
        _local.skip_upsert_insert = True  # update_item's own put of the bare key
        _local.in_update_item = False
    return _original_table_put(self, *args, **kwargs)


# --- Kinesis shard patches ---------------------------------------------------------
def _kinesis_last_seq(shard: Shard) -> int:
    if not hasattr(shard, "_emu_last_seq"):
        shard._emu_last_seq = next(reversed(shard.records)) if shard.records else 0  # type: ignore[attr-defined]
    return shard._emu_last_seq  # type: ignore[attr-defined]


def _kinesis_put(self: Shard, partition_key: str, data: str, explicit_hash_key: str) -> str:
    from moto.kinesis.models import Record

    seq = _kinesis_last_seq(self) + 1
    self.records[seq] = Record(partition_key, data, seq, explicit_hash_key)
    self._emu_last_seq = seq  # type: ignore[attr-defined]
    _notify()
    return str(seq)


def _kinesis_min_seq(self: Shard) -> int:
    return next(iter(self.records)) if self.records else 0


def _kinesis_max_seq(self: Shard) -> int:
    return _kinesis_last_seq(self)


def install_patches() -> None:
    """Patch moto once per process (idempotent)."""
    global _patched
    if _patched:
        return
    StreamShard.add = _shard_add  # type: ignore[method-assign]
    StreamShard.get = _shard_get  # type: ignore[method-assign]
    streams_models.ShardIterator.__init__ = _iterator_init  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]
    DynamoDBBackend.update_table_streams = _update_table_streams  # type: ignore[method-assign]
    Table.put_item = _table_put  # type: ignore[method-assign]
    Shard.put_record = _kinesis_put  # type: ignore[method-assign]
    Shard.get_min_sequence_number = _kinesis_min_seq  # type: ignore[method-assign]
    Shard.get_max_sequence_number = _kinesis_max_seq  # type: ignore[method-assign]
    _patched = True


# --- Read models handed to the rest of the emulator --------------------------------
@dataclass(frozen=True)
class StoredStreamRecord:
    """One DynamoDB stream record as moto stored it, plus where it came from."""

    sequence_number: int
    record: dict[str, Any]
    created: float  # epoch seconds


@dataclass(frozen=True)
class StoredKinesisRecord:
    sequence_number: int
    partition_key: str
    data_b64: str
    arrival: float  # epoch seconds


@dataclass(frozen=True)
class ArnParts:
    service: str
    region: str
    account: str
    resource: str


def parse_arn(arn: str) -> ArnParts | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[2] or not parts[5]:
        return None
    return ArnParts(service=parts[2], region=parts[3], account=parts[4], resource=parts[5])


class MotoAdapter:
    """Locked access to moto's in-memory DynamoDB, Kinesis and Logs state."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.lock = threading.RLock()
        install_patches()

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self.lock:
            yield

    @staticmethod
    def add_listener(listener: Callable[[], None]) -> None:
        _listeners.append(listener)

    @staticmethod
    def remove_listener(listener: Callable[[], None]) -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    # -- DynamoDB streams --
    def _dynamodb(self, account: str, region: str) -> DynamoDBBackend:
        return dynamodb_backends[account][region]

    def table_for_stream(self, stream_arn: str) -> Table | None:
        """The table whose *current* stream is ``stream_arn`` (a recreated table has a new one)."""
        parts = parse_arn(stream_arn)
        if parts is None or parts.service != "dynamodb" or "/stream/" not in parts.resource or not parts.region or parts.account != self.account_id:
            return None
        table_part, label = parts.resource.split("/stream/", 1)
        name = table_part.removeprefix("table/")
        with self.lock:
            table = self._dynamodb(parts.account, parts.region).tables.get(name)
            if table is None or table.stream_shard is None or table.latest_stream_label != label:
                return None
            return table

    def table_exists(self, account: str, region: str, name: str) -> bool:
        if account != self.account_id or not region:
            return False
        with self.lock:
            return name in self._dynamodb(account, region).tables

    def stream_shard_id(self, stream_arn: str) -> str | None:
        table = self.table_for_stream(stream_arn)
        return table.stream_shard.id if table and table.stream_shard else None

    def stream_bounds(self, stream_arn: str) -> tuple[int, int] | None:
        """(first retained sequence number, next sequence number) of the stream's shard."""
        table = self.table_for_stream(stream_arn)
        if table is None or table.stream_shard is None:
            return None
        with self.lock:
            shard = table.stream_shard
            nxt = _next_seq(shard)
            return nxt - len(shard.items), nxt

    def read_stream(self, stream_arn: str, from_seq: int, limit: int) -> list[StoredStreamRecord] | None:
        """Records with sequence number >= ``from_seq``; None when the stream is gone."""
        table = self.table_for_stream(stream_arn)
        if table is None or table.stream_shard is None:
            return None
        with self.lock:
            shard = table.stream_shard
            first = _next_seq(shard) - len(shard.items)
            index = max(0, from_seq - first)
            chosen = shard.items[index : index + limit]
            return [
                StoredStreamRecord(
                    sequence_number=int(r.record["dynamodb"]["SequenceNumber"]),
                    record=r.record,
                    created=getattr(r, "emu_created", 0.0)
                    or r.record["dynamodb"]["ApproximateCreationDateTime"].timestamp(),
                )
                for r in chosen
            ]

    def trim_stream(self, stream_arn: str, before_seq: int, read_before: float, older_than: float) -> int:
        """Drop records below ``before_seq`` created before ``read_before``, and any created before ``older_than``."""
        table = self.table_for_stream(stream_arn)
        if table is None or table.stream_shard is None:
            return 0
        with self.lock:
            shard = table.stream_shard
            items = shard.items
            first = _next_seq(shard) - len(items)
            read = max(0, min(before_seq - first, len(items)))
            count = 0
            while count < read and getattr(items[count], "emu_created", 0) < read_before:
                count += 1
            while count < len(items) and getattr(items[count], "emu_created", 0) < older_than:
                count += 1
            if count:
                del shard.items[:count]
                shard._emu_trimmed += count  # type: ignore[attr-defined]
            return count

    def stream_arns(self) -> list[str]:
        """Every current table stream ARN in every region of our account."""
        arns = []
        with self.lock:
            for region, backend in dynamodb_backends[self.account_id].items():
                for table in backend.tables.values():
                    if table.stream_shard is not None and table.latest_stream_label:
                        arns.append(f"{table.table_arn}/stream/{table.latest_stream_label}")
        return arns

    def sweep_expired(self, now: float) -> int:
        """Delete items whose TTL attribute (a Number) is in the past; tag their REMOVEs."""
        deleted = 0
        with self.lock:
            for backend in list(dynamodb_backends[self.account_id].values()):
                for table in list(backend.tables.values()):
                    ttl = table.ttl
                    attribute = ttl.get("AttributeName")
                    if ttl.get("TimeToLiveStatus") != "ENABLED" or not attribute:
                        continue
                    for item in list(table.all_items()):
                        value = item.attrs.get(attribute)
                        if value is None or value.type != "N":
                            continue  # AWS ignores non-number TTL values
                        try:
                            expires = float(value.value)
                        except ValueError:
                            continue
                        if expires >= now:
                            continue
                        before = len(table.stream_shard.items) if table.stream_shard else 0
                        table.delete_item(item.hash_key, item.range_key)
                        deleted += 1
                        shard = table.stream_shard
                        if shard is not None and len(shard.items) > before:
                            shard.items[-1].record["userIdentity"] = dict(TTL_IDENTITY)
        return deleted

    # -- Kinesis --
    def _kinesis_stream(self, stream_arn: str) -> Any | None:
        parts = parse_arn(stream_arn)
        if parts is None or parts.service != "kinesis" or not parts.resource.startswith("stream/") or not parts.region or parts.account != self.account_id:
            return None
        name = parts.resource.removeprefix("stream/")
        backend: KinesisBackend = kinesis_backends[parts.account][parts.region]
        with self.lock:
            return backend.streams.get(name)

    def kinesis_shard_ids(self, stream_arn: str) -> list[str] | None:
        stream = self._kinesis_stream(stream_arn)
        if stream is None:
            return None
        with self.lock:
            return sorted(sid for sid, shard in stream.shards.items() if shard.is_open)

    def kinesis_bounds(self, stream_arn: str, shard_id: str) -> tuple[int, int] | None:
        stream = self._kinesis_stream(stream_arn)
        if stream is None or shard_id not in stream.shards:
            return None
        with self.lock:
            shard = stream.shards[shard_id]
            return _kinesis_min_seq(shard) or _kinesis_last_seq(shard) + 1, _kinesis_last_seq(shard) + 1

    def kinesis_seq_at(self, stream_arn: str, shard_id: str, timestamp: float) -> int | None:
        """First sequence number that arrived at or after ``timestamp``."""
        stream = self._kinesis_stream(stream_arn)
        if stream is None or shard_id not in stream.shards:
            return None
        with self.lock:
            shard = stream.shards[shard_id]
            for seq, record in shard.records.items():
                if record.created_at >= timestamp:
                    return seq
            return _kinesis_last_seq(shard) + 1

    def read_kinesis(self, stream_arn: str, shard_id: str, from_seq: int, limit: int) -> list[StoredKinesisRecord] | None:
        stream = self._kinesis_stream(stream_arn)
        if stream is None or shard_id not in stream.shards:
            return None
        with self.lock:
            shard = stream.shards[shard_id]
            last = _kinesis_last_seq(shard)
            first = _kinesis_min_seq(shard)
            seq = max(from_seq, first) if first else from_seq
            out: list[StoredKinesisRecord] = []
            while seq <= last and len(out) < limit:
                record = shard.records.get(seq)
                if record is not None:
                    out.append(
                        StoredKinesisRecord(seq, record.partition_key, record.data, record.created_at)
                    )
                seq += 1
            return out

    def trim_kinesis(self, older_than: float) -> int:
        """Drop Kinesis records older than the retention window (AWS keeps 24 h)."""
        dropped = 0
        with self.lock:
            for backend in kinesis_backends[self.account_id].values():
                for stream in backend.streams.values():
                    for shard in stream.shards.values():
                        _kinesis_last_seq(shard)
                        while shard.records:
                            first_seq = next(iter(shard.records))
                            if shard.records[first_seq].created_at >= older_than:
                                break
                            shard.records.popitem(last=False)
                            dropped += 1
        return dropped

    # -- IAM --
    def role_exists(self, role_arn: str) -> bool:
        from moto.iam.models import iam_backends

        parts = parse_arn(role_arn)
        if parts is None or parts.account != self.account_id:
            return False
        with self.lock:
            try:
                iam_backends[self.account_id]["aws"].get_role_by_arn(role_arn)
            except Exception:  # noqa: BLE001 - moto raises its own IAMNotFoundException
                return False
        return True

    # -- CloudWatch Logs --
    def put_logs(self, region: str, group: str, stream: str, lines: list[tuple[int, str]]) -> None:
        """Append function log lines (timestamp ms, message) to CloudWatch Logs."""
        if not lines:
            return
        with self.lock:
            backend = logs_backends[self.account_id][region]
            if group not in backend.groups:
                backend.create_log_group(group, {})
            if stream not in backend.groups[group].streams:
                backend.create_log_stream(group, stream)
            backend.put_log_events(
                group, stream, [{"timestamp": ts, "message": msg} for ts, msg in lines]
            )
