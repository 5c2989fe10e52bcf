"""After a Kinesis reshard, records of one partition key stay in order: a mapping reads the
closed parent shard to its end before the children, and parents stay readable."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.functional.emulator.support import create_function, records_when, unique
from tests.waiting import wait_until


def test_parent_shard_is_read_before_its_children(aws, tmp_path: Path) -> None:
    stream = unique("reshard")
    kinesis = aws("kinesis")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    before = [{"key": f"user-{i % 5}", "n": i} for i in range(50)]
    kinesis.put_records(StreamName=stream, Records=[{"Data": json.dumps(r).encode(), "PartitionKey": r["key"]} for r in before])
    kinesis.update_shard_count(StreamName=stream, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    after = [{"key": f"user-{i % 5}", "n": i} for i in range(50, 100)]
    kinesis.put_records(StreamName=stream, Records=[{"Data": json.dumps(r).encode(), "PartitionKey": r["key"]} for r in after])
    shards = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"]
    assert any("ParentShardId" in shard for shard in shards), "the reshard made child shards"

    # a mapping created after the reshard reads from TRIM_HORIZON: parents first
    out = tmp_path / "records.jsonl"
    function = unique("reshard-reader")
    create_function(aws, function, "recorder.handler", ("recorder",), {"RECORD_FILE": str(out)})
    aws("lambda").create_event_source_mapping(FunctionName=function, EventSourceArn=stream_arn,
                                              StartingPosition="TRIM_HORIZON", BatchSize=10)
    entries = wait_until(lambda: records_when(out, 100), timeout=30, what="all 100 records")
    by_key: dict[str, list[int]] = {}
    for entry in entries:
        data = json.loads(base64.b64decode(entry["record"]["kinesis"]["data"]))
        by_key.setdefault(data["key"], []).append(data["n"])
    assert len(entries) == 100
    for key, numbers in by_key.items():
        assert numbers == sorted(numbers), f"{key} out of order across the reshard: {numbers}"
