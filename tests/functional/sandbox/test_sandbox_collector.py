"""The live view's collector against a real pipeline on the emulator: every stage counted once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from bootstrap.settings import Settings
from bootstrap.topology import Topology
from emulator import Emulator
from sandbox.collector import Collector
from sandbox.stats import Stage

from .conftest import CLICKS, Pipeline


def test_every_stage_is_counted(pipeline: Pipeline) -> None:
    snapshot, run = pipeline.drained, pipeline.run
    expected = run.expected_stream_records
    assert run.updated and run.deleted  # MODIFY and REMOVE flow too
    assert snapshot.count(Stage.PRODUCED) == expected  # read from the run manifest
    assert snapshot.count(Stage.TABLE_ITEMS) == CLICKS - run.deleted
    assert snapshot.count(Stage.KINESIS) == expected
    for sink in (Stage.ARCHIVED, Stage.ANALYTICS, Stage.HTTP):
        assert snapshot.count(sink) == expected, sink
    assert snapshot.count(Stage.FAILED_BATCHES) == 0
    inserts_and_updates = run.written + run.updated
    for sink in ("data lake", "consumer A", "consumer B"):
        latency = snapshot.latency[sink]
        assert latency is not None and latency.samples == inserts_and_updates, sink
        assert 0 <= latency.p50_ms <= latency.p95_ms < 60_000


def test_every_raw_object_says_when_the_archive_wrote_it(pipeline: Pipeline) -> None:
    """The data lake's latency is exact: the archive's write time is the object's metadata."""
    from bootstrap.clients import client
    from functions._stream import ARCHIVED_AT_METADATA

    s3 = client("s3", pipeline.settings)
    bucket = pipeline.topology.data_lake_bucket
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="raw/")
            for o in page.get("Contents", [])]
    assert keys
    for key in keys:
        head = s3.head_object(Bucket=bucket, Key=key)
        written = int(head["Metadata"][ARCHIVED_AT_METADATA])
        # LastModified is the store time truncated to the second; the archive stamps its time
        # just before the put, so a put that crosses a second boundary is stored in the next
        # second (seen in CI: written 19 ms before LastModified). Within a second either side.
        assert -1000 < written - head["LastModified"].timestamp() * 1000 < 1000, key


def test_a_fresh_collector_catches_up_and_survives_a_dead_sink(pipeline: Pipeline) -> None:
    settings: Settings = pipeline.settings.with_overrides(http_sink_url="http://127.0.0.1:9/deliveries")
    snapshot = Collector(settings, pipeline.topology).poll()
    for stage in (Stage.ARCHIVED, Stage.ANALYTICS, Stage.KINESIS, Stage.TABLE_ITEMS):
        assert snapshot.counts[stage] == pipeline.drained.counts[stage], stage
    assert snapshot.counts[Stage.HTTP] is None
    assert "does not answer" in snapshot.notes[Stage.HTTP]


def test_stages_are_read_downstream_first(pipeline: Pipeline) -> None:
    """So an upstream count is never below a downstream one in the same snapshot."""
    collector = Collector(pipeline.settings, pipeline.topology)
    order: list[str] = []

    def spy(name: str, read: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            order.append(name)
            return read(*args, **kwargs)

        return wrapped

    for name in ("_failed_batches", "_http", "_analytics_count", "_archived", "_stream_records", "_table_items", "_produced_count"):
        setattr(collector, name, spy(name, getattr(collector, name)))
    collector._kinesis_tail.poll = spy("kinesis", collector._kinesis_tail.poll)  # type: ignore[method-assign]
    snapshot = collector.poll()
    assert order == [
        "_failed_batches", "_http", "_analytics_count", "_archived", "kinesis", "_stream_records", "_table_items",
        "_produced_count",
    ]
    assert snapshot.count(Stage.PRODUCED) >= snapshot.count(Stage.KINESIS) >= snapshot.count(Stage.HTTP)


def test_produced_adds_live_runs_and_sinks_count_one_runs_records(pipeline: Pipeline) -> None:
    expected = pipeline.run.expected_stream_records
    from_manifests = Collector(pipeline.settings, pipeline.topology).poll().count(Stage.PRODUCED)
    # GIVEN `sandbox up`'s own run producing (live count) next to the runs with manifests
    mine = Collector(
        pipeline.settings, pipeline.topology, live_runs=lambda: {"live-run": 7}, own_run=pipeline.run.run_id
    ).poll(thorough=True)
    assert mine.count(Stage.PRODUCED) == from_manifests + 7
    assert "this run 7" in mine.notes[Stage.PRODUCED]
    assert mine.run_counts == {Stage.ARCHIVED: expected, Stage.ANALYTICS: expected, Stage.HTTP: expected}
    assert mine.drained(expected)
    # WHEN another run is followed THEN the same sinks hold none of its records: not drained
    other = Collector(pipeline.settings, pipeline.topology, own_run="someone-else").poll(thorough=True)
    assert other.run_counts == {Stage.ARCHIVED: 0, Stage.ANALYTICS: 0, Stage.HTTP: 0}
    assert not other.drained(expected)


def test_a_recreated_bucket_starts_its_stage_from_zero(emulator: Emulator, aws: Callable[..., Any]) -> None:
    """`sandbox bootstrap destroy` + `apply` under a running view: no stale count, no skipped keys."""
    settings = Settings(endpoint_url=emulator.endpoint_url, prefix=f"re{uuid.uuid4().hex[:8]}")
    topology = Topology.from_settings(settings)
    s3, bucket = aws("s3"), topology.data_lake_bucket
    key = "raw/year=2026/month=11/day=26/hour=15/{}.json"

    def put(name: str, *event_ids: str) -> None:
        records = [{"eventID": e, "eventName": "INSERT", "dynamodb": {"Keys": {"uuid": {"S": e}}}} for e in event_ids]
        s3.put_object(Bucket=bucket, Key=key.format(name), Body=json.dumps({"Records": records}).encode())

    s3.create_bucket(Bucket=bucket)
    put("5-5", "e1")
    collector = Collector(settings, topology)  # only the data lake exists: every other stage is a note
    assert collector.poll().counts[Stage.ARCHIVED] == 1
    s3.delete_object(Bucket=bucket, Key=key.format("5-5"))
    s3.delete_bucket(Bucket=bucket)
    assert collector.poll().counts[Stage.ARCHIVED] is None  # gone: said, not counted
    s3.create_bucket(Bucket=bucket)
    put("1-1", "n1", "n2")  # sorts before the old key: a kept tail would skip it
    assert collector.poll().counts[Stage.ARCHIVED] == 2
