"""The work kept per class and per expression text gives the answers moto computes each time."""

from __future__ import annotations

import inspect

import boto3
import pytest
from botocore.exceptions import ClientError
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
