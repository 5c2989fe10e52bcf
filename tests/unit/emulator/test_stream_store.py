"""Stream records every mapping has read, packed (emulator/stream_store.py): every reader
gets what it got before, the records not yet read stay moto's, trimming goes on counting
right, and a packed record takes a fraction of moto's heap."""

from __future__ import annotations

import copyreg
import gc
import pickle
import tracemalloc
from typing import Any

import boto3
import pytest
from moto.dynamodb.models.table import StreamRecord

from emulator import moto_adapter
from emulator.compression import deflate
from emulator.moto_adapter import MotoAdapter
from emulator.stream_store import PackedStreamRecord

pytestmark = pytest.mark.usefixtures("moto_aws")


def _stream(count: int) -> tuple[MotoAdapter, str, Any]:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(TableName="clicks", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    for i in range(count):
        dynamodb.put_item(TableName="clicks", Item={"id": {"S": f"click-{i}"}, "page": {"S": f"/p/{i}"}, "n": {"N": str(i)}})
        if i % 3 == 0:
            dynamodb.update_item(TableName="clicks", Key={"id": {"S": f"click-{i}"}}, UpdateExpression="SET n = :n",
                                 ExpressionAttributeValues={":n": {"N": "-1"}})
    adapter = MotoAdapter("123456789012")
    arn = adapter.stream_arns()[0]
    return adapter, arn, adapter._shard(arn)


def test_readers_get_the_same_records_from_packed_ones() -> None:
    adapter, arn, shard = _stream(12)
    first, end = adapter.stream_bounds(arn)
    before = adapter.read_stream(arn, first, 100)
    api_before = shard.get(first, 100)  # what DynamoDB Streams' GetRecords answers from
    assert adapter.pack_stream(arn, first + 10) == 10
    assert all(isinstance(r, PackedStreamRecord) for r in shard.items[:10])
    assert all(isinstance(r, StreamRecord) for r in shard.items[10:])  # not read by every mapping: moto's
    assert adapter.read_stream(arn, first, 100) == before
    assert shard.get(first, 100) == api_before
    assert adapter.pack_stream(arn, first + 10) == 0  # nothing twice
    assert pickle.loads(pickle.dumps(shard.items[0])).record == before[0].record  # a snapshot keeps it


def test_packing_goes_a_lock_hold_at_a_time_and_trimming_keeps_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_adapter, "PACK_PER_LOCK", 4)
    adapter, arn, shard = _stream(9)  # 12 records
    first, end = adapter.stream_bounds(arn)
    before = adapter.read_stream(arn, first, 100)
    assert adapter.pack_stream(arn, first + 10) == 10  # in groups of 4
    assert adapter.trim_stream(arn, first + 6, read_before=float("inf"), older_than=0) == 6
    assert shard.emu_packed == 4 and isinstance(shard.items[3], PackedStreamRecord)
    assert not isinstance(shard.items[4], PackedStreamRecord)
    assert adapter.pack_stream(arn, end) == 2
    assert [r.sequence_number for r in adapter.read_stream(arn, 0, 100)] == list(range(first + 6, end))
    assert adapter.read_stream(arn, 0, 100) == before[6:]  # across groups, one of them trimmed in part
    assert [shard.items[i].record for i in (5, 0, 3, 1)] == [before[6 + i].record for i in (5, 0, 3, 1)]


def test_a_packed_record_takes_a_fraction_of_moto_s_heap() -> None:
    adapter, arn, shard = _stream(600)
    first, end = adapter.stream_bounds(arn)
    gc.collect()
    tracemalloc.start()
    moto_heap = tracemalloc.get_traced_memory()[0]
    shard.items[:] = [pickle.loads(pickle.dumps(record)) for record in shard.items]  # traced copies of moto's
    moto_heap = tracemalloc.get_traced_memory()[0] - moto_heap
    packed_heap = tracemalloc.get_traced_memory()[0]
    adapter.pack_stream(arn, end)
    gc.collect()
    packed_heap -= tracemalloc.get_traced_memory()[0]  # what packing gave back
    tracemalloc.stop()
    records = end - first
    # Packed in groups, a record keeps under a tenth of moto's heap (each deflated alone: a sixth).
    assert packed_heap / records > 0.9 * moto_heap / records, (moto_heap / records, packed_heap / records)


def _as_the_previous_version_pickled(record: PackedStreamRecord, protocol: int) -> tuple[Any, ...]:
    """What the previous version's PackedStreamRecord pickled to: its record deflated alone, in slots."""
    state = {"_packed": deflate(pickle.dumps(record.record, protocol=pickle.HIGHEST_PROTOCOL)),
             "emu_created": record.emu_created}
    return copyreg.__newobj__, (PackedStreamRecord,), (None, state)


def test_a_record_packed_by_the_previous_version_loads_from_a_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter, arn, shard = _stream(3)
    first, end = adapter.stream_bounds(arn)
    before = adapter.read_stream(arn, first, 100)
    adapter.pack_stream(arn, end)
    with monkeypatch.context() as patched:
        patched.setattr(PackedStreamRecord, "__reduce_ex__", _as_the_previous_version_pickled)
        snapshot = pickle.dumps(shard.items)
    assert b"_packed" in snapshot and b"_group" not in snapshot
    shard.items[:] = pickle.loads(snapshot)
    assert all(isinstance(r, PackedStreamRecord) for r in shard.items)
    assert adapter.read_stream(arn, first, 100) == before
    assert pickle.loads(pickle.dumps(shard.items[1])).record == before[1].record  # and snapshots again
