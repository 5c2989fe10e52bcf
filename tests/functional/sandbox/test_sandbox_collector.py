"""The live view's collector against a real pipeline on the emulator: every stage counted once."""

from __future__ import annotations

from bootstrap.settings import Settings
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


def test_a_fresh_collector_catches_up_and_survives_a_dead_sink(pipeline: Pipeline) -> None:
    settings: Settings = pipeline.settings.with_overrides(http_sink_url="http://127.0.0.1:9/deliveries")
    snapshot = Collector(settings, pipeline.topology).poll()
    for stage in (Stage.ARCHIVED, Stage.ANALYTICS, Stage.KINESIS, Stage.TABLE_ITEMS):
        assert snapshot.counts[stage] == pipeline.drained.counts[stage], stage
    assert snapshot.counts[Stage.HTTP] is None
    assert "does not answer" in snapshot.notes[Stage.HTTP]
