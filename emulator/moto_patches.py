"""Patches to moto's in-memory models (part of the moto seam with moto_adapter.py).

What is patched, and why (FACTS.md has the measurements):
- DynamoDB stream shards: moto invokes Lambda synchronously inside ``put_item``
  when a mapping exists and numbers records by list position, so trimming would
  reuse sequence numbers. Our ``add`` keeps a monotonic counter, never calls
  moto's Lambda, drops no-op MODIFYs and the keys-only INSERT of an update_item
  upsert (AWS emits neither), and signals pollers that data arrived.
- DynamoDB stream re-enabling: moto refuses to enable a stream once one was ever
  enabled and keeps writing to a disabled one; AWS allows a new stream after
  disabling (new ARN), a disabled stream takes no records, and its records stay
  readable (until retention drops them): we keep it as a retired shard.
- Kinesis shards: moto finds the last sequence number by copying every key
  (O(n) per put); ours keeps a counter so sequence numbers stay monotonic after
  trimming and insertion is O(1).
- Instance tracking: moto's ``BaseModel.__new__`` appends every model object it ever
  creates to a class-level list that nothing reads (moto 5.2.5): every DynamoDB item and
  each deep copy of one, every stream and Kinesis record, S3 object, ACL, SQS message,
  log event and shard iterator stays referenced after it is deleted, trimmed or expired.
  Ours creates them untracked, so deleting and trimming free memory again.
- S3 objects: moto holds a 700-byte object in 4.2 KB of heap. Ours keeps a body under
  256 KB deflated when that saves a fifth, else in a plain ``BytesIO`` sharing the bytes
  (moto's ``SpooledTemporaryFile`` wraps a copy); gives every object the one canned private
  ACL (moto builds three objects per key) and the one list of restore-state transitions
  (moto builds a list of tuples per key, never changed); and compacts the key's attribute
  dict. A 1.5 KB data lake object: 2.3 KB of heap with its body, not 3.3 KB. The names and
  standard values of its metadata (``content-type: application/json``...) and its bucket's
  name are one string per process, not copies per object, and an object put without tags
  keeps no empty tag set under its ARN (moto's tagger held one per object): 1,952 B of heap
  per small object, measured, down to 1,376.
- Kinesis records: moto keeps each payload as base64 text in a dict-backed object, 1.4-1.8 KB
  for a fan-out record, kept 24 h, and walks them all from the oldest on every GetRecords.
  Ours keeps a shard's records deflated in a file with 28 bytes of index each
  (emulator/kinesis_store.py); reads, timestamp lookups and trimming are binary searches.
- Kinesis metrics: moto appends two CloudWatch data points for every put, kept forever.
  CloudWatch keeps standard metrics at one-minute resolution; ours folds each minute's puts
  into one statistic set per metric and stream, so they stop growing with the traffic. A
  query's start time is rounded down as CloudWatch rounds it (to the minute for recent
  data), so a query from just before a put still finds its minute's set.
- DynamoDB items: moto keeps every item as objects, 1.3 KB of heap each, for good. A table
  without a range key keeps them in a file instead (emulator/item_store.py), the most
  recently used ones live; ``len`` reads the count instead of every item.
- S3 objects, even shrunk as above, stay in the heap for good. A bucket keeps them pickled in
  a file instead (emulator/object_store.py), the most recently used ones live; a listing of a
  bucket that was never versioned pages the names and reads only its page's objects (moto's
  reads every object in the bucket first). A pickled object keeps its body deflated.
- Function logs: moto keeps each log event as an object, about 400 bytes for a 120-character
  line, four lines per invocation. A function's stream keeps its older events in deflated
  chunks instead (emulator/log_store.py); DescribeLogStreams reads the chunks' time ranges,
  and GetLogEvents and FilterLogEvents unpack only the chunks that overlap their time range.
"""

from __future__ import annotations

import bisect
import datetime
import io
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, MetricAggregatedDatum, cloudwatch_backends
from moto.core.base_backend import model_data
from moto.core.common_models import BaseModel
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
from moto.dynamodbstreams import models as streams_models
from moto.kinesis.models import KinesisBackend, Shard, Stream
from moto.logs.models import LogStream
from moto.s3.models import FakeAcl, FakeBucket, FakeKey, FakeTableStorageBucket, S3Backend, get_canned_acl
from moto.moto_api import state_manager
from moto.utilities.utils import LowercaseDict

from emulator import moto_speedups
from emulator.compression import deflate, inflate
from emulator.item_store import DiskItems
from emulator.object_store import DiskKeys
from emulator.kinesis_store import CompactKinesisRecord, ShardRecords
from emulator.log_store import PackedLogEvents

_listeners: list[Callable[[str], None]] = []
_local = threading.local()
_patched = False


def add_listener(listener: Callable[[str], None]) -> None:
    """Call ``listener(shard_id)`` after every stored stream or Kinesis record."""
    _listeners.append(listener)


def remove_listener(listener: Callable[[str], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def _notify(shard_id: str) -> None:
    for listener in list(_listeners):
        listener(shard_id)


# --- DynamoDB stream shard patches -------------------------------------------------
def next_seq(shard: StreamShard) -> int:
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
    seq = next_seq(self)
    record = StreamRecord(self.table, view_type, event_name, old, new, seq)
    record.emu_created = time.time()  # type: ignore[attr-defined]
    self.items.append(record)
    self._emu_next_seq = seq + 1  # type: ignore[attr-defined]
    _notify(self.id)


def _shard_get(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
    next_seq(self)
    index = max(0, start - self.starting_sequence_number - self._emu_trimmed)  # type: ignore[attr-defined]
    return [record.to_json() for record in self.items[index : index + quantity]]


_original_iterator_init = streams_models.ShardIterator.__init__


def _iterator_init(self: Any, backend: Any, shard: StreamShard, kind: str, seq: int | None = None) -> None:
    _original_iterator_init(self, backend, shard, kind, seq)
    if kind == "LATEST":
        self.sequence_number = next_seq(shard)


def _update_table_streams(self: DynamoDBBackend, table: Table, specification: dict[str, Any]) -> None:
    """AWS refuses to enable a stream only while one is enabled; moto refuses forever after."""
    from moto.dynamodb.exceptions import StreamAlreadyEnabledException

    enabling = specification.get("StreamEnabled") or specification.get("StreamViewType")
    if enabling and (table.stream_specification or {}).get("StreamEnabled"):
        raise StreamAlreadyEnabledException
    previous, label = table.stream_shard, table.latest_stream_label
    if previous is not None:
        previous._emu_view_type = (table.stream_specification or {}).get("StreamViewType")  # type: ignore[attr-defined]
    table.set_stream_specification(specification)
    if not (table.stream_specification or {}).get("StreamEnabled"):
        table.stream_shard = None  # a disabled stream takes no more records
    if previous is not None and label and table.stream_shard is not previous:
        retired_shards(table)[label] = previous  # still readable by its ARN, as on AWS


def shard_for_label(table: Table, label: str) -> tuple[StreamShard | None, bool]:
    """The shard of the table's stream ``label`` and whether it is the enabled one."""
    if table.stream_shard is not None and table.latest_stream_label == label:
        return table.stream_shard, True
    return retired_shards(table).get(label), False


def _stream_label(arn: str) -> str:
    return arn.split("/stream/", 1)[1] if "/stream/" in arn else ""


def _describe_stream(self: Any, arn: str) -> dict[str, Any]:
    """moto describes the table's current stream whatever the ARN; AWS describes that stream."""
    from moto.dynamodb.exceptions import ResourceNotFoundException

    table = self._get_table_from_arn(arn)
    shard, enabled = shard_for_label(table, _stream_label(arn))
    if shard is None:
        raise ResourceNotFoundException(f"Requested resource not found: Stream: {arn} not found")
    view_type = (table.stream_specification or {}).get("StreamViewType") if enabled else getattr(shard, "_emu_view_type", None)
    return {
        "StreamArn": arn,
        "StreamLabel": _stream_label(arn),
        "StreamStatus": "ENABLED" if enabled else "DISABLED",
        "StreamViewType": view_type,
        "CreationRequestDateTime": shard.created_on,
        "TableName": table.name,
        "KeySchema": table.schema,
        "Shards": [shard.to_json()],
    }


def _get_shard_iterator(self: Any, arn: str, shard_id: str, kind: str, sequence_number: str | None = None) -> Any:
    from moto.dynamodb.exceptions import ResourceNotFoundException

    table = self._get_table_from_arn(arn)
    shard, _ = shard_for_label(table, _stream_label(arn))
    if shard is None or shard.id != shard_id:
        raise ResourceNotFoundException(f"Requested resource not found: Shard: {shard_id} in Stream: {arn} not found")
    iterator = streams_models.ShardIterator(self, shard, kind, int(sequence_number) if sequence_number else None)
    self.shard_iterators[iterator.arn] = iterator
    return iterator


def retired_shards(table: Table) -> dict[str, StreamShard]:
    """Disabled streams of a table by stream label (kept until retention drops them)."""
    if not hasattr(table, "_emu_retired"):
        table._emu_retired = {}  # type: ignore[attr-defined]
    return table._emu_retired  # type: ignore[attr-defined]


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
def kinesis_last_seq(shard: Shard) -> int:
    if not hasattr(shard, "_emu_last_seq"):
        shard._emu_last_seq = next(reversed(shard.records)) if shard.records else 0  # type: ignore[attr-defined]
    return shard._emu_last_seq  # type: ignore[attr-defined]


def _kinesis_put(self: Shard, partition_key: str, data: str, explicit_hash_key: str) -> str:
    seq = kinesis_last_seq(self) + 1
    self.records[seq] = CompactKinesisRecord(partition_key, data, seq, explicit_hash_key)
    self._emu_last_seq = seq  # type: ignore[attr-defined]
    _notify(self.shard_id)
    return str(seq)


def kinesis_min_seq(self: Shard) -> int:
    return next(iter(self.records)) if self.records else 0


def _shard_init(self: Shard, *args: Any, **kwargs: Any) -> None:
    _original_shard_init(self, *args, **kwargs)
    self.records = ShardRecords()  # type: ignore[assignment]


def _split_shard(self: Stream, *args: Any, **kwargs: Any) -> None:
    """moto's split gives the parent a fresh ``OrderedDict`` (and moves its records to the
    children): the parent keeps a store too, and what moto writes there later stays out of the heap."""
    _original_split_shard(self, *args, **kwargs)
    for shard in self.shards.values():
        if not isinstance(shard.records, ShardRecords):
            shard.records = ShardRecords.holding(shard.records)  # type: ignore[assignment]


def _shard_get_records(self: Shard, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
    """moto's answer (records after ``last_sequence_id``, the last one's number, the lag) by a
    binary search from there: moto walked every record from the oldest on each call."""
    if not isinstance(self.records, ShardRecords):
        return _original_shard_get_records(self, last_sequence_id, limit)
    last = int(last_sequence_id)
    found = self.records.from_seq(last + 1, limit or 10_000)
    newest = self.records.last_created_at()
    behind = int((newest - found[-1].created_at) * 1000) if found and newest is not None else 0
    return found, (found[-1].sequence_number if found else last), behind


def _shard_seq_at(self: Shard, at_timestamp: float) -> int:
    """moto's rule (0 before the first record, else the last one that arrived before), searched."""
    if not isinstance(self.records, ShardRecords):
        return _original_shard_seq_at(self, at_timestamp)
    return self.records.last_before(at_timestamp) or 0


def _kinesis_max_seq(self: Shard) -> int:
    return kinesis_last_seq(self)


_STREAM_METRICS = (("IncomingBytes", "Bytes"), ("IncomingRecords", "Count"))
#: What the metrics' minutes are read from (tests set it, not the process's ``time.time``).
_clock: Callable[[], float] = time.time


def _send_stream_metrics(self: KinesisBackend, stream_name: str, incoming_bytes: int, incoming_records: int) -> None:
    """moto's per-put data points, folded into one statistic set per metric, stream and minute.

    The open minute's sets are remembered on the CloudWatch backend itself, so a reset of
    that backend forgets them with its data. A set is stamped with its minute's start;
    queries round their start time down as CloudWatch does (``_rounded_start``)."""
    backend = cloudwatch_backends[self.account_id][self.region_name]
    minute = datetime.datetime.fromtimestamp(_clock() // 60 * 60, datetime.timezone.utc).replace(tzinfo=None)
    open_sets: dict[tuple[str, str], MetricAggregatedDatum] = backend.__dict__.setdefault("_emu_open_minute", {})
    for (name, unit), value in zip(_STREAM_METRICS, (incoming_bytes, incoming_records), strict=True):
        datum = open_sets.get((stream_name, name))
        if datum is not None and datum.timestamp == minute:
            datum.sum += value
            datum.sample_count += 1
            datum.min = min(datum.min, float(value))
            datum.max = max(datum.max, float(value))
            continue
        datum = MetricAggregatedDatum(
            namespace="AWS/Kinesis", name=name, min_stat=float(value), max_stat=float(value), sample_count=1.0,
            sum_stat=float(value), dimensions=[{"Name": "StreamName", "Value": stream_name}], timestamp=minute,
            unit=unit,
        )
        backend.metric_data.append(datum)
        open_sets[(stream_name, name)] = datum


def _rounded_start(start: datetime.datetime) -> datetime.datetime:
    """A query's start time as CloudWatch rounds it: down to the minute when under 15 days
    ago, to 5 minutes under 63 days, else to the hour (GetMetricStatistics' reference)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    age = (now if start.tzinfo else now.replace(tzinfo=None)) - start  # moto's naive times are UTC
    step = 60 if age < datetime.timedelta(days=15) else 300 if age < datetime.timedelta(days=63) else 3600
    past = (start.minute * 60 + start.second) % step
    return start - datetime.timedelta(seconds=past, microseconds=start.microsecond)


_original_get_metric_statistics = CloudWatchBackend.get_metric_statistics
_original_get_metric_data = CloudWatchBackend.get_metric_data


def _get_metric_statistics(self: CloudWatchBackend, namespace: str, metric_name: str, start_time: datetime.datetime,
                           *args: Any, **kwargs: Any) -> Any:
    return _original_get_metric_statistics(self, namespace, metric_name, _rounded_start(start_time), *args, **kwargs)


def _get_metric_data(self: CloudWatchBackend, queries: list[dict[str, Any]], start_time: datetime.datetime,
                     *args: Any, **kwargs: Any) -> Any:
    return _original_get_metric_data(self, queries, _rounded_start(start_time), *args, **kwargs)


_original_log_stream_update = LogStream._update
_original_get_log_events = LogStream.get_log_events
_original_filter_log_events = LogStream.filter_log_events


def _log_stream_update(self: LogStream) -> None:
    """DescribeLogStreams' first and last timestamps without unpacking the events."""
    if not isinstance(self.events, PackedLogEvents):
        return _original_log_stream_update(self)
    span = self.events.time_range()
    self.first_event_timestamp, self.last_event_timestamp = span if span is not None else (None, None)


def _in_time_window(query: Callable[..., Any]) -> Callable[..., Any]:
    """``query(self, start_time, end_time, ...)`` run over only the packed chunks that overlap
    the range: moto filters ``self.events`` itself, by reading every event."""
    def windowed(self: LogStream, start_time: Any, end_time: Any, *args: Any, **kwargs: Any) -> Any:
        events = self.events
        if not isinstance(events, PackedLogEvents):
            return query(self, start_time, end_time, *args, **kwargs)
        self.events = events.window(start_time, end_time)  # type: ignore[assignment]  # under the endpoint's lock
        try:
            return query(self, start_time, end_time, *args, **kwargs)
        finally:
            self.events = events  # type: ignore[assignment]
    return windowed


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``BaseModel.__new__`` without the append to ``cls.instances_tracked`` (a leak)."""
    return object.__new__(cls)


def _stop_instance_tracking() -> None:
    BaseModel.__new__ = _untracked_new  # type: ignore[method-assign, assignment]
    for models in model_data.values():
        for cls in models.values():
            tracked = getattr(cls, "instances_tracked", None)
            if isinstance(tracked, list):
                tracked.clear()


# --- S3 objects ----------------------------------------------------------------------
_PRIVATE_ACL: FakeAcl = get_canned_acl("private")  # read-only: moto replaces an ACL, never edits it
#: moto's restore transitions, the same list for every key (read-only: moto only looks them up).
_RESTORE_TRANSITIONS: list[tuple[str | None, str]] = [(None, "IN_PROGRESS"), ("IN_PROGRESS", "RESTORED")]
_original_key_init = FakeKey.__init__
_original_key_setstate = FakeKey.__setstate__
_original_set_metadata = FakeKey.set_metadata
_original_put_object_tagging = S3Backend.put_object_tagging
_original_bucket_init = FakeBucket.__init__
_original_list_objects = S3Backend.list_objects
_original_list_objects_v2 = S3Backend.list_objects_v2
_key_value_getter = FakeKey.value.fget  # type: ignore[attr-defined]


class PackedBody:
    """A small S3 body kept deflated, behind the file methods moto's ``FakeKey`` calls
    on its buffer (``seek``, ``read``, ``close``). The data lake's JSON objects shrink about
    threefold; a body that does not compress is kept in a ``BytesIO`` instead."""

    __slots__ = ("_packed", "_size", "_position", "closed")

    def __init__(self, packed: bytes, size: int) -> None:
        self._packed = packed
        self._size = size
        self._position = 0
        self.closed = False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file.")  # as a closed file says it; moto catches it
        if self._position >= self._size:
            return b""
        end = self._size if size is None or size < 0 else min(self._size, self._position + size)
        data = inflate(self._packed)
        chunk = data if (self._position, end) == (0, self._size) else data[self._position : end]
        self._position = end
        return chunk

    def close(self) -> None:
        self.closed = True
        self._packed = b""


#: Bodies of this many bytes are tried compressed: a shorter one would gain a few bytes at
#: most, and a longer one (up to moto's 8 MiB in memory) would hold the lock while it is.
PACK_MIN_BYTES, PACK_MAX_BYTES = 256, 256 * 1024


def _small_body(value: bytes) -> io.BytesIO | PackedBody:
    if PACK_MIN_BYTES <= len(value) <= PACK_MAX_BYTES:
        packed = deflate(value)
        if len(packed) < len(value) * 0.8:
            return PackedBody(packed, len(value))
    return io.BytesIO(value)


def _set_key_value(self: FakeKey, new_value: bytes | str) -> None:
    """moto's setter, with a body that fits moto's in-memory limit compressed or in a ``BytesIO``."""
    if isinstance(new_value, str):
        new_value = new_value.encode("utf-8")
    old = getattr(self, "_value_buffer", None)
    if len(new_value) <= self._max_buffer_size:
        self._value_buffer = _small_body(new_value)
    else:  # a large body spills to disk, as moto does it
        spooled = tempfile.SpooledTemporaryFile(self._max_buffer_size)
        spooled.write(new_value)
        self._value_buffer = spooled
    if old is not None:
        old.close()
    self.contentsize = len(new_value)


#: The lock moto's ``FakeKey.value`` holds while it seeks and reads the body, one for all objects
#: (moto made one per object): held for that read only, never while another is taken, and the
#: endpoint runs moto's requests one at a time anyway.
_BODY_LOCK = threading.Lock()
#: FakeKey attributes that hold the same value in nearly every object: the value lives on the
#: class, and an object holding it keeps no entry of its own (moto sets the attribute again
#: when it changes it, and then the object has its own). 26 of 36 entries; the values are
#: immutable, or shared already and never changed in place (the ACL, the transitions).
_KEY_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(("_status", "_expiry", "website_redirect_location", "multipart", "encryption", "kms_key_id",
                     "bucket_key_enabled", "lock_mode", "lock_legal_status", "lock_until", "checksum_type",
                     "checksum_parts")),
    "_tick": 0, "_is_versioned": False, "disposed": False, "_storage_class": "STANDARD", "_version_id": "null",
    "model_name": "s3::keyrestore", "partition": "aws", "region_name": "aws", "checksum_algorithm": "CRC32",
    "account_id": "000000000000",  # the emulator's account (config.ACCOUNT_ID)
    "_max_buffer_size": FakeKey("defaults", b"", account_id="000000000000", region_name="aws")._max_buffer_size,
    "acl": _PRIVATE_ACL, "_transitions": _RESTORE_TRANSITIONS, "lock": _BODY_LOCK,
}


def _is_default(name: str, value: Any) -> bool:
    if name not in _KEY_DEFAULTS:
        return False
    default = _KEY_DEFAULTS[name]
    if isinstance(default, (str, int, bool, type(None))):  # int covers bool: the type is compared too
        return type(value) is type(default) and value == default
    return value is default


def _compact(key: FakeKey) -> None:
    if key._transitions == _RESTORE_TRANSITIONS:  # a moto with other transitions keeps its own
        key._transitions = _RESTORE_TRANSITIONS
    # a dict built at its final size, without the entries the class holds: 10 entries in 272
    # bytes, not 35 in 1,580 (as moto grows it) or 832
    object.__setattr__(key, "__dict__", {name: value for name, value in key.__dict__.items() if not _is_default(name, value)})


def _key_setattr(self: FakeKey, name: str, value: Any) -> None:
    """moto sets most attributes after ``__init__`` too (the request's ACL, redirect, checksum
    algorithm): one set to the class's shared value drops the object's own entry instead.
    Once the object is built, a change of its dict's keys rebuilds the dict at the size it
    needs: CPython never shrinks a dict's table, and one entry too many doubles it."""
    own = self.__dict__
    if name == "bucket_name" and isinstance(value, str):
        value = shared_string(value)
    default = _is_default(name, value)
    if name in _KEY_PROPERTIES or getattr(_building, "key", None) is self or (name in own and not default):
        if default:
            own.pop(name, None)
        else:
            object.__setattr__(self, name, value)
        return
    if default and name not in own:
        return
    rebuilt = {own_name: own_value for own_name, own_value in own.items() if own_name != name}  # not {**own}: that copies the table
    if not default:
        rebuilt[name] = value
    object.__setattr__(self, "__dict__", rebuilt)


#: FakeKey's data descriptors, its bases' too (``value``, ``status``...): set through them, never into the dict.
_KEY_PROPERTIES = frozenset(name for klass in FakeKey.__mro__ for name, member in vars(klass).items() if hasattr(member, "__set__"))


def _install_key_defaults() -> None:
    for name, value in _KEY_DEFAULTS.items():
        if name not in vars(FakeKey) or vars(FakeKey)[name] == value:  # never over a property of moto's
            setattr(FakeKey, name, value)
        else:
            raise RuntimeError(f"moto's FakeKey defines {name} itself: a default would hide it")


#: The key whose ``__init__`` runs in this thread (its dict grows freely, then is compacted once).
_building = threading.local()


def _key_init(self: FakeKey, *args: Any, **kwargs: Any) -> None:
    outer, _building.key = getattr(_building, "key", None), self
    try:
        _original_key_init(self, *args, **kwargs)  # sets a new canned private ACL, always
    finally:
        _building.key = outer
    self.acl = _PRIVATE_ACL
    self.lock = _BODY_LOCK
    _compact(self)


#: Strings many objects hold the same (metadata names, their standard values, bucket names),
#: one copy each; bounded, so unusual values past it stay the object's own (only less shared).
_SHARED_STRINGS: dict[str, str] = {}
_SHARED_STRINGS_MAX = 4096
#: Metadata under these prefixes is the user's own, as likely unique per object as not: not shared.
_USER_METADATA = ("x-amz-meta-",)


def shared_string(text: str) -> str:
    """``text``, as the one copy every object holding the same string points to."""
    if len(_SHARED_STRINGS) >= _SHARED_STRINGS_MAX:
        return _SHARED_STRINGS.get(text, text)
    return _SHARED_STRINGS.setdefault(text, text)


def _key_set_metadata(self: FakeKey, metadata: Any, replace: bool = False) -> None:
    """moto's ``set_metadata``; then the names, and the values of standard headers, are shared."""
    _original_set_metadata(self, metadata, replace)
    holder = self._metadata  # a LowercaseDict, or a plain dict after replace
    store = holder.store if isinstance(holder, LowercaseDict) else holder
    shared = {
        shared_string(name): shared_string(value) if isinstance(value, str) and not name.lower().startswith(_USER_METADATA) else value
        for name, value in store.items()
    }
    if isinstance(holder, LowercaseDict):
        holder.store = shared  # the old table goes: a dict rebuilt in place keeps its larger one
    else:
        self._metadata = shared


def _put_object_tagging(self: S3Backend, key: FakeKey, tags: Any, *args: Any, **kwargs: Any) -> FakeKey:
    """moto's; an object left without tags keeps no empty tag set in the tagger (nothing reads
    an empty set differently from none: every read of it answers no tags)."""
    result = _original_put_object_tagging(self, key, tags, *args, **kwargs)
    arn = key.arn
    if self.tagger.tags.get(arn) == {}:
        del self.tagger.tags[arn]
    return result


def _key_getstate(self: FakeKey) -> dict[str, Any]:
    """moto's ``__getstate__``, a deflated body kept deflated (a stored object is read back
    without compressing it again); the shared lock may live on the class, not in the object."""
    state = self.__dict__.copy()
    buffer = state.pop("_value_buffer", None)
    if isinstance(buffer, PackedBody) and not buffer.closed:
        state[_PACKED_STATE] = (buffer._packed, buffer._size)
    else:
        try:
            state["value"] = self.value
        except ValueError:  # the buffer is closed: the key was deleted (moto's case too)
            state["value"] = ""
    state.pop("lock", None)
    return state


#: Where a pickled object keeps a deflated body: (the deflated bytes, the body's size).
_PACKED_STATE = "_packed_body"


def _key_setstate(self: FakeKey, state: dict[str, Any]) -> None:
    packed = state.get(_PACKED_STATE)
    if packed is None:
        _original_key_setstate(self, state)
    else:
        self.__dict__.update({name: value for name, value in state.items() if name != _PACKED_STATE})
        self._value_buffer = PackedBody(*packed)
    self.lock = _BODY_LOCK
    _compact(self)


def _key_advance(self: FakeKey) -> None:
    """moto counts every GET of an object (``_tick``) for its restore state, which only a
    ``manual`` transition setting reads. Counting anyway gave each object read its own
    entry, and a stored object a new pickle on every read."""
    if state_manager.get_transition(self.model_name)["progression"] == "manual":
        self._tick += 1


def _drop_key_finalizer() -> None:
    """moto's ``FakeKey.__del__`` warns (a ResourceWarning, filtered out by default, but built
    each time: a stack walk and a registry lookup) about every object freed without
    ``dispose()``. The stores free objects by design (a list leaving the live set, a listing's
    copies), and a body's buffer closes itself when it is freed, so the finalizer only cost
    time (about 40 us per object) and printed noise at the interpreter's exit."""
    if "__del__" in vars(FakeKey):
        del FakeKey.__del__


def _bucket_init(self: FakeBucket, *args: Any, **kwargs: Any) -> None:
    _original_bucket_init(self, *args, **kwargs)
    if item_store == "disk":
        self.keys = DiskKeys()


def _listable(bucket: FakeBucket) -> DiskKeys | None:
    """A stored bucket's keys, where a listing can read names only: never versioned, so no
    name's newest version is a delete marker (moto drops those from a listing)."""
    keys = bucket.keys
    plain = isinstance(keys, DiskKeys) and bucket.versioning_status is None and not isinstance(bucket, FakeTableStorageBucket)
    return keys if plain else None  # a table bucket: moto's own refuses the listing


def _list_objects(self: S3Backend, bucket: FakeBucket, prefix: str | None, delimiter: str | None,
                  marker: str | None, max_keys: int | None) -> Any:
    """moto's ListObjects; on a stored bucket it pages the names and reads only the page's
    objects (moto reads every object in the bucket first)."""
    keys = _listable(bucket)
    if keys is None:
        return _original_list_objects(self, bucket, prefix, delimiter, marker, max_keys)
    names, folders = keys.names_under(prefix or "", delimiter)
    names.sort()
    if marker:
        limit = self._pagination_tokens.get(marker) or marker
        names = names[bisect.bisect_right(names, limit):]
    truncated, next_marker = False, None
    if max_keys is not None:
        names, truncated, next_marker = self._truncate_result(names, max_keys)
    return keys.copies(names), sorted(folders), truncated, next_marker


def _list_objects_v2(self: S3Backend, bucket: FakeBucket, prefix: str | None, delimiter: str | None,
                     continuation_token: str | None, start_after: str | None, max_keys: int) -> Any:
    """moto's ListObjectsV2, the same way: names and common prefixes in one sorted list, paged,
    then the page's objects read."""
    keys = _listable(bucket)
    if keys is None:
        return _original_list_objects_v2(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys)
    names, folders = keys.names_under(prefix or "", delimiter)
    entries = sorted([*names, *folders])  # a name is never a common prefix: it holds no delimiter past the prefix
    if continuation_token or start_after:
        limit = self._pagination_tokens.get(continuation_token) if continuation_token else start_after
        entries = entries[bisect.bisect_right(entries, limit):]
    page, truncated, token = self._truncate_result(entries, max_keys)
    objects = iter(keys.copies(entry for entry in page if entry not in folders))
    return [entry if entry in folders else next(objects) for entry in page], truncated, token


# --- DynamoDB items ------------------------------------------------------------------
#: Where a table without a range key keeps its items and a bucket its objects: "disk"
#: (emulator/item_store.py, emulator/object_store.py) or
#: "memory" (moto's dicts). Read when a table or bucket is made; ``MotoAdapter`` sets it from the config.
item_store = "disk"
_original_table_init = Table.__init__
_original_shard_init = Shard.__init__
_original_split_shard = Stream.split_shard
_original_shard_get_records = Shard.get_records
_original_shard_seq_at = Shard.get_sequence_number_at
_original_table_len = Table.__len__
_original_table_query = Table.query


def _table_init(self: Table, *args: Any, **kwargs: Any) -> None:
    _original_table_init(self, *args, **kwargs)
    if item_store == "disk" and not self.has_range_key:
        self.items = DiskItems()  # type: ignore[assignment]


def _table_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    """A query of a stored table's own key reads that key's item, not every item: moto's
    query filters ``all_items()`` by the hash key, which on a stored table reads them all."""
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name or hash_key is None or not isinstance(self.items, DiskItems):
        return _original_table_query(self, hash_key, *args, **kwargs)
    item = self.items.get(hash_key)
    self.all_items = lambda: [] if item is None else [item]  # type: ignore[method-assign]
    try:
        return _original_table_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


def _table_len(self: Table) -> int:
    """moto counts by reading every value; a stored table knows its count."""
    if isinstance(self.items, DiskItems):
        return len(self.items)
    return _original_table_len(self)


def adopt_restored(tables: Iterable[Table], shards: Iterable[Shard], buckets: Iterable[FakeBucket] = ()) -> None:
    """Tables, shards and buckets restored from a snapshot of an earlier version hold moto's
    dicts: move their data to the stores new ones use (their ids and order unchanged)."""
    for bucket in buckets:
        if item_store == "disk" and not isinstance(bucket.keys, DiskKeys):
            bucket.keys = DiskKeys.holding(bucket.keys)
    for table in tables:
        if item_store == "disk" and not table.has_range_key and not isinstance(table.items, DiskItems):
            table.items = DiskItems.holding(table.items)  # type: ignore[assignment]
    for shard in shards:
        if not isinstance(shard.records, ShardRecords):
            shard.records = ShardRecords.holding(shard.records)  # type: ignore[assignment]


def install_patches() -> None:
    """Patch moto once per process (idempotent)."""
    global _patched
    if _patched:
        return
    Table.__init__ = _table_init  # type: ignore[method-assign]
    Table.__len__ = _table_len  # type: ignore[method-assign]
    Table.query = _table_query  # type: ignore[method-assign]
    Stream.split_shard = _split_shard  # type: ignore[method-assign]
    StreamShard.add = _shard_add  # type: ignore[method-assign]
    StreamShard.get = _shard_get  # type: ignore[method-assign]
    streams_models.ShardIterator.__init__ = _iterator_init  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]
    DynamoDBBackend.update_table_streams = _update_table_streams  # type: ignore[method-assign]
    streams_models.DynamoDBStreamsBackend.describe_stream = _describe_stream  # type: ignore[method-assign]
    streams_models.DynamoDBStreamsBackend.get_shard_iterator = _get_shard_iterator  # type: ignore[method-assign]
    Table.put_item = _table_put  # type: ignore[method-assign]
    Shard.__init__ = _shard_init  # type: ignore[method-assign]
    Shard.get_records = _shard_get_records  # type: ignore[method-assign]
    Shard.get_sequence_number_at = _shard_seq_at  # type: ignore[method-assign]
    Shard.put_record = _kinesis_put  # type: ignore[method-assign]
    Shard.get_min_sequence_number = kinesis_min_seq  # type: ignore[method-assign]
    Shard.get_max_sequence_number = _kinesis_max_seq  # type: ignore[method-assign]
    LogStream._update = _log_stream_update  # type: ignore[method-assign]
    LogStream.get_log_events = _in_time_window(_original_get_log_events)  # type: ignore[method-assign]
    LogStream.filter_log_events = _in_time_window(_original_filter_log_events)  # type: ignore[method-assign]
    KinesisBackend._send_stream_metrics = _send_stream_metrics  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_statistics = _get_metric_statistics  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_data = _get_metric_data  # type: ignore[method-assign]
    _stop_instance_tracking()
    FakeKey.value = property(_key_value_getter, _set_key_value)  # type: ignore[method-assign, assignment]
    FakeKey.__init__ = _key_init  # type: ignore[method-assign]
    FakeKey.__getstate__ = _key_getstate  # type: ignore[method-assign]
    FakeKey.__setstate__ = _key_setstate  # type: ignore[method-assign]
    _install_key_defaults()
    FakeKey.__setattr__ = _key_setattr  # type: ignore[method-assign, assignment]
    FakeKey.set_metadata = _key_set_metadata  # type: ignore[method-assign]
    S3Backend.put_object_tagging = _put_object_tagging  # type: ignore[method-assign]
    FakeBucket.__init__ = _bucket_init  # type: ignore[method-assign]
    _drop_key_finalizer()
    FakeKey.advance = _key_advance  # type: ignore[method-assign]
    S3Backend.list_objects = _list_objects  # type: ignore[method-assign]
    S3Backend.list_objects_v2 = _list_objects_v2  # type: ignore[method-assign]
    moto_speedups.install()
    _patched = True
