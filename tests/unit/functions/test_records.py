"""The shared record helpers: TTL detection, item keys, time partitions, DynamoDB JSON -> rows."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from functions import _retry, _stream
from functions._rows import decode, image, to_row
from functions._stream import JunkRecord, hour_partition, is_ttl_delete, item_key, validate

U1 = "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f"
U2 = "8a7b6c5d-4e3f-4a1b-8c2d-9e0f1a2b3c4d"
T0 = 1795701900  # 2026-11-26T14:05:00Z, the fixtures' clock


def records(load_event, name: str) -> list[DynamoDBRecord]:
    return [DynamoDBRecord(raw) for raw in load_event(name)["Records"]]


class TestTtlDetection:
    def test_aws_service_identity_marks_a_ttl_delete(self, load_event):
        (record,) = records(load_event, "dynamodb_ttl_remove")
        assert is_ttl_delete(record)

    def test_localstack_remove_without_identity_counts_only_when_expired(self, load_event):
        expired, live = records(load_event, "dynamodb_ttl_remove_localstack")
        assert is_ttl_delete(expired)  # expires_at = T0-60 <= created T0+51
        assert not is_ttl_delete(live)  # expires_at = T0+3600: a user deleted it

    def test_expiry_equal_to_creation_time_counts(self, load_event):
        (record,) = load_event("dynamodb_ttl_remove")["Records"]
        del record["userIdentity"]
        record["dynamodb"]["OldImage"]["expires_at"] = {"N": str(record["dynamodb"]["ApproximateCreationDateTime"])}
        assert is_ttl_delete(DynamoDBRecord(record))

    def test_user_deletes_inserts_and_modifies_are_not_ttl(self, load_event):
        assert [is_ttl_delete(r) for r in records(load_event, "dynamodb_clicks")] == [False] * 5

    def test_keys_only_remove_needs_the_identity(self, load_event):
        flags = [is_ttl_delete(r) for r in records(load_event, "dynamodb_keys_only")]
        assert flags == [False, False, False, True]

    def test_other_identity_is_not_ttl(self, load_event):
        (record,) = load_event("dynamodb_ttl_remove")["Records"]
        record["userIdentity"] = {"type": "Service", "principalId": "someone.else.amazonaws.com"}
        assert not is_ttl_delete(DynamoDBRecord(record))


class TestItemKeyAndValidation:
    def test_uuid_is_the_key(self, load_event):
        assert [item_key(r) for r in records(load_event, "dynamodb_clicks")][:2] == [U1, U2]

    def test_other_key_schemas_get_a_stable_digest(self, load_event):
        first, second = records(load_event, "dynamodb_aws_sample")
        assert item_key(first) == item_key(second)
        assert item_key(first).startswith("key-") and len(item_key(first)) == 44

    @pytest.mark.parametrize(
        "raw",
        [
            "a string",
            {"eventID": "e1", "eventName": "UPSERT", "dynamodb": {"Keys": {"uuid": {"S": "x"}}}},
            {"eventID": "e1", "eventName": "INSERT", "dynamodb": {"SequenceNumber": "1"}},
            {"eventName": "INSERT", "dynamodb": {"Keys": {"uuid": {"S": "x"}}}},
            {"eventID": "e1", "eventName": "INSERT", "dynamodb": "nope"},
        ],
    )
    def test_junk_is_rejected(self, raw):
        with pytest.raises(JunkRecord):
            validate(raw)


def test_hour_partition_is_utc():
    assert hour_partition(T0) == "year=2026/month=11/day=26/hour=14"
    assert hour_partition(0) == "year=1970/month=01/day=01/hour=00"


def test_hour_partition_without_time_uses_now(monkeypatch):
    monkeypatch.setattr(_stream, "time", SimpleNamespace(time=lambda: 1700000000.0))
    assert hour_partition(None) == "year=2023/month=11/day=14/hour=22"


def test_backoff_is_bounded_and_growing(monkeypatch):
    monkeypatch.setattr(_retry.random, "uniform", lambda low, high: high)  # the longest possible waits
    assert list(_retry.delays(6, base=0.1, cap=0.5)) == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])
    assert list(_retry.delays(1, base=0.1, cap=0.5)) == []


def test_every_attribute_type_becomes_plain_json(load_event):
    (raw,) = load_event("dynamodb_attribute_types")["Records"]
    converted = image(raw["dynamodb"]["NewImage"])
    assert converted["extra_binary"] == base64.b64encode(b"\x00\x01click\xff").decode()
    assert converted["blobs"] == sorted([base64.b64encode(b"a").decode(), base64.b64encode(b"b").decode()])
    assert converted["tags"] == ["beta", "mobile", "promo"]
    assert converted["scores"] == [-2, 1.5, 3]
    assert converted["big"] == 12345678901234567890123456789012345678  # exact, not a float
    assert converted["ratio"] == 0.25
    assert converted["ts"] == 1795701900123 and isinstance(converted["ts"], int)
    assert converted["path"] == ["/", 2, True, None]
    assert converted["device"] == {"os": "android", "version": 14, "flags": [False]}
    assert converted["user"] == "u-ünïcødé"


def test_row_of_an_insert(load_event):
    (raw,) = load_event("dynamodb_attribute_types")["Records"]
    row = to_row(DynamoDBRecord(raw), "4965", processed_at_ms=42)
    assert row == {
        "event_id": raw["eventID"],
        "event_name": "INSERT",
        "uuid": U1,
        "user": "u-ünïcødé",
        "action": "AddToCart",
        "page": "/products/42",
        "session": "s-7f3a",
        "ts": 1795701900123,
        "run_id": "run-20261126-a",
        "sequence": "1100000000017454423061",
        "created_at": T0 + 61,
        "ttl_delete": False,
        "kinesis_sequence": "4965",
        "processed_at": 42,
    }


def test_rows_follow_the_stream_view_type(load_event):
    keys_only = [to_row(r, None, 0) for r in records(load_event, "dynamodb_keys_only")]
    assert {row["uuid"] for row in keys_only[:3]} == {U1}
    assert all(row[f] is None for row in keys_only for f in ("user", "action", "page", "session", "ts", "run_id"))
    assert [row["ttl_delete"] for row in keys_only] == [False, False, False, True]

    insert, modify, remove = [to_row(r, None, 0) for r in records(load_event, "dynamodb_old_image")]
    assert insert["uuid"] == U1 and insert["action"] is None  # OLD_IMAGE: an INSERT has no image
    assert modify["ts"] == T0 * 1000 + 123  # the image before the update
    assert remove["ts"] == T0 * 1000 + 5123

    _, removed = [to_row(r, None, 0) for r in records(load_event, "dynamodb_new_image_remove")]
    assert removed["event_name"] == "REMOVE" and removed["uuid"] == "c0ffee00-1234-4abc-8def-0123456789ab"
    assert removed["user"] is None


@pytest.mark.parametrize(
    "data",
    ["%%% not base64 %%%", base64.b64encode(b"\xff\xfe").decode(), base64.b64encode(b"[1]").decode(), ""],
)
def test_undecodable_kinesis_data_is_junk(data):
    record = KinesisStreamRecord({"kinesis": {"data": data, "sequenceNumber": "1"}})
    with pytest.raises(JunkRecord):
        decode(record)


def test_garbled_image_is_junk():
    raw = {"eventID": "e", "eventName": "INSERT", "dynamodb": {"Keys": {"uuid": {"S": "x"}}, "NewImage": {"a": {"Q": 1}}}}
    with pytest.raises(JunkRecord):
        to_row(validate(raw), None, 0)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("1234567895171680000000000000000000000000", 1234567895171680000000000000000000000000),  # 16 digits of precision
        ("12345678901234567890123456789012345678", 12345678901234567890123456789012345678),
        ("-0.000125", -0.000125),
    ],
)
def test_valid_dynamodb_numbers_convert_exactly(number, expected):
    """boto3's own deserializer raises decimal.Rounded on the first (boto/boto3#4693)."""
    assert image({"n": {"N": number}, "ns": {"NS": [number]}}) == {"n": expected, "ns": [expected]}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "", "1,5"])
def test_non_numbers_are_junk(number):
    with pytest.raises(JunkRecord):
        image({"n": {"N": number}})


def test_ttl_detection_accepts_a_plain_record(load_event):
    expired, live = load_event("dynamodb_ttl_remove_localstack")["Records"]
    assert is_ttl_delete(expired) and not is_ttl_delete(live)
