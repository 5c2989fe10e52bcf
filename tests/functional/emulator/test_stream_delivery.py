"""GIVEN a function mapped to a DynamoDB or Kinesis stream, WHEN 1,000 changes are written,
THEN it receives each exactly once, in order per key, shaped exactly as AWS delivers it."""

from __future__ import annotations

import base64
import json
import random
import re
from pathlib import Path
from typing import Any

from tests.functional.emulator.support import create_function, create_stream_table, records_when, unique
from tests.waiting import wait_until

OPERATIONS = 1000
DYNAMODB_BODY_KEYS = {"ApproximateCreationDateTime", "Keys", "SequenceNumber", "SizeBytes", "StreamViewType"}


def _mixed_operations(seed: int) -> list[tuple[str, str, int]]:
    """1,000 (op, key, version) that each change the table: put new/existing, update, delete."""
    rng = random.Random(seed)
    live: dict[str, int] = {}
    ops: list[tuple[str, str, int]] = []
    next_key = 0
    while len(ops) < OPERATIONS:
        roll = rng.random()
        if roll < 0.45 or len(live) < 10:
            key = f"k{next_key:04d}"
            next_key += 1
            live[key] = 1
            ops.append(("put", key, 1))
        elif roll < 0.80:
            key = rng.choice(sorted(live))
            live[key] += 1
            ops.append(("update", key, live[key]))
        else:
            key = rng.choice(sorted(live))
            ops.append(("delete", key, live.pop(key)))
    return ops


def _apply(ddb: Any, table: str, ops: list[tuple[str, str, int]]) -> None:
    """Puts and deletes in batch writes (unique keys per batch), updates one by one, in op order."""
    batch: list[dict[str, Any]] = []
    keys_in_batch: set[str] = set()

    def flush() -> None:
        if batch:
            response = ddb.batch_write_item(RequestItems={table: list(batch)})
            assert not response.get("UnprocessedItems"), response["UnprocessedItems"]
            batch.clear()
            keys_in_batch.clear()

    for op, key, version in ops:
        if op == "update" or key in keys_in_batch or len(batch) == 25:
            flush()
        if op == "put":
            batch.append({"PutRequest": {"Item": {"pk": {"S": key}, "version": {"N": str(version)}, "blob": {"B": b"\x00\x01"}, "tags": {"SS": ["a", "b"]}}}})
            keys_in_batch.add(key)
        elif op == "delete":
            batch.append({"DeleteRequest": {"Key": {"pk": {"S": key}}}})
            keys_in_batch.add(key)
        else:
            ddb.update_item(TableName=table, Key={"pk": {"S": key}}, UpdateExpression="SET version = :v",
                            ExpressionAttributeValues={":v": {"N": str(version)}})
    flush()


def _assert_dynamodb_shape(record: dict[str, Any], stream_arn: str) -> None:
    assert set(record) == {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"}
    assert re.fullmatch(r"[0-9a-f]{32}", record["eventID"])
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"] == stream_arn
    body = record["dynamodb"]
    images = {"INSERT": {"NewImage"}, "MODIFY": {"NewImage", "OldImage"}, "REMOVE": {"OldImage"}}[record["eventName"]]
    assert set(body) == DYNAMODB_BODY_KEYS | images
    assert body["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(body["ApproximateCreationDateTime"], float) and body["ApproximateCreationDateTime"] > 1.7e9
    assert body["SequenceNumber"].isdigit() and isinstance(body["SizeBytes"], int) and body["SizeBytes"] > 0
    assert set(body["Keys"]) == {"pk"} and set(body["Keys"]["pk"]) == {"S"}
    if "NewImage" in body:
        assert body["NewImage"]["blob"] == {"B": base64.b64encode(b"\x00\x01").decode()}
        assert sorted(body["NewImage"]["tags"]["SS"]) == ["a", "b"]


def test_dynamodb_stream_delivers_every_change_once_in_order(aws, tmp_path: Path) -> None:
    # GIVEN a table with a stream and a recorder mapped to it
    table = unique("delivery")
    stream_arn = create_stream_table(aws, table)
    out = tmp_path / "records.jsonl"
    function = unique("recorder")
    create_function(aws, function, "recorder.handler", ("recorder",), {"RECORD_FILE": str(out)})
    lam = aws("lambda")
    mapping = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=100)
    wait_until(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled", timeout=10, what="mapping Enabled")

    # WHEN 1,000 mixed puts, updates and deletes are written
    ops = _mixed_operations(seed=7)
    _apply(aws("dynamodb"), table, ops)

    # THEN exactly 1,000 records arrive, once each, in order per key, shaped like AWS's
    received = wait_until(lambda: records_when(out, OPERATIONS), timeout=60, what="1,000 stream records")
    records = [entry["record"] for entry in received]
    assert len(records) == OPERATIONS
    assert len({r["eventID"] for r in records}) == OPERATIONS
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequences == sorted(sequences) and len(set(sequences)) == OPERATIONS
    for record in records:
        _assert_dynamodb_shape(record, stream_arn)
    expected_names = {"put": "INSERT", "update": "MODIFY", "delete": "REMOVE"}
    expected: dict[str, list[tuple[str, int]]] = {}
    for op, key, version in ops:
        expected.setdefault(key, []).append((expected_names[op], version))
    got: dict[str, list[tuple[str, int]]] = {}
    for record in records:
        image = record["dynamodb"].get("NewImage") or record["dynamodb"]["OldImage"]
        got.setdefault(record["dynamodb"]["Keys"]["pk"]["S"], []).append((record["eventName"], int(image["version"]["N"])))
    assert got == expected
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"] == "OK"


def test_kinesis_delivers_every_record_once_in_order_per_partition_key(aws, tmp_path: Path) -> None:
    # GIVEN a two-shard Kinesis stream and a recorder mapped to it
    stream = unique("fanout")
    kinesis = aws("kinesis")
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    out = tmp_path / "records.jsonl"
    function = unique("recorder")
    role_arn = create_function(aws, function, "recorder.handler", ("recorder",), {"RECORD_FILE": str(out)})["Role"]
    lam = aws("lambda")
    mapping = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=250)
    wait_until(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled", timeout=10, what="mapping Enabled")

    # WHEN 1,000 records over 50 partition keys are put
    sent = [{"key": f"user-{i % 50}", "n": i} for i in range(OPERATIONS)]
    for start in range(0, OPERATIONS, 500):
        chunk = sent[start : start + 500]
        kinesis.put_records(StreamName=stream, Records=[{"Data": json.dumps(r).encode(), "PartitionKey": r["key"]} for r in chunk])

    # THEN each arrives once, in order per partition key, shaped like AWS's
    received = wait_until(lambda: records_when(out, OPERATIONS), timeout=60, what="1,000 Kinesis records")
    records = [entry["record"] for entry in received]
    assert len(records) == OPERATIONS
    assert len({r["eventID"] for r in records}) == OPERATIONS
    shards = {s["ShardId"] for s in kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"]}
    by_key: dict[str, list[int]] = {}
    for record in records:
        assert set(record) == {"kinesis", "eventSource", "eventVersion", "eventID", "eventName", "invokeIdentityArn", "awsRegion", "eventSourceARN"}
        body = record["kinesis"]
        assert set(body) == {"kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data", "approximateArrivalTimestamp"}
        assert body["kinesisSchemaVersion"] == "1.0" and isinstance(body["approximateArrivalTimestamp"], float)
        shard_id, _, sequence = record["eventID"].rpartition(":")
        assert shard_id in shards and sequence == body["sequenceNumber"]
        assert (record["eventSource"], record["eventVersion"], record["eventName"]) == ("aws:kinesis", "1.0", "aws:kinesis:record")
        assert record["invokeIdentityArn"] == role_arn
        assert record["eventSourceARN"] == stream_arn and record["awsRegion"] == "us-east-1"
        data = json.loads(base64.b64decode(body["data"]))
        assert data["key"] == body["partitionKey"]
        by_key.setdefault(data["key"], []).append(data["n"])
    expected: dict[str, list[int]] = {}
    for record in sent:
        expected.setdefault(record["key"], []).append(record["n"])
    assert by_key == expected
