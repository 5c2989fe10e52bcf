"""FilterCriteria matching (AWS: Lambda developer guide, "Control which events Lambda sends to
your function", and the EventBridge pattern rules it builds on)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from emulator.filters import compile_patterns, keep, matches

INSERT = {
    "eventName": "INSERT",
    "eventSource": "aws:dynamodb",
    "dynamodb": {
        "Keys": {"pk": {"S": "order-17"}},
        "NewImage": {"pk": {"S": "order-17"}, "status": {"S": "PAID"}, "total": {"N": "42.5"},
                     "tags": {"SS": ["gift", "express"]}, "note": {"NULL": True}},
        "SequenceNumber": "1100",
    },
}


def _kinesis(data: bytes, partition_key: str = "user-1") -> dict[str, Any]:
    return {"eventSource": "aws:kinesis", "kinesis": {"partitionKey": partition_key, "sequenceNumber": "7",
                                                     "data": base64.b64encode(data).decode()}}


def _criteria(*patterns: dict[str, Any]) -> dict[str, Any]:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def _keeps(record: dict[str, Any], *patterns: dict[str, Any]) -> bool:
    return keep(compile_patterns(_criteria(*patterns)), record)


# --- exact values -------------------------------------------------------------------------
def test_exact_value_matches_and_other_values_do_not() -> None:
    assert _keeps(INSERT, {"eventName": ["INSERT"]})
    assert not _keeps(INSERT, {"eventName": ["MODIFY"]})


def test_a_list_of_values_is_an_or() -> None:
    assert _keeps(INSERT, {"eventName": ["MODIFY", "INSERT"]})


def test_nested_fields_all_have_to_match() -> None:
    assert _keeps(INSERT, {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}})
    assert not _keeps(INSERT, {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["OPEN"]}}}})


def test_a_missing_field_does_not_match() -> None:
    assert not _keeps(INSERT, {"dynamodb": {"OldImage": {"status": {"S": ["PAID"]}}}})
    assert not _keeps(INSERT, {"dynamodb": {"NewImage": {"absent": {"S": ["x"]}}}})


def test_a_pattern_object_against_a_scalar_does_not_match() -> None:
    assert not _keeps(INSERT, {"eventName": {"S": ["INSERT"]}})


def test_strings_and_numbers_are_different_values() -> None:
    assert not matches({"n": ["5"]}, {"n": 5})
    assert not matches({"n": [5]}, {"n": "5"})
    assert matches({"n": [5]}, {"n": 5.0})


def test_booleans_are_not_numbers() -> None:
    # JSON true is not 1 (Python's True == 1 must not leak into matching)
    assert not matches({"flag": [True]}, {"flag": 1})
    assert not matches({"flag": [1]}, {"flag": True})
    assert not matches({"flag": [False]}, {"flag": 0})
    assert matches({"flag": [True]}, {"flag": True})


def test_null_and_empty_string_match_only_themselves() -> None:
    assert matches({"v": [None]}, {"v": None})
    assert not matches({"v": [None]}, {})
    assert not matches({"v": [None]}, {"v": ""})
    assert matches({"v": [""]}, {"v": ""})
    assert not matches({"v": [""]}, {"v": None})


def test_an_array_value_matches_when_any_element_matches() -> None:
    assert _keeps(INSERT, {"dynamodb": {"NewImage": {"tags": {"SS": ["express"]}}}})
    assert not _keeps(INSERT, {"dynamodb": {"NewImage": {"tags": {"SS": ["bulk"]}}}})
    assert _keeps(INSERT, {"dynamodb": {"NewImage": {"tags": {"SS": [{"prefix": "exp"}]}}}})


# --- content filters ------------------------------------------------------------------------
def test_prefix() -> None:
    assert _keeps(INSERT, {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "order-"}]}}}})
    assert not _keeps(INSERT, {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "user-"}]}}}})
    assert not matches({"n": [{"prefix": "1"}]}, {"n": 12})  # numbers have no prefix


def test_suffix_and_equals_ignore_case() -> None:
    assert matches({"f": [{"suffix": ".png"}]}, {"f": "cat.png"})
    assert not matches({"f": [{"suffix": ".png"}]}, {"f": "cat.jpg"})
    assert matches({"s": [{"equals-ignore-case": "paid"}]}, {"s": "PaId"})
    assert not matches({"s": [{"equals-ignore-case": "paid"}]}, {"s": "unpaid"})


@pytest.mark.parametrize(("value", "expected"), [(0, False), (0.5, True), (10, True), (10.01, False), (-3, False)])
def test_numeric_range(value: float, expected: bool) -> None:
    assert matches({"price": [{"numeric": [">", 0, "<=", 10]}]}, {"price": value}) is expected


def test_numeric_equals_and_non_numbers() -> None:
    assert matches({"n": [{"numeric": ["=", 100]}]}, {"n": 100.0})
    assert not matches({"n": [{"numeric": ["=", 100]}]}, {"n": 101})
    assert not matches({"n": [{"numeric": [">", 0]}]}, {"n": "many"})
    assert not matches({"n": [{"numeric": [">", 0]}]}, {"n": None})
    assert not matches({"n": [{"numeric": [">", 0]}]}, {"n": True})  # a boolean is not a number
    assert not matches({"n": [{"numeric": [">", 0]}]}, {})


def test_exists() -> None:
    assert _keeps(INSERT, {"dynamodb": {"NewImage": {"status": [{"exists": True}]}}})
    assert not _keeps(INSERT, {"dynamodb": {"NewImage": {"missing": [{"exists": True}]}}})
    assert _keeps(INSERT, {"dynamodb": {"NewImage": {"missing": [{"exists": False}]}}})
    assert not _keeps(INSERT, {"dynamodb": {"NewImage": {"status": [{"exists": False}]}}})


def test_anything_but() -> None:
    assert _keeps(INSERT, {"eventName": [{"anything-but": ["REMOVE", "MODIFY"]}]})
    assert not _keeps(INSERT, {"eventName": [{"anything-but": ["INSERT"]}]})
    assert not _keeps(INSERT, {"eventName": [{"anything-but": "INSERT"}]})
    assert matches({"n": [{"anything-but": [1, 2]}]}, {"n": 3})
    assert not matches({"n": [{"anything-but": [1, 2]}]}, {"n": 2})
    assert not matches({"n": [{"anything-but": ["x"]}]}, {})  # a missing field is not "anything"


# --- patterns and criteria --------------------------------------------------------------------
def test_no_filters_keeps_everything() -> None:
    assert compile_patterns(None) == [] and compile_patterns({}) == [] and compile_patterns({"Filters": []}) == []
    assert keep([], INSERT)


def test_several_patterns_are_ored() -> None:
    assert _keeps(INSERT, {"eventName": ["REMOVE"]}, {"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}})
    assert not _keeps(INSERT, {"eventName": ["REMOVE"]}, {"eventName": ["MODIFY"]})


# --- Kinesis: data is matched as decoded JSON --------------------------------------------------
def test_kinesis_data_is_matched_as_json() -> None:
    record = _kinesis(json.dumps({"type": "click", "page": "/cart", "latency": 120, "user": {"tier": "gold"}}).encode())
    assert _keeps(record, {"data": {"type": ["click"]}})
    assert not _keeps(record, {"data": {"type": ["view"]}})
    assert _keeps(record, {"data": {"latency": [{"numeric": [">=", 100]}], "page": [{"prefix": "/ca"}]}})
    assert not _keeps(record, {"data": {"latency": [{"numeric": ["<", 100]}]}})
    assert _keeps(record, {"data": {"user": {"tier": ["gold"]}}})
    assert _keeps(record, {"data": {"missing": [{"exists": False}]}})


def test_kinesis_metadata_can_be_matched_next_to_data() -> None:
    record = _kinesis(json.dumps({"type": "click"}).encode(), partition_key="user-9")
    assert _keeps(record, {"kinesis": {"partitionKey": ["user-9"]}, "data": {"type": ["click"]}})
    assert not _keeps(record, {"kinesis": {"partitionKey": ["user-1"]}, "data": {"type": ["click"]}})


def test_kinesis_data_that_is_not_json_only_matches_metadata_patterns() -> None:
    record = _kinesis(b"\x00\x01 not json")
    assert not _keeps(record, {"data": {"type": ["click"]}})
    assert _keeps(record, {"kinesis": {"partitionKey": ["user-1"]}})


def test_matching_leaves_the_delivered_record_untouched() -> None:
    record = _kinesis(json.dumps({"type": "click"}).encode())
    before = copy.deepcopy(record)
    assert _keeps(record, {"data": {"type": ["click"]}})
    assert record == before  # the function still receives base64 data
