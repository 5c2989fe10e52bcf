"""Redrive logic with fakes: failure documents parsed, events rebuilt in AWS's shape, and a
message deleted only when its batch really succeeded."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.redrive import (
    FailedBatch,
    FailureQueue,
    Message,
    NotAFailedBatch,
    Outcome,
    RecordsGone,
    Redriver,
    StreamFetcher,
    dynamodb_event,
    kinesis_event,
)

STREAM = "arn:aws:kinesis:eu-west-1:000000000000:stream/clicks-fanout"
TABLE_STREAM = "arn:aws:dynamodb:eu-west-1:000000000000:table/clicks-events/stream/2026-11-26T00:00:00.000"
FUNCTION = "arn:aws:lambda:eu-west-1:000000000000:function:clicks-http"
ROLE = "arn:aws:iam::000000000000:role/clicks-lambda-role"


def document(kind: str = "KinesisBatchInfo", start: str = "10", end: str = "12", stream: str = STREAM) -> dict[str, Any]:
    """The document AWS sends to an OnFailure destination (shape from AWS's docs)."""
    return {
        "requestContext": {"requestId": "r-1", "functionArn": FUNCTION, "condition": "RetryAttemptsExhausted",
                           "approximateInvokeCount": 11},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-11-26T15:00:00.000Z",
        kind: {"shardId": "shardId-000000000001", "startSequenceNumber": start, "endSequenceNumber": end,
               "approximateArrivalOfFirstRecord": "2026-11-26T14:59:58.000Z",
               "approximateArrivalOfLastRecord": "2026-11-26T14:59:59.000Z", "batchSize": 3, "streamArn": stream},
    }


def kinesis_records(*sequences: int) -> list[dict[str, Any]]:
    at = datetime(2026, 11, 26, 14, 59, 58, 123000, tzinfo=UTC)
    return [{"SequenceNumber": str(s), "ApproximateArrivalTimestamp": at, "Data": b'{"a":1}', "PartitionKey": f"u{s}"}
            for s in sequences]


def test_a_kinesis_failure_document_is_parsed() -> None:
    batch = FailedBatch.parse(json.dumps(document()))
    assert (batch.function_name, batch.source, batch.shard_id, batch.start, batch.end, batch.size) == (
        "clicks-http", "kinesis", "shardId-000000000001", "10", "12", 3)
    assert (batch.stream_name, batch.region) == ("clicks-fanout", "eu-west-1")
    assert batch.replay_hours() == ("2026-11-26T14", "2026-11-26T14")
    assert FailedBatch.parse(json.dumps(document("DDBStreamBatchInfo", stream=TABLE_STREAM))).source == "dynamodb"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        (json.dumps({"requestContext": {"functionArn": FUNCTION}}), "no DDBStreamBatchInfo or KinesisBatchInfo"),
        (json.dumps({"KinesisBatchInfo": {"shardId": "s", "startSequenceNumber": "1", "endSequenceNumber": "2", "streamArn": STREAM}}),
         "missing requestContext.functionArn"),
    ],
)
def test_other_messages_are_not_failed_batches(body: str, reason: str) -> None:
    with pytest.raises(NotAFailedBatch, match=reason):
        FailedBatch.parse(body)


def test_events_have_the_shape_the_mappings_deliver() -> None:
    kinesis = kinesis_event(FailedBatch.parse(json.dumps(document())), kinesis_records(10), ROLE)["Records"][0]
    assert kinesis == {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "u10", "sequenceNumber": "10",
                    "data": base64.b64encode(b'{"a":1}').decode(), "approximateArrivalTimestamp": 1795705198.123},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "shardId-000000000001:10",
        "eventName": "aws:kinesis:record", "invokeIdentityArn": ROLE, "awsRegion": "eu-west-1", "eventSourceARN": STREAM,
    }
    batch = FailedBatch.parse(json.dumps(document("DDBStreamBatchInfo", stream=TABLE_STREAM)))
    stored = {
        "eventID": "e1", "eventName": "REMOVE", "eventVersion": "1.0", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": {"ApproximateCreationDateTime": datetime(2026, 11, 26, 14, 59, 58, 700000, tzinfo=UTC),
                     "Keys": {"uuid": {"S": "u"}}, "OldImage": {"blob": {"B": b"\x00\x01"}}, "SequenceNumber": "10"},
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
    }
    (record,) = dynamodb_event(batch, [stored])["Records"]
    assert record["eventVersion"] == "1.1" and record["awsRegion"] == "eu-west-1"
    assert record["eventSourceARN"] == TABLE_STREAM
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1795705198.0
    assert record["dynamodb"]["OldImage"]["blob"]["B"] == "AAE="
    assert record["userIdentity"]["principalId"] == "dynamodb.amazonaws.com"
    json.dumps(record)  # JSON-ready as a whole


class FakeKinesis:
    def __init__(self, records: list[dict[str, Any]], error: str = "") -> None:
        self.records, self.error, self.pages = records, error, 0

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, Any]:
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "GetShardIterator")
        start = int(kwargs["StartingSequenceNumber"])
        return {"ShardIterator": str(next((i for i, r in enumerate(self.records) if int(r["SequenceNumber"]) >= start), len(self.records)))}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803 - boto3's names
        self.pages += 1
        at = int(ShardIterator)
        page = self.records[at : at + 2]  # small pages: the reader must follow NextShardIterator
        return {"Records": page, "NextShardIterator": str(at + len(page)), "MillisBehindLatest": 0 if not page else 5}


def test_the_range_is_read_across_pages_and_stops_at_its_end() -> None:
    fetcher = StreamFetcher(streams=None, kinesis=(fake := FakeKinesis(kinesis_records(9, 10, 11, 12, 13))))
    records = fetcher.fetch(FailedBatch.parse(json.dumps(document())))
    assert [r["SequenceNumber"] for r in records] == ["10", "11", "12"]
    assert fake.pages == 2


@pytest.mark.parametrize(
    ("stored", "error", "why"),
    [
        (kinesis_records(11, 12), "", "first record \\(10\\) is no longer in the stream"),  # trimmed from the front
        ([], "", "first record"),  # the stream is empty now
        (kinesis_records(10, 11), "", "ends before its last record \\(12\\)"),
        ([], "ResourceNotFoundException", "refused the range"),  # the stream was deleted
    ],
)
def test_records_no_longer_in_the_stream_are_gone(stored: list[dict[str, Any]], error: str, why: str) -> None:
    with pytest.raises(RecordsGone, match=why):
        StreamFetcher(streams=None, kinesis=FakeKinesis(stored, error)).fetch(FailedBatch.parse(json.dumps(document())))


class FakeQueue(FailureQueue):
    def __init__(self, bodies: list[str]) -> None:
        self.messages = [Message(f"m{i}", f"h{i}", body) for i, body in enumerate(bodies)]
        self.deleted: list[str] = []
        self.released: list[str] = []

    def receive_all(self) -> list[Message]:
        return list(self.messages)

    def delete(self, message: Message) -> None:
        self.deleted.append(message.message_id)

    def release(self, message: Message) -> None:
        self.released.append(message.message_id)


class FakeFetcher(StreamFetcher):
    def __init__(self, gone: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.gone = gone

    def fetch(self, batch: FailedBatch) -> list[dict[str, Any]]:
        if batch.start in self.gone:
            raise RecordsGone("trimmed")
        return kinesis_records(*range(int(batch.start), int(batch.end) + 1))


class FakeLambda:
    def __init__(self, answers: list[dict[str, Any] | Exception], response_types: list[str] | None = None) -> None:
        self.answers = answers
        self.response_types = ["ReportBatchItemFailures"] if response_types is None else response_types
        self.events: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        self.events.append(json.loads(Payload))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return {"Payload": io.BytesIO(json.dumps(answer["payload"]).encode()), **({"FunctionError": "Unhandled"} if answer.get("error") else {})}

    def get_function(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803
        return {"Configuration": {"Role": ROLE}}

    def list_event_source_mappings(self, **_: Any) -> dict[str, Any]:
        return {"EventSourceMappings": [{"FunctionResponseTypes": self.response_types}]}


def _redrive(queue: FakeQueue, lam: FakeLambda, fetcher: FakeFetcher | None = None, dry_run: bool = False) -> list[Message]:
    redriver = Redriver(queue, fetcher or FakeFetcher(), lam)
    messages = redriver.collect()
    redriver.run(messages, dry_run=dry_run, advance=lambda _: None)
    return messages


def test_only_successful_batches_are_deleted_and_the_rest_released() -> None:
    bodies = [json.dumps(document(start=s, end=e)) for s, e in (("20", "21"), ("10", "12"), ("30", "30"), ("40", "41"))]
    queue = FakeQueue([*bodies, "junk"])
    lam = FakeLambda([
        {"payload": {"batchItemFailures": []}},  # 10..12: ok
        {"payload": {"errorMessage": "sink down"}, "error": True},  # 20..21: fails again
        {"payload": {"batchItemFailures": [{"itemIdentifier": "40"}]}},  # 40..41: partial failure
    ])
    messages = {m.message_id: m for m in _redrive(queue, lam, FakeFetcher(gone={"30"}))}
    # in stream order, whatever the queue's order; each batch's records exactly
    assert [[r["kinesis"]["sequenceNumber"] for r in e["Records"]] for e in lam.events] == [["10", "11", "12"], ["20", "21"], ["40", "41"]]
    assert all(r["invokeIdentityArn"] == ROLE for e in lam.events for r in e["Records"])
    assert {k: m.outcome for k, m in messages.items()} == {
        "m1": Outcome.REDRIVEN, "m0": Outcome.FAILED, "m2": Outcome.GONE, "m3": Outcome.FAILED, "m4": Outcome.UNREADABLE}
    assert "sink down" in messages["m0"].detail and "1 of 2 records" in messages["m3"].detail
    assert queue.deleted == ["m1"] and sorted(queue.released) == ["m0", "m2", "m3", "m4"]


def test_reported_failures_count_only_with_report_batch_item_failures() -> None:
    queue = FakeQueue([json.dumps(document())])
    _redrive(queue, FakeLambda([{"payload": {"batchItemFailures": [{"itemIdentifier": "11"}]}}], response_types=[]))
    assert queue.deleted == ["m0"]  # without ReportBatchItemFailures AWS ignores the answer: the batch succeeded


def test_a_dry_run_invokes_and_deletes_nothing() -> None:
    queue, lam = FakeQueue([json.dumps(document())]), FakeLambda([])
    (message,) = _redrive(queue, lam, dry_run=True)
    assert (message.outcome, message.records) == (Outcome.PENDING, 3)
    assert lam.events == [] and queue.deleted == [] and queue.released == ["m0"]


def test_ctrl_c_releases_every_message_not_yet_redriven() -> None:
    queue = FakeQueue([json.dumps(document(start=s, end=s)) for s in ("1", "2", "3")])
    with pytest.raises(KeyboardInterrupt):
        _redrive(queue, FakeLambda([{"payload": None}, KeyboardInterrupt()]))
    assert queue.deleted == ["m0"] and sorted(queue.released) == ["m1", "m2"]


def test_a_batch_describes_its_size_in_good_english() -> None:
    one = document()
    one["KinesisBatchInfo"]["batchSize"] = 1
    assert FailedBatch.parse(json.dumps(one)).describe().endswith("(1 record)")
    assert FailedBatch.parse(json.dumps(document())).describe().endswith("(3 records)")
