"""Stream-mapping semantics as AWS defines them: retries, checkpoints, partial batch failures,
MaximumRetryAttempts + OnFailure destinations, bisection, filtering, the state machine,
retention and starting positions.

Handlers live in lambdas/faulty.py and log every invocation (ids, sequence numbers, result),
so each test asserts the exact batches the mapping delivered, in order.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.functional.emulator.support import create_function, create_stream_table, read_records, records_when, unique
from tests.waiting import wait_until


# --- helpers -------------------------------------------------------------------------
def _deploy(aws: Any, tmp_path: Path, handler: str, env: dict[str, str] | None = None) -> tuple[str, str, Path]:
    """A faulty.<handler> function; returns (name, ARN, its invocation log)."""
    log = tmp_path / f"{handler}-{unique('log')}.jsonl"
    name = unique(f"faulty-{handler.replace('_', '-')}")
    created = create_function(aws, name, f"faulty.{handler}", ("faulty",), {"LOG_FILE": str(log), **(env or {})}, timeout=10)
    return name, created["FunctionArn"], log


def _map(aws: Any, function: str, source_arn: str, **params: Any) -> str:
    lam = aws("lambda")
    mapping = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=source_arn, **params)["UUID"]
    wait_until(lambda: lam.get_event_source_mapping(UUID=mapping)["State"] == "Enabled", timeout=10, what="mapping Enabled")
    return mapping


def _state_is(aws: Any, mapping: str, state: str) -> bool:
    return aws("lambda").get_event_source_mapping(UUID=mapping)["State"] == state


def _put(aws: Any, table: str, *keys: str, **attributes: str) -> None:
    ddb = aws("dynamodb")
    for key in keys:
        item = {"pk": {"S": key}, **{name: {"S": value} for name, value in attributes.items()}}
        ddb.put_item(TableName=table, Item=item)


def _kinesis_stream(aws: Any) -> tuple[str, str, str]:
    """A one-shard stream; returns (name, ARN, shard id)."""
    kinesis = aws("kinesis")
    name = unique("semantics")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    description = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    return name, description["StreamARN"], description["Shards"][0]["ShardId"]


def _put_kinesis(aws: Any, stream: str, *ids: str) -> None:
    kinesis = aws("kinesis")
    for record_id in ids:  # one by one: their order in the shard is the order written
        kinesis.put_record(StreamName=stream, Data=json.dumps({"id": record_id}).encode(), PartitionKey="one-key")


def _queue(aws: Any) -> tuple[str, str]:
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("on-failure"))["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _drain(aws: Any, queue_url: str) -> list[dict[str, Any]]:
    messages = aws("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def _ok_ids(log: Path) -> list[str]:
    return [record_id for entry in read_records(log) if entry["result"] == "ok" for record_id in entry["ids"]]


def _ddb_shard_id(aws: Any, stream_arn: str) -> str:
    return aws("dynamodbstreams").describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]


def _iso_epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# --- (a) retry until success, checkpoint only after it ---------------------------------
def test_failing_batch_is_retried_and_not_checkpointed_until_it_succeeds(aws, tmp_path: Path) -> None:
    # GIVEN 8 records in a stream and a function that raises on its first two invocations
    table = unique("retry")
    stream_arn = create_stream_table(aws, table)
    keys = [f"k{i}" for i in range(8)]
    _put(aws, table, *keys)
    function, _, log = _deploy(aws, tmp_path, "fail_first", {"FAIL_TIMES": "2"})

    # WHEN a mapping with BatchSize 5 reads the stream
    mapping = _map(aws, function, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=5)
    wait_until(lambda: records_when(log, 4), timeout=10, what="4 invocations")
    _put(aws, table, "k8")  # a later record: proves nothing before it is re-delivered

    # THEN the first batch is delivered again until it succeeds, then the rest, each once, in order
    entries = wait_until(lambda: records_when(log, 5), timeout=10, what="the later record")
    assert [(e["result"], e["ids"]) for e in entries] == [
        ("raised", keys[:5]), ("raised", keys[:5]), ("ok", keys[:5]), ("ok", keys[5:]), ("ok", ["k8"]),
    ]
    assert entries[0]["sequences"] == entries[1]["sequences"] == entries[2]["sequences"]
    assert aws("lambda").get_event_source_mapping(UUID=mapping)["LastProcessingResult"] == "OK"


# --- (b) ReportBatchItemFailures ---------------------------------------------------------
def test_partial_batch_failure_retries_from_the_lowest_failed_record(aws, tmp_path: Path) -> None:
    # GIVEN a function that reports k2 and k4 as failed (highest first) the first time it sees them
    table = unique("partial")
    stream_arn = create_stream_table(aws, table)
    keys = [f"k{i}" for i in range(6)]
    _put(aws, table, *keys)
    function, _, log = _deploy(aws, tmp_path, "partial", {"FAIL_IDS": "k2,k4"})

    # WHEN a mapping with ReportBatchItemFailures delivers them in one batch
    _map(aws, function, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
    wait_until(lambda: records_when(log, 2), timeout=10, what="the retry of the partial failure")
    _put(aws, table, "k6")

    # THEN the retry starts at k2 (the lowest failure); k0 and k1 are never delivered again
    entries = wait_until(lambda: records_when(log, 3), timeout=10, what="the later record")
    assert [e["ids"] for e in entries] == [keys, keys[2:], ["k6"]]
    assert entries[0]["failed"] == ["k2", "k4"] and entries[1]["failed"] == [] and entries[2]["failed"] == []
    assert entries[1]["sequences"] == entries[0]["sequences"][2:]


# --- (c) MaximumRetryAttempts + OnFailure destination ---------------------------------
def test_exhausted_batch_goes_to_the_on_failure_queue_and_later_records_flow(aws, tmp_path: Path) -> None:
    # GIVEN a poisoned first batch, a healthy second one and an OnFailure queue
    table = unique("exhaust")
    stream_arn = create_stream_table(aws, table)
    _put(aws, table, "poison-a", "k1", "k2", "k3")
    function, function_arn, log = _deploy(aws, tmp_path, "poison")
    queue_url, queue_arn = _queue(aws)

    # WHEN the mapping allows one retry
    _map(aws, function, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=2, MaximumRetryAttempts=1,
         DestinationConfig={"OnFailure": {"Destination": queue_arn}})

    # THEN the poisoned batch is tried twice, then skipped; the next batch is delivered
    entries = wait_until(lambda: records_when(log, 3), timeout=10, what="3 invocations")
    assert [(e["result"], e["ids"]) for e in entries] == [
        ("raised", ["poison-a", "k1"]), ("raised", ["poison-a", "k1"]), ("ok", ["k2", "k3"]),
    ]
    # AND the queue holds one document describing the discarded batch, shaped as AWS sends it
    documents = wait_until(lambda: _drain(aws, queue_url), timeout=5, what="the OnFailure message")
    assert len(documents) == 1
    document = documents[0]
    assert set(document) == {"requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"}
    context = document["requestContext"]
    assert context["condition"] == "RetryAttemptsExhausted"
    assert context["functionArn"] == function_arn
    assert context["approximateInvokeCount"] == 2
    assert context["requestId"]
    assert document["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert document["version"] == "1.0"
    assert abs(_iso_epoch(document["timestamp"]) - time.time()) < 30
    info = document["DDBStreamBatchInfo"]
    assert info["shardId"] == _ddb_shard_id(aws, stream_arn)
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == tuple(entries[0]["sequences"])
    assert info["batchSize"] == 2
    assert info["streamArn"] == stream_arn
    assert _iso_epoch(info["approximateArrivalOfFirstRecord"]) <= _iso_epoch(info["approximateArrivalOfLastRecord"])
    assert abs(_iso_epoch(info["approximateArrivalOfFirstRecord"]) - time.time()) < 60
    assert _drain(aws, queue_url) == []


# --- (d) BisectBatchOnFunctionError --------------------------------------------------
def test_bisection_isolates_the_poison_record_and_delivers_all_others(aws, tmp_path: Path) -> None:
    # GIVEN 8 Kinesis records, the sixth of them poisoned
    stream, stream_arn, shard_id = _kinesis_stream(aws)
    ids = [f"r{i}" for i in range(8)]
    ids[5] = "poison-5"
    _put_kinesis(aws, stream, *ids)
    function, function_arn, log = _deploy(aws, tmp_path, "poison")
    queue_url, queue_arn = _queue(aws)

    # WHEN the mapping bisects failing batches and allows one retry
    _map(aws, function, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=8, BisectBatchOnFunctionError=True,
         MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": queue_arn}})

    # THEN every other record is delivered exactly once, in order, in successful invocations
    good = [i for i in ids if i != "poison-5"]
    wait_until(lambda: _ok_ids(log) == good or len(_ok_ids(log)) > len(good), timeout=15, what="every good record")
    assert _ok_ids(log) == good
    entries = read_records(log)
    assert entries[0]["ids"] == ids and entries[0]["result"] == "raised"
    assert [e["ids"] for e in entries if e["result"] == "raised"][-2:] == [["poison-5"], ["poison-5"]]
    poison_sequence = entries[0]["sequences"][5]
    # AND only the poison record is described in the OnFailure queue, as a Kinesis batch
    documents = wait_until(lambda: _drain(aws, queue_url), timeout=5, what="the OnFailure message")
    assert len(documents) == 1
    assert set(documents[0]) == {"requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"}
    assert documents[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert documents[0]["requestContext"]["functionArn"] == function_arn
    info = documents[0]["KinesisBatchInfo"]
    assert (info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"], info["streamArn"]) == (
        shard_id, poison_sequence, poison_sequence, 1, stream_arn)


# --- (e) FilterCriteria --------------------------------------------------------------
def test_filter_criteria_deliver_matching_records_and_skip_the_rest(aws, tmp_path: Path) -> None:
    # GIVEN a mapping whose filters keep INSERTs of kind "keep" and any key starting with "vip-"
    table = unique("filter")
    stream_arn = create_stream_table(aws, table)
    function, _, log = _deploy(aws, tmp_path, "succeed")
    patterns = [
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["keep"]}}}},
        {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "vip-"}]}}}},
    ]
    mapping = _map(aws, function, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=2,
                   FilterCriteria={"Filters": [{"Pattern": json.dumps(p)} for p in patterns]})
    assert [json.loads(f["Pattern"]) for f in aws("lambda").get_event_source_mapping(UUID=mapping)["FilterCriteria"]["Filters"]] == patterns

    # WHEN matching and non-matching changes are written, including batches with nothing to deliver
    _put(aws, table, "a1", kind="keep")
    _put(aws, table, "a2", "a3", "a4", "a5", kind="drop")          # two whole batches filtered out
    _put(aws, table, "vip-6", kind="drop")
    _put(aws, table, "a1", kind="keep", note="modified")           # a MODIFY: not an INSERT
    _put(aws, table, "a7", "a8", "a9", kind="drop")
    _put(aws, table, "a10", kind="keep")

    # THEN only the matching records arrive, and the skipped ones never block the shard
    wait_until(lambda: "a10" in _ok_ids(log), timeout=10, what="the last matching record")
    assert _ok_ids(log) == ["a1", "vip-6", "a10"]


# --- (f) state machine ---------------------------------------------------------------
def test_state_machine_disable_update_enable_delete(aws, tmp_path: Path) -> None:
    table = unique("states")
    stream_arn = create_stream_table(aws, table)
    function, _, log = _deploy(aws, tmp_path, "succeed")
    control, _, control_log = _deploy(aws, tmp_path, "succeed")
    lam = aws("lambda")

    # Creating -> Enabled
    created = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=1)
    assert created["State"] == "Creating"
    mapping = created["UUID"]
    wait_until(lambda: _state_is(aws, mapping, "Enabled"), timeout=10, what="Enabled")
    _map(aws, control, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=1)  # a second reader that stays enabled
    _put(aws, table, "k0")
    wait_until(lambda: _ok_ids(log) == ["k0"], timeout=5, what="k0 delivered while enabled")

    # Enabled=false -> Disabled; records written meanwhile are not delivered
    updated = lam.update_event_source_mapping(UUID=mapping, Enabled=False)
    assert updated["State"] in ("Updating", "Disabling")
    wait_until(lambda: _state_is(aws, mapping, "Disabled"), timeout=5, what="Disabled")
    _put(aws, table, "k1", "k2", "k3")
    wait_until(lambda: _ok_ids(control_log) == ["k0", "k1", "k2", "k3"], timeout=5, what="the enabled reader got k1..k3")
    assert _ok_ids(log) == ["k0"]

    # BatchSize updated while disabled is returned by get, and the mapping stays disabled
    lam.update_event_source_mapping(UUID=mapping, BatchSize=7)
    wait_until(lambda: _state_is(aws, mapping, "Disabled"), timeout=5, what="Disabled after the update")
    assert lam.get_event_source_mapping(UUID=mapping)["BatchSize"] == 7
    assert _ok_ids(log) == ["k0"]

    # Enabled again: everything written meanwhile arrives, in one batch of the new size
    lam.update_event_source_mapping(UUID=mapping, Enabled=True)
    wait_until(lambda: _state_is(aws, mapping, "Enabled"), timeout=5, what="Enabled again")
    wait_until(lambda: len(_ok_ids(log)) >= 4, timeout=5, what="k1..k3 after re-enabling")
    assert [e["ids"] for e in read_records(log)] == [["k0"], ["k1", "k2", "k3"]]

    # Deleting -> gone
    deleted = lam.delete_event_source_mapping(UUID=mapping)
    assert deleted["State"] == "Deleting" and deleted["UUID"] == mapping

    def gone() -> bool:
        try:
            lam.get_event_source_mapping(UUID=mapping)
        except lam.exceptions.ResourceNotFoundException:
            return True
        return False

    wait_until(gone, timeout=10, what="the mapping to be deleted")
    assert mapping not in [m["UUID"] for m in lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]]


# --- (g) retention -------------------------------------------------------------------
def _stream_keys_from_trim_horizon(aws: Any, stream_arn: str) -> list[str]:
    streams = aws("dynamodbstreams")
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=_ddb_shard_id(aws, stream_arn),
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]]


def test_trimming_drops_checkpointed_records_and_trim_horizon_starts_after_them(aws, emulator, tmp_path: Path) -> None:
    # GIVEN a mapping that has delivered (and checkpointed) five records
    table = unique("retention")
    stream_arn = create_stream_table(aws, table)
    function, _, log = _deploy(aws, tmp_path, "succeed")
    mapping = _map(aws, function, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=10)
    old = [f"old{i}" for i in range(5)]
    _put(aws, table, *old)
    wait_until(lambda: _ok_ids(log) == old, timeout=5, what="the old records delivered")

    # WHEN the streams are trimmed
    # THEN the stream API no longer returns them from TRIM_HORIZON
    wait_until(lambda: (emulator.trim_streams_now(), _stream_keys_from_trim_horizon(aws, stream_arn) == [])[1],
               timeout=5, what="the checkpointed records trimmed")

    # GIVEN newer records, held by the (now disabled) mapping's checkpoint
    aws("lambda").update_event_source_mapping(UUID=mapping, Enabled=False)
    wait_until(lambda: _state_is(aws, mapping, "Disabled"), timeout=5, what="Disabled")
    new = [f"new{i}" for i in range(3)]
    _put(aws, table, *new)
    emulator.trim_streams_now()
    assert _stream_keys_from_trim_horizon(aws, stream_arn) == new

    # WHEN a new mapping starts at TRIM_HORIZON THEN it starts at the first retained record
    reader, _, reader_log = _deploy(aws, tmp_path, "succeed")
    _map(aws, reader, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=10)
    wait_until(lambda: len(_ok_ids(reader_log)) >= 3, timeout=5, what="the new reader's records")
    assert _ok_ids(reader_log) == new


# --- (h) starting positions ----------------------------------------------------------
def test_kinesis_latest_and_at_timestamp_start_where_they_should(aws, tmp_path: Path) -> None:
    # GIVEN records written before any mapping exists, with a timestamp between b0 and b1
    stream, stream_arn, _ = _kinesis_stream(aws)
    _put_kinesis(aws, stream, "b0")
    between = time.time()
    _put_kinesis(aws, stream, "b1")

    # WHEN a LATEST mapping is enabled and more records follow
    latest, _, latest_log = _deploy(aws, tmp_path, "succeed")
    _map(aws, latest, stream_arn, StartingPosition="LATEST", BatchSize=10)
    _put_kinesis(aws, stream, "a0", "a1")

    # THEN it receives only the records written after it was enabled
    wait_until(lambda: len(_ok_ids(latest_log)) >= 2, timeout=10, what="the LATEST reader's records")
    assert _ok_ids(latest_log) == ["a0", "a1"]

    # AND an AT_TIMESTAMP mapping starts at the first record at or after its timestamp
    at, _, at_log = _deploy(aws, tmp_path, "succeed")
    mapping = _map(aws, at, stream_arn, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=between, BatchSize=10)
    wait_until(lambda: len(_ok_ids(at_log)) >= 3, timeout=10, what="the AT_TIMESTAMP reader's records")
    assert _ok_ids(at_log) == ["b1", "a0", "a1"]
    returned = aws("lambda").get_event_source_mapping(UUID=mapping)
    assert returned["StartingPosition"] == "AT_TIMESTAMP"
    assert abs(returned["StartingPositionTimestamp"].timestamp() - between) < 0.01

