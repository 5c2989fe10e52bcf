"""Disabling a table's stream keeps its records readable (as on AWS, until retention), and a
new stream can be enabled afterwards with a new ARN."""

from __future__ import annotations

from pathlib import Path

from tests.functional.emulator.support import create_function, create_stream_table, records_when, unique
from tests.waiting import wait_until


def test_a_disabled_stream_stays_readable_and_a_new_one_can_be_enabled(aws, tmp_path: Path) -> None:
    table = unique("lifecycle")
    old_arn = create_stream_table(aws, table)
    ddb = aws("dynamodb")
    for i in range(5):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"before-{i}"}})
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName=table, Item={"pk": {"S": "while-disabled"}})  # no stream: no record

    # the disabled stream still answers GetRecords with what it holds
    shard = aws("dynamodbstreams").describe_stream(StreamArn=old_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = aws("dynamodbstreams").get_shard_iterator(StreamArn=old_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in aws("dynamodbstreams").get_records(ShardIterator=iterator)["Records"]]
    assert keys == [f"before-{i}" for i in range(5)]

    # re-enabling gives a new stream (new ARN) that a mapping reads from its start
    new_arn = ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})[
        "TableDescription"]["LatestStreamArn"]
    assert new_arn != old_arn
    out = tmp_path / "new.jsonl"
    function = unique("new-reader")
    create_function(aws, function, "recorder.handler", ("recorder",), {"RECORD_FILE": str(out)})
    aws("lambda").create_event_source_mapping(FunctionName=function, EventSourceArn=new_arn, StartingPosition="TRIM_HORIZON")
    ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
    entries = wait_until(lambda: records_when(out, 1), timeout=10, what="the record on the new stream")
    assert [e["record"]["dynamodb"]["Keys"]["pk"]["S"] for e in entries] == ["after"]
    assert entries[0]["record"]["eventSourceARN"] == new_arn
