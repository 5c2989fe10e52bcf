"""moto's model objects are freed once deleted (its BaseModel kept every one it made)."""

from __future__ import annotations

import gc
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
