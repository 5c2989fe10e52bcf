"""What a replay sends: archived events unchanged, Kinesis events that keep consumer A's cuts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from functions.consumer_analytics import object_key
from sandbox import lake
from sandbox.errors import ConfigError
from sandbox.replay_events import (
    Archived,
    KinesisSource,
    Placement,
    analytics_invocations,
    http_invocations,
    table_stream_invocations,
    valid,
)
from tests.fixtures import load_event

SOURCE = KinesisSource("arn:aws:kinesis:us-east-1:000000000000:stream/clicks-fanout", "arn:aws:iam::000000000000:role/r", "us-east-1")
RECORDS = load_event("dynamodb_clicks")["Records"]  # INSERT, MODIFY, REMOVE of one item (+ more)


def key_of(event: dict) -> str:
    records = [KinesisStreamRecord(r) for r in event["Records"]]
    return object_key(records[0], records[-1])


def test_table_stream_functions_get_the_archived_event_unchanged() -> None:
    event = load_event("dynamodb_clicks")
    (invocation,) = table_stream_invocations([Archived("raw/x.json", event), Archived("raw/empty.json", {"Records": []})])
    assert invocation.event is event and invocation.records == len(event["Records"])


def test_kinesis_data_is_what_fanout_puts() -> None:
    (invocation,) = http_invocations(RECORDS, SOURCE, batch_size=100)
    fanned = load_event("kinesis_fanout_clicks")["Records"]
    assert [r["kinesis"]["data"] for r in invocation.event["Records"]] == [r["kinesis"]["data"] for r in fanned]
    assert lake.stream_records(invocation.event) == RECORDS
    first = invocation.event["Records"][0]
    assert first["eventID"] == f"replay:{RECORDS[0]['dynamodb']['SequenceNumber']}"
    assert (first["eventSourceARN"], first["invokeIdentityArn"]) == (SOURCE.stream_arn, SOURCE.role_arn)


def test_http_batches_follow_the_mapping_size() -> None:
    assert [i.records for i in http_invocations(RECORDS, SOURCE, batch_size=2)] == [2] * (len(RECORDS) // 2) + (
        [1] if len(RECORDS) % 2 else []
    )


def test_stored_records_are_resent_in_their_whole_original_cut() -> None:
    # GIVEN consumer A stored all records in one object, and only the second is selected
    cut = f"clicks/dt=2026-11-26/shardId-000000000001-{'41'.zfill(56)}-{'43'.zfill(56)}.jsonl"
    ids = [r["eventID"] for r in RECORDS[:3]]
    placements = {i: Placement(cut, "shardId-000000000001", str(41 + n)) for n, i in enumerate(ids)}
    lookup = {r["eventID"]: r for r in RECORDS}
    invocations, notes = analytics_invocations([RECORDS[1]], placements, {cut: ids}, lookup, SOURCE, 100)
    # THEN the whole cut is re-sent, so consumer A rewrites exactly that object
    (invocation,) = invocations
    assert not notes and invocation.records == 3
    assert key_of(invocation.event) == cut


def test_unstored_records_get_a_stable_replay_cut() -> None:
    first = analytics_invocations(RECORDS, {}, {}, {}, SOURCE, 100)[0]
    again = analytics_invocations(RECORDS, {}, {}, {}, SOURCE, 100)[0]
    assert key_of(first[0].event) == key_of(again[0].event)
    seqs = [r["dynamodb"]["SequenceNumber"] for r in RECORDS]
    day = datetime.fromtimestamp(RECORDS[0]["dynamodb"]["ApproximateCreationDateTime"], UTC)
    assert key_of(first[0].event) == f"clicks/dt={day:%Y-%m-%d}/replay-{seqs[0].zfill(56)}-{seqs[-1].zfill(56)}.jsonl"


def test_a_cut_that_cannot_be_rebuilt_is_left_alone() -> None:
    cut = "clicks/dt=2026-11-26/shardId-000000000000-1-2.jsonl"
    placements = {RECORDS[0]["eventID"]: Placement(cut, "shardId-000000000000", "1")}
    invocations, notes = analytics_invocations([RECORDS[0]], placements, {cut: [RECORDS[0]["eventID"], "gone"]}, {RECORDS[0]["eventID"]: RECORDS[0]}, SOURCE, 100)
    assert invocations == [] and notes == [f"left {cut} as it is: 1 of its records are not in the data lake"]


def test_records_fanout_would_refuse_are_skipped_with_a_note() -> None:
    junk = {"eventID": "j", "eventName": "INSERT"}
    good, notes = valid([RECORDS[0], junk])
    assert good == [RECORDS[0]] and len(notes) == 1 and notes[0].startswith("skipped j:")


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [("2026-11-26T15", False, "2026-11-26T15"), ("2026-11-26", False, "2026-11-26T00"), ("2026-11-26", True, "2026-11-26T23"),
     ("2026-11-26T15:42", False, "2026-11-26T15")],
)
def test_hours_parse(text: str, end: bool, expected: str) -> None:
    assert f"{lake.parse_hour(text, end_of_day=end):%Y-%m-%dT%H}" == expected


def test_windows_are_bounded_and_ordered() -> None:
    start = lake.parse_hour("2026-11-26T22")
    assert [f"{h:%d/%H}" for h in lake.hours_between(start, lake.parse_hour("2026-11-27T01"))] == ["26/22", "26/23", "27/00", "27/01"]
    with pytest.raises(ConfigError, match="before --from"):
        lake.hours_between(start, lake.parse_hour("2026-11-26T21"))
    with pytest.raises(ConfigError, match="too wide"):
        lake.hours_between(start, lake.parse_hour("2027-11-26"))
    with pytest.raises(ConfigError, match="is not an hour"):
        lake.parse_hour("26/11/2026")


def test_object_names_give_their_sequence_ranges() -> None:
    assert lake.raw_range("raw/year=2026/month=11/day=26/hour=15/10-19-0123456789ab.json") == lake.SeqRange("", 10, 19)
    assert lake.analytics_range("clicks/dt=2026-11-26/shardId-000000000001-7-10.jsonl") == lake.SeqRange("shardId-000000000001", 7, 10)
    assert lake.analytics_range("clicks/dt=2026-11-26/replay-5-9.jsonl") == lake.SeqRange("replay", 5, 9)
    assert lake.raw_range("raw/odd.json") is None
