"""The one place that reads moto's in-memory state (with moto_patches.py, the moto seam).

A moto upgrade should touch these two files only. Everything here runs under the
emulator's moto lock (moto is not thread-safe: its Kinesis loses records under
concurrent writes), which callers hold through ``MotoAdapter.lock``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import StreamShard, Table
from moto.kinesis.models import KinesisBackend, kinesis_backends
from moto.logs.models import logs_backends

from emulator import moto_patches
from emulator.item_store import DiskItems, ttl_number
from emulator.kinesis_store import ShardRecords
from emulator.log_store import PackedLogEvents
from emulator.moto_patches import (
    add_listener,
    install_patches,
    kinesis_last_seq,
    kinesis_min_seq,
    next_seq,
    remove_listener,
    retired_shards,
    shard_for_label,
)
from emulator.stream_store import PackedStreamRecord, created_at

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
#: Stream records packed per hold of the lock, as one group: 2 ms for 256, what a request may wait.
PACK_PER_LOCK = 256


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


def _stored(stream_record: Any) -> StoredStreamRecord:
    """moto's ``StreamRecord`` or a packed one (emulator/stream_store.py), as the emulator reads it."""
    record = stream_record.record  # a packed record unpacks a fresh copy on each read: once here
    return StoredStreamRecord(sequence_number=int(record["dynamodb"]["SequenceNumber"]), record=record,
                              created=created_at(stream_record, record))


def _unsorted_items(table: Table) -> list[Any]:
    """Every item of ``table``, in storage order. moto's ``all_items()`` sorts them with
    DynamoType's Python ``__lt__``: O(n log n) under the moto lock on every TTL sweep, which
    profiled at 10-13 % of the endpoint's time with 5,000 items, every 2 s (issue 11)."""
    if table.range_key_attr:
        return [item for hash_set in table.items.values() for item in hash_set.values()]
    return list(table.items.values())


def _due(item: Any, attribute: str, now: float) -> bool:
    ttl = None if item is None else ttl_number(item, attribute)
    return ttl is not None and ttl < now


class MotoAdapter:
    """Locked access to moto's in-memory DynamoDB, Kinesis and Logs state."""

    def __init__(self, account_id: str, item_store: str = "disk") -> None:
        """``item_store``: where tables without a range key keep their items and buckets their objects ("disk" or "memory")."""
        self.account_id = account_id
        self.lock = threading.RLock()
        #: Bumped by every request that may change moto's state (the snapshotter skips idle seconds).
        self.changes = 0
        #: Set once the final snapshot is taken: later writes would be lost, so they are refused.
        self.frozen = False
        install_patches()
        moto_patches.item_store = item_store

    def touch(self, _shard_id: str | None = None) -> None:
        """Note that moto's state may have changed (also a record listener: takes the shard id)."""
        self.changes += 1

    @staticmethod
    def add_listener(listener: Callable[[str], None]) -> None:
        add_listener(listener)

    @staticmethod
    def remove_listener(listener: Callable[[str], None]) -> None:
        remove_listener(listener)

    # -- DynamoDB streams --
    def _dynamodb(self, account: str, region: str) -> DynamoDBBackend:
        return dynamodb_backends[account][region]

    def _table_and_label(self, stream_arn: str) -> tuple[Table, str] | None:
        parts = parse_arn(stream_arn)
        if parts is None or parts.service != "dynamodb" or "/stream/" not in parts.resource or not parts.region or parts.account != self.account_id:
            return None
        table_part, label = parts.resource.split("/stream/", 1)
        with self.lock:
            table = self._dynamodb(parts.account, parts.region).tables.get(table_part.removeprefix("table/"))
        return (table, label) if table is not None else None

    def table_for_stream(self, stream_arn: str) -> Table | None:
        """The table whose *current*, enabled stream is ``stream_arn`` (a recreated table has a new one)."""
        found = self._table_and_label(stream_arn)
        if found is None:
            return None
        table, label = found
        with self.lock:
            if table.stream_shard is None or table.latest_stream_label != label:
                return None
            return table

    def _shard(self, stream_arn: str) -> StreamShard | None:
        """The shard of ``stream_arn``: the table's current stream or a disabled (retired) one."""
        found = self._table_and_label(stream_arn)
        if found is None:
            return None
        table, label = found
        with self.lock:
            return shard_for_label(table, label)[0]

    def table_exists(self, account: str, region: str, name: str) -> bool:
        if account != self.account_id or not region:
            return False
        with self.lock:
            return name in self._dynamodb(account, region).tables

    def stream_shard_id(self, stream_arn: str) -> str | None:
        shard = self._shard(stream_arn)
        return shard.id if shard is not None else None

    def stream_bounds(self, stream_arn: str) -> tuple[int, int] | None:
        """(first retained sequence number, next sequence number) of the stream's shard."""
        shard = self._shard(stream_arn)
        if shard is None:
            return None
        with self.lock:
            nxt = next_seq(shard)
            return nxt - len(shard.items), nxt

    def read_stream(self, stream_arn: str, from_seq: int, limit: int) -> list[StoredStreamRecord] | None:
        """Records with sequence number >= ``from_seq``; None when the stream is gone."""
        shard = self._shard(stream_arn)
        if shard is None:
            return None
        with self.lock:
            first = next_seq(shard) - len(shard.items)
            index = max(0, from_seq - first)
            return [_stored(r) for r in shard.items[index : index + limit]]

    def trim_stream(self, stream_arn: str, before_seq: int, read_before: float, older_than: float) -> int:
        """Drop records below ``before_seq`` created before ``read_before``, and any created before ``older_than``."""
        shard = self._shard(stream_arn)
        if shard is None:
            return 0
        with self.lock:
            items = shard.items
            first = next_seq(shard) - len(items)
            read = max(0, min(before_seq - first, len(items)))
            count = 0
            while count < read and getattr(items[count], "emu_created", 0) < read_before:
                count += 1
            while count < len(items) and getattr(items[count], "emu_created", 0) < older_than:
                count += 1
            if count:
                del items[:count]
                shard._emu_trimmed += count  # type: ignore[attr-defined]
                shard.emu_packed = max(0, getattr(shard, "emu_packed", 0) - count)  # type: ignore[attr-defined]
            return count

    def pack_stream(self, stream_arn: str, before_seq: int) -> int:
        """Pack the records below ``before_seq`` (every mapping has read them) that retention
        keeps (emulator/stream_store.py), ``PACK_PER_LOCK`` at a time so that no request
        waits long for the lock; returns how many were packed."""
        shard = self._shard(stream_arn)
        packed = 0
        while shard is not None:
            with self.lock:
                items = shard.items
                start = getattr(shard, "emu_packed", 0)
                end = min(before_seq - (next_seq(shard) - len(items)), len(items), start + PACK_PER_LOCK)
                if end <= start:
                    break
                items[start:end] = PackedStreamRecord.pack(items[start:end])
                shard.emu_packed = end  # type: ignore[attr-defined]
                packed += end - start
        return packed

    def stream_arns(self) -> list[str]:
        """Every readable table stream ARN (current and retired) in every region of our account."""
        arns = []
        with self.lock:
            for backend in dynamodb_backends[self.account_id].values():
                for table in backend.tables.values():
                    if table.stream_shard is not None and table.latest_stream_label:
                        arns.append(f"{table.table_arn}/stream/{table.latest_stream_label}")
                    retired = retired_shards(table)
                    for label, shard in list(retired.items()):
                        if shard.items:
                            arns.append(f"{table.table_arn}/stream/{label}")
                        else:
                            del retired[label]  # empty and closed: nothing left to read
        return arns

    def sweep_expired(self, now: float, chunk: int = 500) -> int:
        """Delete items whose TTL attribute (a Number) is in the past; tag their REMOVEs.

        Works in chunks and takes the moto lock per chunk, so a large table never
        stalls every other request for the length of a whole scan.
        """
        deleted = 0
        with self.lock:
            tables = [
                table
                for backend in list(dynamodb_backends[self.account_id].values())
                for table in list(backend.tables.values())
                if table.ttl.get("TimeToLiveStatus") == "ENABLED" and table.ttl.get("AttributeName")
            ]
        for table in tables:
            if isinstance(table.items, DiskItems):
                deleted += self._sweep_stored(table, now, chunk)
                continue
            with self.lock:
                items = _unsorted_items(table)  # references only: cheap under the lock
            for start in range(0, len(items), chunk):
                with self.lock:
                    deleted += self._delete_expired(table, items[start : start + chunk], now)
        return deleted

    def _sweep_stored(self, table: Table, now: float, chunk: int) -> int:
        """The items due, from the store's TTL heap, a chunk per turn of the lock."""
        deleted = 0
        while True:
            with self.lock:
                due = table.items.expired(table.ttl["AttributeName"], now, chunk)
                done = self._delete_expired(table, due, now)
            deleted += done
            if len(due) < chunk or not done:
                return deleted

    @staticmethod
    def _delete_expired(table: Table, items: list[Any], now: float) -> int:
        attribute = table.ttl.get("AttributeName")
        deleted = 0
        for item in items:
            if not _due(item, attribute, now):  # AWS ignores a TTL that is not a Number
                continue  # not due: the common case, decided without a lookup
            current = table.get_item(item.hash_key, item.range_key)
            if current is not item and not _due(current, attribute, now):
                continue  # deleted, or no longer due, since it was found (a stored item is read afresh)
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
            # closed shards too: after a reshard their remaining records are read first
            return sorted(stream.shards)

    def kinesis_parents(self, stream_arn: str, shard_id: str) -> list[str]:
        """The shards a reshard made ``shard_id`` from (they are read to the end first)."""
        stream = self._kinesis_stream(stream_arn)
        if stream is None or shard_id not in stream.shards:
            return []
        with self.lock:
            shard = stream.shards[shard_id]
            return [p for p in (shard.parent, shard.adjacent_parent) if p and p in stream.shards]

    def kinesis_bounds(self, stream_arn: str, shard_id: str) -> tuple[int, int] | None:
        stream = self._kinesis_stream(stream_arn)
        if stream is None or shard_id not in stream.shards:
            return None
        with self.lock:
            shard = stream.shards[shard_id]
            return kinesis_min_seq(shard) or kinesis_last_seq(shard) + 1, kinesis_last_seq(shard) + 1

    def kinesis_seq_at(self, stream_arn: str, shard_id: str, timestamp: float) -> int | None:
        """First sequence number that arrived at or after ``timestamp``."""
        stream = self._kinesis_stream(stream_arn)
        if stream is None or shard_id not in stream.shards:
            return None
        with self.lock:
            shard = stream.shards[shard_id]
            if isinstance(shard.records, ShardRecords):
                found = shard.records.first_at_or_after(timestamp)
                return found if found is not None else kinesis_last_seq(shard) + 1
            for seq, record in shard.records.items():
                if record.created_at >= timestamp:
                    return seq
            return kinesis_last_seq(shard) + 1

    def read_kinesis(self, stream_arn: str, shard_id: str, from_seq: int, limit: int) -> list[StoredKinesisRecord] | None:
        stream = self._kinesis_stream(stream_arn)
        if stream is None or shard_id not in stream.shards:
            return None
        with self.lock:
            shard = stream.shards[shard_id]
            last = kinesis_last_seq(shard)
            first = kinesis_min_seq(shard)
            seq = max(from_seq, first) if first else from_seq
            if isinstance(shard.records, ShardRecords):
                return [StoredKinesisRecord(r.sequence_number, r.partition_key, r.data, r.created_at)
                        for r in shard.records.from_seq(seq, limit)]
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
                        kinesis_last_seq(shard)
                        if isinstance(shard.records, ShardRecords):
                            dropped += shard.records.drop_older_than(older_than)
                            continue
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
    def put_logs(self, region: str, group: str, stream: str, lines: list[tuple[int, str]], keep: int = 0) -> None:
        """Append function log lines (timestamp ms, message) to CloudWatch Logs; keep the newest ``keep`` (0: all).

        The stream keeps its older events packed (emulator/log_store.py). Trimming waits until
        a tenth of ``keep`` is over, then drops that many at once, so it costs little per put."""
        if not lines:
            return
        with self.lock:
            backend = logs_backends[self.account_id][region]
            if group not in backend.groups:
                backend.create_log_group(group, {})
            if stream not in backend.groups[group].streams:
                backend.create_log_stream(group, stream)
            log_stream = backend.groups[group].streams[stream]
            if not isinstance(log_stream.events, PackedLogEvents):  # new, or restored from an older snapshot
                log_stream.events = PackedLogEvents(log_stream.events)
            backend.put_log_events(
                group, stream, [{"timestamp": ts, "message": msg} for ts, msg in lines]
            )
            if keep and len(log_stream.events) > keep + keep // 10:
                log_stream.stored_bytes -= log_stream.events.drop_oldest(len(log_stream.events) - keep)
