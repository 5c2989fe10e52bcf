"""A mapping warms one worker per shard it polls: no shard's first batch waits for an init phase."""

from __future__ import annotations

from tests.functional.emulator.support import create_function, unique
from tests.waiting import wait_until


def test_a_two_shard_mapping_has_two_warm_workers_before_the_first_record(aws, emulator) -> None:
    stream = unique("warm")
    kinesis = aws("kinesis")
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    function = unique("warm-reader")
    create_function(aws, function, "recorder.handler", ("recorder",), {"RECORD_FILE": "/dev/null"})
    pool = emulator.functions.resolve(function).pool
    wait_until(lambda: len(pool.pids()) == 1, timeout=20, what="the function's first warm worker")
    uuid = aws("lambda").create_event_source_mapping(FunctionName=function, EventSourceArn=arn,
                                                     StartingPosition="LATEST")["UUID"]
    wait_until(lambda: aws("lambda").get_event_source_mapping(UUID=uuid)["State"] == "Enabled", timeout=10,
               what="the mapping Enabled")
    wait_until(lambda: len(pool.pids()) == 2, timeout=20, what="a warm worker per shard")
