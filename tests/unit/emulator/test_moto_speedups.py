"""The work kept per class and per expression text gives the answers moto computes each time."""

from __future__ import annotations

import inspect

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.responses import DynamoHandler
from moto.s3.responses import S3Response

from emulator import moto_speedups

pytestmark = pytest.mark.usefixtures("moto_aws")


def test_method_names_are_moto_s_own_listing() -> None:
    for handler in (DynamoHandler, S3Response):
        listed = {name for name, _ in inspect.getmembers(handler, predicate=inspect.isfunction)}
        assert moto_speedups._method_names(handler) == listed
        assert moto_speedups._method_names(handler) is moto_speedups._method_names(handler)


def test_a_parsed_update_expression_is_kept_per_text_and_errors_are_not() -> None:
    text = "SET #ts = :ts, #updated = :updated"
    assert UpdateExpressionParser.make(text) is UpdateExpressionParser.make(text)
    assert UpdateExpressionParser.make(text) is not UpdateExpressionParser.make("SET #ts = :other")
    for _ in range(2):
        with pytest.raises(Exception, match="(?i)syntax|token"):
            UpdateExpressionParser.make("SET = = :broken")


def _table() -> object:
    ddb = boto3.client("dynamodb")
    ddb.create_table(TableName="speed", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    return ddb


def test_one_expression_text_with_different_values_updates_each_item_with_its_own() -> None:
    ddb = _table()
    for item, value in (("a", "1"), ("b", "2"), ("a", "3")):
        ddb.update_item(TableName="speed", Key={"id": {"S": item}}, UpdateExpression="SET #v = :v",
                        ExpressionAttributeNames={"#v": "v"}, ExpressionAttributeValues={":v": {"N": value}})
    values = {i: ddb.get_item(TableName="speed", Key={"id": {"S": i}})["Item"]["v"]["N"] for i in ("a", "b")}
    assert values == {"a": "3", "b": "2"}


def test_a_kept_tree_is_never_changed_by_the_updates_that_use_it() -> None:
    """A counter and a list grown through the same expression text, three times over."""
    ddb = _table()
    for _ in range(3):
        ddb.update_item(TableName="speed", Key={"id": {"S": "c"}},
                        UpdateExpression="SET n = if_not_exists(n, :zero) + :one, l = list_append(if_not_exists(l, :empty), :one_list)",
                        ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}, ":empty": {"L": []},
                                                   ":one_list": {"L": [{"S": "x"}]}})
    item = ddb.get_item(TableName="speed", Key={"id": {"S": "c"}})["Item"]
    assert item["n"] == {"N": "3"} and item["l"] == {"L": [{"S": "x"}] * 3}


def test_an_unused_expression_value_is_still_refused_every_time() -> None:
    ddb = _table()
    for _ in range(2):
        with pytest.raises(ClientError, match="unused"):
            ddb.update_item(TableName="speed", Key={"id": {"S": "d"}}, UpdateExpression="SET v = :v",
                            ExpressionAttributeValues={":v": {"N": "1"}, ":extra": {"N": "2"}})


_ATTRIBUTES = {"id": {"S": "click-1"}, "n": {"N": "12.50"}, "b": {"B": b"\x00\x01"}, "ss": {"SS": ["a", "b"]},
               "ns": {"NS": ["1", "2"]}, "l": {"L": [{"S": "x"}, {"N": "1"}]}, "m": {"M": {"k": {"S": "v"}}},
               "t": {"BOOL": True}, "z": {"NULL": True}, "ü": {"S": "ünïcode"}}


def _moto_item(attrs: dict[str, object]) -> Item:
    item = Item.__new__(Item)
    moto_speedups._original_item_init(item, DynamoType({"S": "click-1"}), None, attrs)
    return item


def test_an_item_is_built_as_moto_builds_it() -> None:
    assert Item.__init__ is moto_speedups._item_init
    ours = Item(DynamoType({"S": "click-1"}), None, _ATTRIBUTES)
    theirs = _moto_item(_ATTRIBUTES)
    assert type(ours.attrs) is LimitedSizeDict and ours.attrs == theirs.attrs and ours == theirs
    assert list(ours.attrs) == list(theirs.attrs) and ours.to_json() == theirs.to_json()


@pytest.mark.parametrize("padding", [-1, 0, 1])
def test_the_item_size_limit_is_moto_s_to_the_byte(padding: int) -> None:
    base = {"id": {"S": "k"}, "pad": {"S": ""}}
    room = moto_speedups.ITEM_SIZE_LIMIT - sum(len(k) for k in base) - 1  # the key's value "k"
    attrs = {"id": {"S": "k"}, "pad": {"S": "x" * (room + padding)}}
    refused = padding > 0
    for build in (lambda: Item(DynamoType({"S": "k"}), None, attrs), lambda: _moto_item(attrs)):
        if refused:
            with pytest.raises(ItemSizeTooLarge):
                build()
        else:
            build()


def test_an_oversized_put_and_an_update_past_the_limit_are_refused() -> None:
    ddb = _table()
    with pytest.raises(ClientError, match="Item size has exceeded the maximum allowed size"):
        ddb.put_item(TableName="speed", Item={"id": {"S": "big"}, "pad": {"S": "x" * 406_000}})
    ddb.put_item(TableName="speed", Item={"id": {"S": "grows"}, "pad": {"S": "x" * 300_000}})
    with pytest.raises(ClientError, match="(?i)item size"):
        ddb.update_item(TableName="speed", Key={"id": {"S": "grows"}}, UpdateExpression="SET more = :m",
                        ExpressionAttributeValues={":m": {"S": "y" * 200_000}})


_REQUESTS: list[tuple[str, str, dict[str, object]]] = [
    ("dynamodb", "BatchWriteItem", {"RequestItems": {"t": [
        {"PutRequest": {"Item": {"id": {"S": "a"}, "b": {"B": "AAE="}, "bs": {"BS": ["AAE=", "AQI="]},
                                 "m": {"M": {"l": {"L": [{"N": "1"}, {"NULL": True}]}}}, "t": {"BOOL": False}}}},
        {"DeleteRequest": {"Key": {"id": {"S": "b"}}}}]}, "ReturnConsumedCapacity": "TOTAL", "Unknown": 1}),
    ("dynamodb", "UpdateItem", {"TableName": "t", "Key": {"id": {"S": "a"}}, "UpdateExpression": "SET #v = :v",
                                "ConditionExpression": "attribute_exists(#k)", "ExpressionAttributeNames": {"#v": "v", "#k": "id"},
                                "ExpressionAttributeValues": {":v": {"N": "2"}}, "ReturnValues": "ALL_NEW"}),
    ("dynamodb", "Query", {"TableName": "t", "KeyConditions": {"id": {"AttributeValueList": [{"S": "a"}],
                                                                       "ComparisonOperator": "EQ"}},
                           "ExclusiveStartKey": {"id": {"S": "a"}}, "Limit": 5, "ConsistentRead": True}),
    ("dynamodb", "TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "t", "Item": {"id": {"S": "z"}}}},
                                                          {"Delete": {"TableName": "t", "Key": {"id": {"S": "y"}}}}]}),
    ("kinesis", "PutRecords", {"StreamName": "s", "Records": [{"Data": "eyJhIjoxfQ==", "PartitionKey": "k"},
                                                              {"Data": "AA==", "PartitionKey": "j", "ExplicitHashKey": "1"}]}),
    ("logs", "PutLogEvents", {"logGroupName": "g", "logStreamName": "s",
                              "logEvents": [{"timestamp": 1765000000000, "message": "START"}]}),
    ("dynamodb", "GetItem", {"TableName": "t", "Key": None}),
]


def _ordered(value: object) -> object:
    """``value`` with every dict's key order spelled out, so equal means equal and in the same order."""
    if isinstance(value, dict):
        return [(key, _ordered(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [_ordered(item) for item in value]
    return value


@pytest.mark.parametrize(("service", "action", "body"), _REQUESTS, ids=[a for _, a, _ in _REQUESTS])
def test_a_request_parses_to_moto_s_own_parameters(monkeypatch: pytest.MonkeyPatch, service: str, action: str,
                                                    body: dict[str, object]) -> None:
    import json

    from moto.core.parse import BaseJSONParser, JSONParser, RequestParser
    from moto.core.utils import get_service_model

    assert BaseJSONParser._parse_structure is moto_speedups._parse_structure
    request = {"method": "POST", "values": {}, "headers": {}, "body": json.dumps(body).encode(), "url_path": "/",
               "url_params": {}}

    def parse() -> object:
        return JSONParser(get_service_model(service).operation_model(action)).parse(request)  # type: ignore[arg-type]

    ours = parse()
    monkeypatch.setattr(BaseJSONParser, "_parse_structure", moto_speedups._original_parse_structure)
    for name in ("_parse_shape", "_parse_list", "_parse_map"):
        monkeypatch.setattr(RequestParser, name, getattr(moto_speedups, f"_original{name}"))
    assert _ordered(ours) == _ordered(parse())


class _Shard:
    """A model object, as moto's results often are (read through its snake_case attributes)."""

    def __init__(self) -> None:
        self.shard_id = "shardId-000000000001"
        self.hash_key_range = {"StartingHashKey": "0", "EndingHashKey": "9"}
        self.sequence_number_range = {"StartingSequenceNumber": "1"}


_RESULTS: list[tuple[str, str, object]] = [
    ("kinesis", "PutRecords", {"FailedRecordCount": 1, "EncryptionType": "NONE", "Records": [
        {"SequenceNumber": "4960", "ShardId": "shardId-000000000000"},
        {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"}]}),
    ("kinesis", "ListShards", {"Shards": [_Shard(), {"ShardId": "shardId-2", "ParentShardId": "shardId-1",
                                                     "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "1"},
                                                     "SequenceNumberRange": {"StartingSequenceNumber": "7"}}]}),
    ("dynamodb", "BatchWriteItem", {"UnprocessedItems": {"t": [{"PutRequest": {"Item": {"id": {"S": "a"}}}}]},
                                    "ConsumedCapacity": [{"TableName": "t", "CapacityUnits": 1.0}]}),
    ("sts", "GetCallerIdentity", {"UserId": "AKIA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root"}),
]


@pytest.mark.parametrize(("service", "action", "result"), _RESULTS, ids=[a for _, a, _ in _RESULTS])
def test_a_result_serializes_to_moto_s_own_answer(monkeypatch: pytest.MonkeyPatch, service: str, action: str,
                                                  result: object) -> None:
    from moto.core.serialize import SERIALIZERS, ResponseSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    assert ResponseSerializer.get_value is moto_speedups._get_value
    model = get_service_model(service)

    def serialize() -> object:
        serializer = SERIALIZERS[model.protocol](model.operation_model(action), value_picker=XFormedAttributePicker())
        return serializer.serialize(result)["body"]

    ours = serialize()
    monkeypatch.setattr(ResponseSerializer, "get_value", moto_speedups._original_get_value)
    assert ours == serialize()
