"""archive: raw events into the data lake under idempotent keys, TTL deletions also under deleted/."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from botocore.exceptions import ClientError

from functions import _stream, archive
from functions._config import ConfigurationError
from tests.unit.functions.conftest import DATA_LAKE
from tests.unit.functions.fakes import FakeContext, client_error

U2 = "8a7b6c5d-4e3f-4a1b-8c2d-9e0f1a2b3c4d"
HOUR = "year=2026/month=11/day=26/hour=14"
RAW_KEY = re.compile(r"raw/(?P<hour>year=\d{4}/month=\d\d/day=\d\d/hour=\d\d)/(?P<first>\w+)-(?P<last>\w+)-[0-9a-f]{12}\.json")


def raw_keys(s3) -> list[str]:
    return [key for key in s3.keys(DATA_LAKE) if key.startswith("raw/")]


def test_event_is_stored_exactly_as_received_under_its_hour(s3, load_event):
    event = load_event("dynamodb_clicks")
    assert archive.handler(event, FakeContext()) == {"batchItemFailures": []}

    (key,) = s3.keys(DATA_LAKE)
    match = RAW_KEY.fullmatch(key)
    assert match, key
    assert match["hour"] == HOUR
    assert (match["first"], match["last"]) == ("1100000000017454423001".zfill(40), "1100000000017454423005".zfill(40))
    assert s3.json(DATA_LAKE, key) == load_event("dynamodb_clicks")
    assert s3.calls[0]["ContentType"] == "application/json"


def test_same_batch_twice_lands_on_the_same_key(s3, load_event):
    archive.handler(load_event("dynamodb_clicks"), FakeContext())
    archive.handler(load_event("dynamodb_clicks"), FakeContext())
    assert len(s3.calls) == 2
    assert len(s3.keys(DATA_LAKE)) == 1


def test_reused_sequence_numbers_of_a_recreated_table_get_a_new_key(s3, load_event):
    archive.handler(load_event("dynamodb_clicks"), FakeContext())
    recreated = load_event("dynamodb_clicks")
    for record in recreated["Records"]:
        record["eventID"] = record["eventID"][::-1]
    archive.handler(recreated, FakeContext())
    first, second = raw_keys(s3)
    assert RAW_KEY.fullmatch(first)["first"] == RAW_KEY.fullmatch(second)["first"]  # type: ignore[index]
    assert first != second


def test_ttl_deletion_is_also_backed_up_with_its_old_image(s3, load_event):
    event = load_event("dynamodb_ttl_remove")
    archive.handler(event, FakeContext())

    (record,) = event["Records"]
    backup_key = f"deleted/{HOUR}/{U2}/{record['eventID']}.json"
    assert backup_key in s3.keys(DATA_LAKE)
    assert len(raw_keys(s3)) == 1
    backup = s3.json(DATA_LAKE, backup_key)
    assert backup == record
    assert backup["dynamodb"]["OldImage"]["expires_at"] == {"N": str(1795701900 - 60)}


def test_localstack_ttl_remove_without_identity_is_backed_up_but_a_user_delete_is_not(s3, load_event):
    event = load_event("dynamodb_ttl_remove_localstack")
    archive.handler(event, FakeContext())
    expired = event["Records"][0]
    deleted = [key for key in s3.keys(DATA_LAKE) if key.startswith("deleted/")]
    assert deleted == [f"deleted/{HOUR}/{U2}/{expired['eventID']}.json"]


def test_keys_only_ttl_remove_is_backed_up_with_the_keys_it_has(s3, load_event):
    event = load_event("dynamodb_keys_only")
    archive.handler(event, FakeContext())
    ttl = event["Records"][3]
    deleted = [key for key in s3.keys(DATA_LAKE) if key.startswith("deleted/")]
    assert deleted == [f"deleted/{HOUR}/{U2}/{ttl['eventID']}.json"]
    assert s3.json(DATA_LAKE, deleted[0])["dynamodb"]["Keys"] == {"uuid": {"S": U2}}


def test_user_deletes_are_only_in_the_raw_archive(s3, load_event):
    archive.handler(load_event("dynamodb_clicks"), FakeContext())
    assert [key for key in s3.keys(DATA_LAKE) if key.startswith("deleted/")] == []


def test_aws_sample_without_creation_time_goes_under_the_current_hour(s3, load_event, monkeypatch):
    monkeypatch.setattr(_stream, "time", SimpleNamespace(time=lambda: 1700000000.0))
    event = load_event("dynamodb_aws_sample")
    archive.handler(event, FakeContext())
    (key,) = s3.keys(DATA_LAKE)
    match = RAW_KEY.fullmatch(key)
    assert match and match["hour"] == "year=2023/month=11/day=14/hour=22"
    assert (match["first"], match["last"]) == ("111".zfill(40), "222".zfill(40))
    assert s3.json(DATA_LAKE, key) == event


def test_junk_records_are_archived_verbatim(s3, load_event):
    event = load_event("dynamodb_junk")
    event["Records"].append("not even an object")
    archive.handler(event, FakeContext())
    (key,) = s3.keys(DATA_LAKE)
    assert s3.json(DATA_LAKE, key) == event


def test_failed_raw_write_fails_the_batch(s3, load_event):
    s3.fail_once["raw/"] = client_error("SlowDown", "PutObject")
    with pytest.raises(ClientError, match="SlowDown"):
        archive.handler(load_event("dynamodb_ttl_remove"), FakeContext())


def test_backups_are_written_before_the_raw_object(s3, load_event):
    archive.handler(load_event("dynamodb_keys_only"), FakeContext())
    assert [call["Key"].split("/")[0] for call in s3.calls] == ["deleted", "raw"]


def test_failed_ttl_backup_leaves_no_raw_object_and_the_retry_writes_exactly_one(s3, load_event):
    s3.fail_once["deleted/"] = client_error("InternalError", "PutObject")
    with pytest.raises(ClientError, match="InternalError"):
        archive.handler(load_event("dynamodb_ttl_remove"), FakeContext())
    assert raw_keys(s3) == []  # nothing a differently cut retry could duplicate

    archive.handler(load_event("dynamodb_ttl_remove"), FakeContext())
    assert len(raw_keys(s3)) == 1
    assert len([key for key in s3.keys(DATA_LAKE) if key.startswith("deleted/")]) == 1


def test_bisected_retry_after_a_failed_backup_archives_each_record_once(s3, load_event):
    """The mapping bisects a failed batch and the halves get keys of their own."""
    event = load_event("dynamodb_keys_only")  # its last record is a TTL deletion
    s3.fail_once["deleted/"] = client_error("InternalError", "PutObject")
    with pytest.raises(ClientError, match="InternalError"):
        archive.handler(event, FakeContext())

    for half in (event["Records"][:2], event["Records"][2:]):
        archive.handler({"Records": half}, FakeContext())
    archived = [r["eventID"] for key in raw_keys(s3) for r in s3.json(DATA_LAKE, key)["Records"]]
    assert sorted(archived) == sorted(r["eventID"] for r in event["Records"])  # each exactly once


def test_empty_batch_writes_nothing(s3, load_event):
    assert archive.handler(load_event("dynamodb_empty"), FakeContext()) == {"batchItemFailures": []}
    assert s3.calls == []


def test_missing_bucket_setting_is_a_clear_error(s3, load_event, monkeypatch):
    monkeypatch.delenv("DATA_LAKE_BUCKET")
    with pytest.raises(ConfigurationError, match="DATA_LAKE_BUCKET is not set"):
        archive.handler(load_event("dynamodb_clicks"), FakeContext())


@pytest.mark.parametrize("event", [{}, {"Records": "x"}, [], None])
def test_not_a_stream_event_fails(s3, event):
    with pytest.raises(ValueError, match="Records"):
        archive.handler(event, FakeContext())  # type: ignore[arg-type]


def test_keys_sort_in_sequence_order_across_a_digit_boundary():
    """moto counts sequence numbers from 1: unpadded, the batch 10..12 would sort before 8..9,
    and a reader listing with StartAfter would miss it (issue 11's consumer A stall)."""

    def batch(*sequences: int) -> list:
        return [DynamoDBRecord({"eventID": f"e{n}", "dynamodb": {"SequenceNumber": str(n), "ApproximateCreationDateTime": 1764165600}})
                for n in sequences]

    keys = [archive.raw_key(batch(8, 9)), archive.raw_key(batch(10, 12)), archive.raw_key(batch(100, 101))]
    assert sorted(keys) == keys


def test_a_retry_after_a_crash_that_followed_the_final_put_archives_nothing_twice(s3, load_event):
    """Regression (make chaos, worker-kill): the archive's mapping must retry the same cut.

    A worker killed after its raw put but before it answered fails the invocation; the
    retry of the same records rewrites the same key. Bisected halves would not.
    """
    from bootstrap.settings import Settings
    from bootstrap.topology import Topology

    spec = Topology.from_settings(Settings(endpoint_url="http://127.0.0.1:4566")).function("archive")
    assert spec.bisect_on_error is False
    event = load_event("dynamodb_clicks")
    archive.handler(event, FakeContext())  # its work done; the answer lost to the crash
    archive.handler(event, FakeContext())  # the mapping's retry: the same cut
    archived = [r["eventID"] for key in raw_keys(s3) for r in s3.json(DATA_LAKE, key)["Records"]]
    assert sorted(archived) == sorted(r["eventID"] for r in event["Records"])
