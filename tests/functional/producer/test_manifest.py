"""Run manifests in the data lake: stored, loaded, listed, reconciled."""

from __future__ import annotations

import pytest

from producer import manifest as manifests
from producer.errors import ManifestNotFound
from producer.manifest import FailedOp, Manifest
from producer.options import ProduceOptions
from producer.run import produce

from .conftest import Target


def test_manifest_round_trips_through_s3(target: Target) -> None:
    written = Manifest(
        run_id="r-1",
        table="t",
        seed=1,
        status="complete",
        clicks=["a", "b", "c"],
        updated=["b"],
        deleted=["b", "c"],
        failed=[FailedOp(uuid="d", op="put", error="boom")],
    )
    uri = manifests.save(target.settings, target.topology.data_lake_bucket, written)
    assert uri == f"s3://{target.topology.data_lake_bucket}/manifests/r-1.json"

    loaded = manifests.load(target.settings, "r-1")
    assert loaded == written
    assert loaded.expected_stream_records == 6
    assert loaded.expected_events() == {
        "a": ["INSERT"],
        "b": ["INSERT", "MODIFY", "REMOVE"],
        "c": ["INSERT", "REMOVE"],
    }


def test_every_run_is_listed_and_loadable(target: Target) -> None:
    first = produce(target.settings, ProduceOptions(count=3, seed=1, run_id="run-a"))
    second = produce(target.settings, ProduceOptions(count=4, seed=1, run_id="run-b"))
    bucket = target.topology.data_lake_bucket
    assert manifests.list_runs(target.settings, bucket) == ["run-a", "run-b"]
    assert len(manifests.load(target.settings, first.run_id).clicks) == 3
    assert manifests.load(target.settings, second.run_id).options["count"] == 4


def test_unknown_run_is_a_clear_error(target: Target) -> None:
    with pytest.raises(ManifestNotFound, match="no manifest for run nope in s3://"):
        manifests.load(target.settings, "nope")
