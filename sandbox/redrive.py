"""Redrive failed stream batches: from the failure queue back through their function.

When a stream mapping gives up on a batch (retries exhausted, record too old), AWS
sends a description of it to the OnFailure destination, our SQS queue: which
function, stream, shard and sequence range, not the records themselves
(``DDBStreamBatchInfo`` or ``KinesisBatchInfo``). To redrive one we read that range
from the stream again (GetShardIterator AT_SEQUENCE_NUMBER, GetRecords up to the
end sequence number), rebuild the event the mapping would have delivered, invoke
the function synchronously, and delete the message only if the invocation
succeeded (and, for a mapping with ReportBatchItemFailures, reported no failure).
Every sink is idempotent, so redriving a batch that partly got through is safe.

Records the stream no longer holds (24 h retention on AWS; trimmed by the emulator)
cannot be redriven from here: the message is kept and the data lake is the way
back (``sandbox replay``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from sandbox.lambda_events import dynamodb_record, kinesis_record, wire
from sandbox.output import plural

#: A received message stays invisible to others this long while we work on it.
VISIBILITY_TIMEOUT_S = 900
#: GetRecords pages read per batch at most (a batch is at most 10,000 records).
MAX_PAGES = 100
#: Empty GetRecords pages in a row after which a range is taken as read to its end.
MAX_EMPTY_PAGES = 3
#: Stream errors that mean the records (or the whole stream) are gone.
GONE_CODES = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException", "ExpiredIteratorException"})
BATCH_INFO_KEYS = {"DDBStreamBatchInfo": "dynamodb", "KinesisBatchInfo": "kinesis"}


class NotAFailedBatch(ValueError):
    """The message is not a stream batch failure document (its text says why)."""


class RecordsGone(Exception):
    """The batch's records are no longer in the stream (its text says how we know)."""


class Outcome(StrEnum):
    REDRIVEN = "redriven"  # invoked successfully, message deleted
    FAILED = "failed"  # the function failed again: message kept
    GONE = "gone"  # records no longer in the stream: message kept
    UNREADABLE = "unreadable"  # not a failure document: message kept
    PENDING = "would redrive"  # --dry-run


@dataclass(frozen=True)
class FailedBatch:
    """One failure document: which records of which stream a function gave up on."""

    function_arn: str
    source: str  # dynamodb | kinesis
    stream_arn: str
    shard_id: str
    start: str  # first sequence number (inclusive)
    end: str  # last sequence number (inclusive)
    size: int | None  # batchSize, when the document says
    condition: str = ""
    first_arrival: str = ""  # approximateArrivalOfFirstRecord (ISO 8601), when the document says
    last_arrival: str = ""

    @property
    def function_name(self) -> str:
        """``arn:aws:lambda:region:account:function:NAME[:qualifier]`` -> NAME."""
        parts = self.function_arn.split(":")
        return parts[6] if len(parts) >= 7 and parts[5] == "function" else self.function_arn

    @property
    def stream_name(self) -> str:
        return self.stream_arn.split(":stream/", 1)[-1]

    @property
    def region(self) -> str:
        parts = self.stream_arn.split(":")
        return parts[3] if len(parts) > 3 and parts[3] else "us-east-1"

    def describe(self) -> str:
        count = plural(self.size, "record") if self.size is not None else "records"
        return f"{self.source} {self.shard_id} {self.start}..{self.end} ({count})"

    @classmethod
    def parse(cls, body: str) -> FailedBatch:
        try:
            document = json.loads(body)
        except ValueError:
            raise NotAFailedBatch("not JSON") from None
        if not isinstance(document, dict):
            raise NotAFailedBatch("not a JSON object")
        found = [key for key in BATCH_INFO_KEYS if isinstance(document.get(key), dict)]
        if not found:
            raise NotAFailedBatch("no DDBStreamBatchInfo or KinesisBatchInfo")
        info = document[found[0]]
        context = document.get("requestContext") if isinstance(document.get("requestContext"), dict) else {}
        missing = [k for k in ("shardId", "startSequenceNumber", "endSequenceNumber", "streamArn") if not info.get(k)]
        if not context.get("functionArn"):
            missing.append("requestContext.functionArn")
        if missing:
            raise NotAFailedBatch(f"missing {', '.join(missing)}")
        size = info.get("batchSize")
        return cls(
            function_arn=str(context["functionArn"]),
            source=BATCH_INFO_KEYS[found[0]],
            stream_arn=str(info["streamArn"]),
            shard_id=str(info["shardId"]),
            start=str(info["startSequenceNumber"]),
            end=str(info["endSequenceNumber"]),
            size=int(size) if isinstance(size, int) else None,
            condition=str(context.get("condition") or ""),
            first_arrival=str(info.get("approximateArrivalOfFirstRecord") or ""),
            last_arrival=str(info.get("approximateArrivalOfLastRecord") or ""),
        )

    def replay_hours(self) -> tuple[str, str] | None:
        """``(YYYY-MM-DDTHH, YYYY-MM-DDTHH)`` the records arrived in (for a `sandbox replay` hint)."""
        if len(self.first_arrival) < 13 or len(self.last_arrival) < 13:
            return None
        return self.first_arrival[:13], self.last_arrival[:13]


@dataclass
class Message:
    """One SQS message of the failure queue and what became of it."""

    message_id: str
    receipt_handle: str
    body: str
    batch: FailedBatch | None = None
    outcome: Outcome | None = None
    records: int = 0
    detail: str = ""

    def sort_key(self) -> tuple[Any, ...]:
        b = self.batch
        if b is None:
            return (1, "", "", "", 0, self.message_id)
        return (0, b.function_name, b.stream_arn, b.shard_id, _seq(b.start), self.message_id)


def _seq(value: str) -> int:
    return int(value) if value.isdigit() else 0


class FailureQueue:
    """The failure queue: every message received (hidden while we work), then deleted or released."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self.url = queue_url

    def receive_all(self) -> list[Message]:
        """Every message now in the queue (a last long poll makes sure none was missed)."""
        messages: dict[str, Message] = {}
        wait = 0
        while True:
            page = self._sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, VisibilityTimeout=VISIBILITY_TIMEOUT_S, WaitTimeSeconds=wait
            ).get("Messages", [])
            for raw in page:
                messages.setdefault(raw["MessageId"], Message(raw["MessageId"], raw["ReceiptHandle"], raw.get("Body", "")))
            if not page:
                if wait:
                    return list(messages.values())
                wait = 1
            else:
                wait = 0

    def delete(self, message: Message) -> None:
        self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt_handle)

    def release(self, message: Message) -> None:
        """Make a kept message visible again at once (for `sandbox status` and the next redrive)."""
        self._sqs.change_message_visibility(QueueUrl=self.url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0)

    def remaining(self) -> int:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return sum(int(v) for v in attributes.values())


class StreamFetcher:
    """Reads a batch's sequence range back from its DynamoDB or Kinesis stream."""

    def __init__(self, streams: Any, kinesis: Any) -> None:
        self._streams = streams
        self._kinesis = kinesis

    def fetch(self, batch: FailedBatch) -> list[dict[str, Any]]:
        """The batch's records, in order; RecordsGone if the stream no longer has all of them."""
        try:
            records = list(self._read(batch))
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in GONE_CODES or (batch.source == "kinesis" and code == "InvalidArgumentException"):
                raise RecordsGone(f"the stream refused the range ({code})") from error
            raise
        first = _sequence(batch, records[0]) if records else None
        if first != batch.start:
            raise RecordsGone(f"its first record ({batch.start}) is no longer in the stream (expired or trimmed)")
        if _sequence(batch, records[-1]) != batch.end:
            raise RecordsGone(f"the stream ends before its last record ({batch.end})")
        return records

    def _read(self, batch: FailedBatch) -> Iterator[dict[str, Any]]:
        end, empty = int(batch.end), 0
        iterator, get = self._start(batch)
        for _ in range(MAX_PAGES):
            if not iterator:
                return
            page = get(iterator)
            records = page.get("Records", [])
            for record in records:
                if int(_sequence(batch, record)) > end:
                    return
                yield record
                if int(_sequence(batch, record)) == end:
                    return
            empty = 0 if records else empty + 1
            if empty >= MAX_EMPTY_PAGES or (not records and not page.get("MillisBehindLatest", 1)):
                return
            iterator = page.get("NextShardIterator")

    def _start(self, batch: FailedBatch) -> tuple[str | None, Callable[[str], dict[str, Any]]]:
        if batch.source == "dynamodb":
            iterator = self._streams.get_shard_iterator(
                StreamArn=batch.stream_arn, ShardId=batch.shard_id,
                ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=batch.start,
            ).get("ShardIterator")
            return iterator, lambda it: self._streams.get_records(ShardIterator=it, Limit=1000)
        iterator = self._kinesis.get_shard_iterator(
            StreamName=batch.stream_name, ShardId=batch.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=batch.start,
        ).get("ShardIterator")
        return iterator, lambda it: self._kinesis.get_records(ShardIterator=it, Limit=1000)


def _sequence(batch: FailedBatch, record: dict[str, Any]) -> str:
    if batch.source == "dynamodb":
        return str(record["dynamodb"]["SequenceNumber"])
    return str(record["SequenceNumber"])


# --- the Lambda event, in AWS's shape (sandbox/lambda_events.py) ---------------------------
def dynamodb_event(batch: FailedBatch, records: list[dict[str, Any]]) -> dict[str, Any]:
    """GetRecords records -> the event a DynamoDB stream mapping delivers."""
    return {"Records": [dynamodb_record(r, region=batch.region, stream_arn=batch.stream_arn) for r in records]}


def kinesis_event(batch: FailedBatch, records: list[dict[str, Any]], role_arn: str) -> dict[str, Any]:
    """GetRecords records -> the event a Kinesis mapping delivers."""
    return {"Records": [
        kinesis_record(
            partition_key=r["PartitionKey"], data=r["Data"], sequence=str(r["SequenceNumber"]), shard_id=batch.shard_id,
            arrival=wire(r.get("ApproximateArrivalTimestamp") or 0.0), role_arn=role_arn, region=batch.region,
            stream_arn=batch.stream_arn,
        )
        for r in records
    ]}


# --- the run --------------------------------------------------------------------------------
@dataclass
class RedriveResult:
    messages: list[Message] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for m in self.messages if m.outcome is outcome)

    @property
    def records(self) -> int:
        return sum(m.records for m in self.messages if m.outcome in (Outcome.REDRIVEN, Outcome.PENDING))

    @property
    def ok(self) -> bool:
        return all(m.outcome in (Outcome.REDRIVEN, Outcome.PENDING) for m in self.messages)


class Redriver:
    """Receives every failure message, then redrives them one by one in stream order."""

    def __init__(self, queue: FailureQueue, fetcher: StreamFetcher, lam: Any, *, wanted: Callable[[FailedBatch], bool] = lambda _: True) -> None:
        self.queue = queue
        self.fetcher = fetcher
        self._lambda = lam
        self._wanted = wanted
        self._roles: dict[str, str] = {}
        self._reports_failures: dict[tuple[str, str], bool] = {}

    def collect(self) -> list[Message]:
        """Every message of the queue, parsed and in redrive order; ones not wanted are released."""
        chosen = []
        for message in self.queue.receive_all():
            try:
                message.batch = FailedBatch.parse(message.body)
            except NotAFailedBatch as error:
                message.outcome, message.detail = Outcome.UNREADABLE, f"not a stream batch failure: {error}"
            if message.batch is not None and not self._wanted(message.batch):
                self.queue.release(message)
                continue
            chosen.append(message)
        return sorted(chosen, key=Message.sort_key)

    def run(self, messages: list[Message], *, dry_run: bool, advance: Callable[[Message], None]) -> RedriveResult:
        """Redrive (or, dry run, only check) each message; kept ones are released even on Ctrl-C."""
        result = RedriveResult(messages)
        try:
            for message in messages:
                if message.batch is not None:
                    try:
                        self._one(message, dry_run)
                    except ClientError as error:  # e.g. the function was deleted: this one stays
                        info = error.response.get("Error", {})
                        message.outcome = Outcome.FAILED
                        message.detail = f"{info.get('Code', 'error')}: {info.get('Message', '')}".strip()
                advance(message)
        finally:
            for message in messages:
                if message.outcome is not Outcome.REDRIVEN:
                    self.queue.release(message)
        return result

    def _one(self, message: Message, dry_run: bool) -> None:
        batch = message.batch
        assert batch is not None
        try:
            records = self.fetcher.fetch(batch)
        except RecordsGone as error:
            message.outcome, message.detail = Outcome.GONE, str(error)
            return
        message.records = len(records)
        if dry_run:
            message.outcome = Outcome.PENDING
            return
        if batch.source == "dynamodb":
            event = dynamodb_event(batch, records)
        else:
            event = kinesis_event(batch, records, self._role(batch.function_name))
        failure = self._invoke(batch, event)
        if failure:
            message.outcome, message.detail = Outcome.FAILED, failure
            return
        self.queue.delete(message)
        message.outcome = Outcome.REDRIVEN

    def _invoke(self, batch: FailedBatch, event: dict[str, Any]) -> str:
        """Invoke synchronously; '' on success, else why it failed."""
        response = self._lambda.invoke(FunctionName=batch.function_name, Payload=json.dumps(event).encode())
        payload = response["Payload"].read()
        answer = json.loads(payload) if payload else None
        if response.get("FunctionError"):
            message = answer.get("errorMessage") if isinstance(answer, dict) else None
            return f"the function failed again: {message or response['FunctionError']}"
        failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
        if failures and self._reports_item_failures(batch):
            return f"the function reported {len(failures)} of {len(event['Records'])} records as failed"
        return ""

    def _role(self, function: str) -> str:
        if function not in self._roles:
            self._roles[function] = self._lambda.get_function(FunctionName=function)["Configuration"]["Role"]
        return self._roles[function]

    def _reports_item_failures(self, batch: FailedBatch) -> bool:
        """Whether the mapping honours batchItemFailures; unknown (no mapping any more) counts as yes."""
        key = (batch.function_name, batch.stream_arn)
        if key not in self._reports_failures:
            mappings = self._lambda.list_event_source_mappings(
                FunctionName=batch.function_name, EventSourceArn=batch.stream_arn
            ).get("EventSourceMappings", [])
            self._reports_failures[key] = not mappings or any(
                "ReportBatchItemFailures" in (m.get("FunctionResponseTypes") or []) for m in mappings
            )
        return self._reports_failures[key]
