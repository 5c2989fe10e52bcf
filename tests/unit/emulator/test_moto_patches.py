"""moto's model objects: freed once deleted (its BaseModel kept every one), and S3 objects compact."""

from __future__ import annotations

import gc
import hashlib
import pickle
import tracemalloc
import weakref
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends
from moto.s3.models import s3_backends

from emulator.moto_patches import install_patches

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    install_patches()
    with mock_aws():
        yield


def test_a_deleted_s3_object_is_freed() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="freed-objects")
    s3.put_object(Bucket="freed-objects", Key="one.json", Body=b"x" * 700)
    key = weakref.ref(s3_backends[ACCOUNT]["aws"].get_object("freed-objects", "one.json"))
    s3.delete_object(Bucket="freed-objects", Key="one.json")
    gc.collect()
    assert key() is None


def test_deleted_items_and_their_stream_copies_are_freed() -> None:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(TableName="freed-items", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    table = dynamodb_backends[ACCOUNT][REGION].get_table("freed-items")
    dynamodb.put_item(TableName="freed-items", Item={"id": {"S": "a"}, "n": {"N": "1"}})
    dynamodb.update_item(TableName="freed-items", Key={"id": {"S": "a"}}, UpdateExpression="SET n = :two",
                         ExpressionAttributeValues={":two": {"N": "2"}})
    item = weakref.ref(next(iter(table.items.values())))  # the only item
    dynamodb.delete_item(TableName="freed-items", Key={"id": {"S": "a"}})
    records = [weakref.ref(record) for record in table.stream_shard.items]
    assert len(records) == 3  # INSERT, MODIFY, REMOVE
    table.stream_shard.items.clear()  # what retention does to expired records
    gc.collect()
    assert item() is None
    assert [record() for record in records] == [None, None, None]


def test_an_s3_object_of_700_bytes_takes_under_3_kb_of_heap() -> None:
    """moto's own objects took 4.2 KB each; the data lake writes one or two per record."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="small-objects")
    backend = s3_backends[ACCOUNT]["aws"]
    bodies = [bytes([i % 256]) * 700 for i in range(500)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i, body in enumerate(bodies):
        backend.put_object("small-objects", f"raw/{i:040d}.json", body)
    gc.collect()
    per_object = (tracemalloc.get_traced_memory()[0] - before) / len(bodies)
    tracemalloc.stop()
    assert per_object < 3000, f"{per_object:.0f} bytes of heap per object"


def test_s3_objects_keep_their_bodies_etags_and_acls() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="object-semantics")
    small, large = b"a" * 700, bytes(range(256)) * 24_576  # 6 MiB: past moto's in-memory limit
    for key, body in (("small", small), ("large", large)):
        put = s3.put_object(Bucket="object-semantics", Key=key, Body=body)
        got = s3.get_object(Bucket="object-semantics", Key=key)
        assert got["Body"].read() == body
        assert got["ETag"] == put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    ranged = s3.get_object(Bucket="object-semantics", Key="large", Range="bytes=256-511")["Body"].read()
    assert ranged == bytes(range(256))
    s3.copy_object(Bucket="object-semantics", Key="copy", CopySource={"Bucket": "object-semantics", "Key": "small"})
    s3.put_object(Bucket="object-semantics", Key="small", Body=b"rewritten")
    assert s3.get_object(Bucket="object-semantics", Key="copy")["Body"].read() == small
    assert s3.get_object(Bucket="object-semantics", Key="small")["Body"].read() == b"rewritten"
    s3.put_object_acl(Bucket="object-semantics", Key="copy", ACL="public-read")
    public = s3.get_object_acl(Bucket="object-semantics", Key="copy")["Grants"]
    private = s3.get_object_acl(Bucket="object-semantics", Key="large")["Grants"]
    assert len(public) == 2 and [g["Permission"] for g in private] == ["FULL_CONTROL"]


def test_an_s3_object_survives_pickling() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="pickled-objects")
    s3.put_object(Bucket="pickled-objects", Key="one", Body=b"body")
    key = pickle.loads(pickle.dumps(s3_backends[ACCOUNT]["aws"].get_object("pickled-objects", "one")))
    assert key.value == b"body" and key.etag == f'"{hashlib.md5(b"body").hexdigest()}"'
