"""GIVEN two mappings on one table stream, one of them slow, THEN both get everything and
the slow one does not delay the other (one poller per mapping and shard)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.functional.emulator.support import create_function, create_stream_table, records_when, unique
from tests.waiting import wait_until

ITEMS = 60


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def test_slow_reader_does_not_slow_the_other(aws, tmp_path: Path) -> None:
    table = unique("readers")
    stream_arn = create_stream_table(aws, table)
    fast_out, slow_out = tmp_path / "fast.jsonl", tmp_path / "slow.jsonl"
    fast, slow = unique("fast"), unique("slow")
    create_function(aws, fast, "recorder.handler", ("recorder",), {"RECORD_FILE": str(fast_out)})
    create_function(aws, slow, "recorder.handler", ("recorder",), {"RECORD_FILE": str(slow_out), "SLEEP_SECONDS": "2"})
    lam = aws("lambda")
    mappings = [
        lam.create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="LATEST", BatchSize=size)["UUID"]
        for name, size in ((fast, 10), (slow, 25))
    ]
    wait_until(lambda: all(lam.get_event_source_mapping(UUID=u)["State"] == "Enabled" for u in mappings), timeout=10, what="both mappings Enabled")

    ddb = aws("dynamodb")
    written: dict[str, float] = {}
    for i in range(ITEMS):
        key = f"item-{i:03d}"
        written[key] = time.time()
        ddb.put_item(TableName=table, Item={"pk": {"S": key}, "n": {"N": str(i)}})
        time.sleep(0.02)  # a steady producer (pacing the writes, not waiting for a result)

    fast_entries = wait_until(lambda: records_when(fast_out, ITEMS), timeout=30, what="fast reader got every record")
    latencies = [entry["received"] - written[entry["record"]["dynamodb"]["Keys"]["pk"]["S"]] for entry in fast_entries]
    assert len(fast_entries) == ITEMS
    assert _percentile(latencies, 0.99) < 0.5, f"p99 {_percentile(latencies, 0.99):.3f}s"
    # the slow reader gets everything too, but its records waited behind its 2 s batches
    slow_entries = wait_until(lambda: records_when(slow_out, ITEMS), timeout=60, what="slow reader got every record")
    assert sorted(e["record"]["eventID"] for e in slow_entries) == sorted(e["record"]["eventID"] for e in fast_entries)
    slow_latencies = [entry["received"] - written[entry["record"]["dynamodb"]["Keys"]["pk"]["S"]] for entry in slow_entries]
    assert max(slow_latencies) > 1.0, "the slow reader was not slowed: the test would prove nothing"
