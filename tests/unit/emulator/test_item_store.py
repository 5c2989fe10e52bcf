"""A hash-key table's items in a file (emulator/item_store.py): what moto answers is
unchanged, in-place edits survive eviction, TTL finds what is due, snapshots read a
consistent copy while the store goes on writing, and an item takes a fifth of moto's heap."""

from __future__ import annotations

import copy
import gc
import os
import pickle
import time
import tracemalloc
from typing import Any

import boto3
import pytest
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from emulator import item_store, moto_patches
from emulator.item_store import DiskItems, key_text
from emulator.moto_adapter import MotoAdapter
from tests.unit.emulator.forking import forked_check

ACCOUNT, REGION = "123456789012", "us-east-1"


pytestmark = pytest.mark.usefixtures("moto_aws")


@pytest.fixture
def few_live(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three live items: every test below evicts, so reads come from the file."""
    monkeypatch.setattr(item_store, "HOT_ITEMS", 3)


def _table(name: str = "clicks", ttl: bool = False, range_key: bool = False) -> Any:
    dynamodb = boto3.client("dynamodb")
    schema = [{"AttributeName": "id", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "id", "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": "at", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "at", "AttributeType": "N"})
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=schema, AttributeDefinitions=attributes,
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    return dynamodb_backends[ACCOUNT][REGION].get_table(name)


def _put(i: int, **extra: dict[str, str]) -> None:
    boto3.client("dynamodb").put_item(TableName="clicks", Item={"id": {"S": f"click-{i}"}, "n": {"N": str(i)}, **extra})


def _get(i: int) -> dict[str, Any] | None:
    return boto3.client("dynamodb").get_item(TableName="clicks", Key={"id": {"S": f"click-{i}"}}, ConsistentRead=True).get("Item")


def test_a_table_without_a_range_key_keeps_its_items_in_the_store_and_one_with_stays_in_moto() -> None:
    assert isinstance(_table().items, DiskItems)
    assert not isinstance(_table("events", range_key=True).items, DiskItems)


def test_the_memory_setting_keeps_moto_s_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_patches, "item_store", "memory")
    assert not isinstance(_table().items, DiskItems)


@pytest.mark.usefixtures("few_live")
def test_puts_gets_updates_deletes_scans_and_counts_answer_as_moto_does() -> None:
    table = _table()
    dynamodb = boto3.client("dynamodb")
    for i in range(20):
        _put(i)
    dynamodb.update_item(TableName="clicks", Key={"id": {"S": "click-0"}}, UpdateExpression="SET n = n + :one, tag = :t",
                         ExpressionAttributeValues={":one": {"N": "1"}, ":t": {"S": "edited"}})
    dynamodb.delete_item(TableName="clicks", Key={"id": {"S": "click-1"}})
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(TableName="clicks", Item={"id": {"S": "click-2"}}, ConditionExpression="attribute_not_exists(id)")
    for i in range(10, 20):  # evict the edited item before it is read back
        _get(i)
    assert _get(0) == {"id": {"S": "click-0"}, "n": {"N": "1"}, "tag": {"S": "edited"}}
    assert _get(1) is None
    assert _get(2) == {"id": {"S": "click-2"}, "n": {"N": "2"}}
    scanned = dynamodb.scan(TableName="clicks")
    assert sorted(row["id"]["S"] for row in scanned["Items"]) == sorted(f"click-{i}" for i in range(20) if i != 1)
    assert dynamodb.describe_table(TableName="clicks")["Table"]["ItemCount"] == len(table.items) == 19
    kinds = [record["eventName"] for record in dynamodb_backends[ACCOUNT][REGION].get_table("clicks").stream_shard.get(0, 100)]
    assert kinds.count("INSERT") == 20 and kinds.count("MODIFY") == 1 and kinds.count("REMOVE") == 1


@pytest.mark.usefixtures("few_live")
def test_an_item_edited_in_place_after_it_was_read_from_the_file_keeps_the_edit() -> None:
    _table()
    for i in range(10):
        _put(i)
    for round_ in range(1, 4):  # each update reads click-0 back from the file (evicted by the puts)
        boto3.client("dynamodb").update_item(TableName="clicks", Key={"id": {"S": "click-0"}}, UpdateExpression="SET n = :n",
                                             ExpressionAttributeValues={":n": {"N": str(100 + round_)}})
        for i in range(1, 10):
            _get(i)
    assert _get(0) == {"id": {"S": "click-0"}, "n": {"N": "103"}}


def test_numbers_that_are_equal_are_one_key() -> None:
    assert key_text(DynamoType({"N": "1"})) == key_text(DynamoType({"N": "1.0"})) == key_text(DynamoType({"N": "10E-1"}))
    assert key_text(DynamoType({"N": "0"})) == key_text(DynamoType({"N": "-0.00"}))
    assert key_text(DynamoType({"N": "1"})) != key_text(DynamoType({"N": "10"})) != key_text(DynamoType({"S": "10"}))
    store = DiskItems()
    store[DynamoType({"N": "1"})] = Item(DynamoType({"N": "1"}), None, {"k": {"N": "1"}, "v": {"S": "first"}})
    store[DynamoType({"N": "1.00"})] = Item(DynamoType({"N": "1.00"}), None, {"k": {"N": "1.00"}, "v": {"S": "second"}})
    assert len(store) == 1 and store[DynamoType({"N": "1"})].attrs["v"].value == "second"


@pytest.mark.usefixtures("few_live")
def test_the_sweeper_deletes_exactly_the_items_due_from_the_file_and_the_live_ones() -> None:
    table = _table(ttl=True)
    now = time.time()
    for i in range(30):
        _put(i, ttl={"N": str(now - 60 if i % 3 == 0 else now + 3600)})
    _put(30, ttl={"S": "not a number"})  # AWS ignores a TTL that is not a Number
    boto3.client("dynamodb").update_item(  # click-1 becomes due; click-3 is no longer due
        TableName="clicks", Key={"id": {"S": "click-1"}}, UpdateExpression="SET #t = :past",
        ExpressionAttributeNames={"#t": "ttl"}, ExpressionAttributeValues={":past": {"N": str(now - 5)}})
    boto3.client("dynamodb").update_item(
        TableName="clicks", Key={"id": {"S": "click-3"}}, UpdateExpression="REMOVE #t", ExpressionAttributeNames={"#t": "ttl"})
    adapter = MotoAdapter(ACCOUNT)
    due = {f"click-{i}" for i in range(30) if i % 3 == 0 and i != 3} | {"click-1"}
    assert adapter.sweep_expired(now, chunk=4) == len(due)  # in chunks smaller than what is due
    left = {row["id"]["S"] for row in boto3.client("dynamodb").scan(TableName="clicks")["Items"]}
    assert left == {f"click-{i}" for i in range(31)} - due
    assert adapter.sweep_expired(now) == 0
    assert adapter.sweep_expired(now + 7200) == len(left) - 2  # click-3 has no TTL, click-30 none that counts
    removes = [r for r in table.stream_shard.get(0, 1000) if r["eventName"] == "REMOVE"]
    assert len(removes) == len(due) + len(left) - 2
    assert all(r["userIdentity"]["principalId"] == "dynamodb.amazonaws.com" for r in removes)


@pytest.mark.usefixtures("few_live")
def test_a_snapshot_and_a_backup_copy_every_item_with_its_last_edit() -> None:
    table = _table(ttl=True)
    for i in range(10):
        _put(i, ttl={"N": "1"})
    table.items[DynamoType({"S": "click-9"})].attrs["n"] = DynamoType({"N": "900"})  # live, edited in place, not written
    for restored in (pickle.loads(pickle.dumps(table.items)), copy.deepcopy(table.items)):
        assert isinstance(restored, DiskItems) and len(restored) == 10
        assert restored[DynamoType({"S": "click-9"})].attrs["n"].value == "900"
        assert sorted(item.hash_key.value for item in restored.values()) == sorted(f"click-{i}" for i in range(10))
        assert len(restored.expired("ttl", 2, 100)) == 10


@pytest.mark.usefixtures("few_live")
def test_a_forked_snapshotter_reads_the_items_as_they_were_at_the_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(item_store, "COMPACT_MIN_DEAD_BYTES", 0)  # compact on every write that leaves dead bytes
    store = DiskItems()
    for i in range(50):
        store[DynamoType({"S": f"k{i}"})] = Item(DynamoType({"S": f"k{i}"}), None, {"k": {"S": f"k{i}"}, "v": {"N": "0"}})

    def as_at_the_fork() -> bool:  # the snapshotter: runs once the parent rewrote and compacted everything
        values = sorted((text, item_store._unpickled(body).attrs["v"].value) for text, body in store.rows())
        return values == sorted((key_text(DynamoType({"S": f"k{i}"})), "0") for i in range(50))

    snapshotter = forked_check(as_at_the_fork)
    for round_ in range(1, 4):
        for i in range(50):
            store[DynamoType({"S": f"k{i}"})] = Item(DynamoType({"S": f"k{i}"}), None, {"k": {"S": f"k{i}"}, "v": {"N": str(round_)}})
    assert snapshotter()
    assert {item.attrs["v"].value for item in store.values()} == {"3"}


@pytest.mark.usefixtures("few_live")
def test_dead_bytes_are_given_back_by_compaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(item_store, "COMPACT_MIN_DEAD_BYTES", 10_000)
    store = DiskItems(ttl_attribute="ttl")
    for round_ in range(200):
        for i in range(20):
            store[DynamoType({"S": f"k{i}"})] = Item(DynamoType({"S": f"k{i}"}), None,
                                                     {"k": {"S": f"k{i}"}, "ttl": {"N": str(round_)}})
    size = os.fstat(store._file.fileno()).st_size
    live = sum(len(body) for _, body in store.rows())
    assert size < 2 * live + 10_000 + 2_000  # without compaction: 200 times the live bytes
    store.flush()
    assert sorted(item.hash_key.value for item in store.expired("ttl", 199.5, 100)) == sorted(f"k{i}" for i in range(20))
    assert store.expired("ttl", 199, 100) == []


def test_a_stored_item_takes_a_fifth_of_moto_s_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(item_store, "HOT_ITEMS", 10)  # the live items are a constant, not per item

    def heap_per_item(store: str) -> float:
        moto_patches.item_store = store
        try:
            table = _table(f"heap-{store}")
        finally:
            moto_patches.item_store = "disk"
        dynamodb = boto3.client("dynamodb")

        def click(i: int) -> dict[str, dict[str, str]]:
            return {"id": {"S": f"{i:08d}-3c9a-4f1e-9b7d-2a6c1e5f8b90"}, "user_id": {"S": f"user-{i % 50}"},
                    "page": {"S": "/products/42"}, "ts": {"N": str(1_765_000_000_000 + i)}, "ttl": {"N": "1796657766"},
                    "run_id": {"S": "run-20261207"}, "sequence": {"N": str(i)}}
        for i in range(item_store.HOT_ITEMS):  # the live ones are there before the count starts
            dynamodb.put_item(TableName=f"heap-{store}", Item=click(i))
        table.stream_shard = None  # stream records are not the table's
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(item_store.HOT_ITEMS, item_store.HOT_ITEMS + 2_000):
            dynamodb.put_item(TableName=f"heap-{store}", Item=click(i))
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        return grown / 2_000

    moto, ours = heap_per_item("memory"), heap_per_item("disk")
    assert moto > 1_000
    assert ours < moto / 5, (moto, ours)


def test_a_snapshot_of_moto_s_dicts_is_restored_into_the_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    """A state saved by an earlier version holds moto's dicts: restored, it moves to the stores."""
    from collections import OrderedDict

    from moto.kinesis.models import kinesis_backends

    from emulator import moto_state

    monkeypatch.setattr(moto_patches, "item_store", "memory")
    table = _table()
    for i in range(5):
        _put(i)
    boto3.client("kinesis").create_stream(StreamName="fanout", ShardCount=1)
    boto3.client("kinesis").put_record(StreamName="fanout", Data=b"one", PartitionKey="pk")
    (shard,) = kinesis_backends[ACCOUNT][REGION].streams["fanout"].shards.values()
    shard.records = OrderedDict(shard.records)  # as an earlier version kept them
    assert type(table.items) is not DiskItems
    saved = moto_state.dumps(moto_state.capture(ACCOUNT))
    monkeypatch.setattr(moto_patches, "item_store", "disk")
    moto_state.install(ACCOUNT, pickle.loads(saved))
    restored = dynamodb_backends[ACCOUNT][REGION].get_table("clicks")
    assert isinstance(restored.items, DiskItems) and len(restored.items) == 5
    assert _get(3) == {"id": {"S": "click-3"}, "n": {"N": "3"}}
    (shard,) = kinesis_backends[ACCOUNT][REGION].streams["fanout"].shards.values()
    assert type(shard.records).__name__ == "ShardRecords" and shard.records[1].to_json()["Data"] == b"one"


@pytest.mark.usefixtures("few_live")
def test_compaction_after_deletes_keeps_every_due_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(item_store, "COMPACT_MIN_DEAD_BYTES", 0)
    store = DiskItems(ttl_attribute="ttl")

    def put(i: int, ttl: int) -> None:
        store[DynamoType({"S": f"k{i}"})] = Item(DynamoType({"S": f"k{i}"}), None, {"k": {"S": f"k{i}"}, "ttl": {"N": str(ttl)}})
    for i in range(20):
        put(i, 100 + i)
    for i in range(0, 20, 2):
        del store[DynamoType({"S": f"k{i}"})]  # dead bytes and stale heap entries; each delete may compact
    for i in range(20, 30):
        put(i, 200 + i)
    assert sorted(item.hash_key.value for item in store.expired("ttl", 1_000, 100)) == sorted(
        [f"k{i}" for i in range(1, 20, 2)] + [f"k{i}" for i in range(20, 30)])
    again = store.expired("ttl", 1_000, 100)  # nothing was deleted: still due, after the compactions inside
    assert len(again) == 20


@pytest.mark.usefixtures("few_live")
def test_the_due_heap_does_not_grow_with_rewrites() -> None:
    store = DiskItems(ttl_attribute="ttl")
    for round_ in range(100):
        for i in range(50):
            store[DynamoType({"S": f"k{i}"})] = Item(DynamoType({"S": f"k{i}"}), None, {"ttl": {"N": str(10_000 + round_)}})
    assert len(store._due) <= 2 * len(store) + 1_024 + 50  # 5,000 writes: without the sweep of stale entries, 5,000


def test_numbers_that_differ_past_the_28th_digit_are_two_keys() -> None:
    first, second = DynamoType({"N": "1234567890123456789012345678901"}), DynamoType({"N": "1234567890123456789012345678902"})
    assert key_text(first) != key_text(second)
    assert key_text(DynamoType({"N": "12345678901234567890123456789012345678"})) == key_text(
        DynamoType({"N": "12345678901234567890123456789012345678.000"}))
    store = DiskItems()
    store[first] = Item(first, None, {"k": {"N": first.value}})
    store[second] = Item(second, None, {"k": {"N": second.value}})
    assert len(store) == 2 and store[first].attrs["k"].value == first.value


def test_a_row_written_as_a_pickled_item_reads_back() -> None:
    """052f8b6 stored each item as a whole pickled Item; a snapshot of it may be restored."""
    item = Item(DynamoType({"S": "a"}), None, {"k": {"S": "a"}, "n": {"N": "1"}})
    store = DiskItems([(key_text(item.hash_key), pickle.dumps(item))])
    assert store[DynamoType({"S": "a"})].attrs["n"].value == "1"


@pytest.mark.usefixtures("few_live")
def test_a_query_of_the_table_s_key_reads_one_item_and_answers_as_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    _table()
    for i in range(30):
        _put(i, page={"S": f"/p/{i % 3}"})
    reads: list[bytes] = []
    unpickled = item_store._unpickled
    monkeypatch.setattr(item_store, "_unpickled", lambda body: (reads.append(body), unpickled(body))[1])
    dynamodb = boto3.client("dynamodb")
    found = dynamodb.query(TableName="clicks", KeyConditionExpression="id = :id", ExpressionAttributeValues={":id": {"S": "click-4"}},
                           ProjectionExpression="page")
    assert found["Items"] == [{"page": {"S": "/p/1"}}] and len(reads) <= 1
    filtered = dynamodb.query(TableName="clicks", KeyConditionExpression="id = :id", FilterExpression="page = :p",
                              ExpressionAttributeValues={":id": {"S": "click-4"}, ":p": {"S": "/p/0"}})
    assert (filtered["Items"], filtered["ScannedCount"]) == ([], 1)
    assert dynamodb.query(TableName="clicks", KeyConditionExpression="id = :id",
                          ExpressionAttributeValues={":id": {"S": "nobody"}})["Items"] == []


@pytest.mark.usefixtures("few_live")
def test_a_failed_transaction_rolls_back_and_a_backup_restores() -> None:
    table = _table()
    dynamodb = boto3.client("dynamodb")
    for i in range(10):
        _put(i)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "clicks", "Key": {"id": {"S": "click-0"}}, "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "99"}}}},
            {"Put": {"TableName": "clicks", "Item": {"id": {"S": "click-1"}}, "ConditionExpression": "attribute_not_exists(id)"}},
        ])
    assert _get(0) == {"id": {"S": "click-0"}, "n": {"N": "0"}}
    assert isinstance(dynamodb_backends[ACCOUNT][REGION].get_table("clicks").items, DiskItems)
    backup = dynamodb.create_backup(TableName="clicks", BackupName="before")["BackupDetails"]["BackupArn"]
    _put(10)
    dynamodb.restore_table_from_backup(TargetTableName="restored", BackupArn=backup)
    restored = dynamodb.scan(TableName="restored")["Items"]
    assert sorted(row["id"]["S"] for row in restored) == sorted(f"click-{i}" for i in range(10))
    assert table is not dynamodb_backends[ACCOUNT][REGION].get_table("restored")
