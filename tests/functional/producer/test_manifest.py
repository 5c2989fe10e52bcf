"""Run manifests in the data lake: stored, loaded, listed, reconciled."""

from __future__ import annotations

import json

import pytest

from producer import manifest as manifests
from producer.errors import ManifestNotFound, RunIdTaken
from producer.manifest import FailedOp, Manifest, ManifestHeader, ManifestWriter
from producer.options import ProduceOptions
from producer.run import produce
from sandbox.manifests import ManifestTally

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


def test_runs_are_ordered_by_start_time_not_by_id(target: Target) -> None:
    # GIVEN runs whose ids sort the other way round than they started
    bucket = target.topology.data_lake_bucket
    for run_id, started_at in (("zeta", 1_000), ("alpha", 3_000), ("mid", 2_000)):
        manifests.save(target.settings, bucket, Manifest(run_id, "t", 1, "complete", started_at=started_at))
    # THEN oldest first by the header's started_at, and latest is the newest start
    assert manifests.list_runs(target.settings, bucket) == ["zeta", "mid", "alpha"]
    assert manifests.latest(target.settings, bucket) == "alpha"


def test_latest_of_no_runs_is_none(target: Target) -> None:
    assert manifests.latest(target.settings, target.topology.data_lake_bucket) is None


def test_a_new_run_never_overwrites_a_stored_header(target: Target) -> None:
    # GIVEN a stored run (e.g. one that started between the check and the first save)
    bucket = target.topology.data_lake_bucket
    manifests.save(target.settings, bucket, Manifest("busy", "t", 1, "complete", clicks=["a"]))
    with pytest.raises(RunIdTaken, match="run id busy is taken") as caught:
        manifests.require_new_run(target.settings, bucket, "busy")
    assert caught.value.exit_code == 2 and "pick another --run-id" in str(caught.value)
    manifests.require_new_run(target.settings, bucket, "free")  # no manifest: fine
    # WHEN a writer for a new run saves under the same id THEN the conditional create refuses it
    writer = ManifestWriter(target.settings, bucket, ManifestHeader("busy", "t", 2), new_run=True)
    with pytest.raises(RunIdTaken):
        writer.save()
    assert manifests.load(target.settings, "busy").clicks == ["a"]
    # a writer of a new id creates its header once, then re-saves it as usual
    fresh = ManifestWriter(target.settings, bucket, ManifestHeader("fresh", "t", 2), new_run=True)
    fresh.add("clicks", "b")
    fresh.save()
    fresh.save(final=True)
    assert manifests.load(target.settings, "fresh").clicks == ["b"]


def test_unknown_run_is_a_clear_error(target: Target) -> None:
    with pytest.raises(ManifestNotFound, match="no manifest for run nope in s3://"):
        manifests.load(target.settings, "nope")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _objects(target: Target, prefix: str) -> dict[str, dict[str, object]]:
    s3, bucket = target.aws("s3"), target.topology.data_lake_bucket
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    return {k: json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys}


def test_saves_append_parts_with_only_the_new_ids(target: Target) -> None:
    # GIVEN a writer whose ids go to a part once a minute
    clock, bucket = _Clock(), target.topology.data_lake_bucket
    header = ManifestHeader(run_id="grow", table="t", seed=1)
    writer = ManifestWriter(target.settings, bucket, header, part_interval_s=60, clock=clock)
    for uuid in ("a", "b"):
        writer.add("clicks", uuid)
    # WHEN it saves before a part is due THEN only the header changes, with live counts
    writer.save()
    assert set(_objects(target, "manifests/grow")) == {"manifests/grow.json"}
    assert manifests.load(target.settings, "grow").clicks == []
    assert _objects(target, "manifests/grow.json")["manifests/grow.json"]["expected_stream_records"] == 2
    # WHEN a part is due THEN it holds the ids since the last part, and later parts only newer ones
    clock.now = 61
    writer.save()
    writer.add("clicks", "c")
    writer.add("updated", "a")
    writer.add_failed(FailedOp(uuid="d", op="put", error="boom"))
    writer.header.status = "complete"
    writer.save(final=True)
    stored = _objects(target, "manifests/grow")
    assert stored["manifests/grow/part-000001.json"] == {"clicks": ["a", "b"], "updated": [], "deleted": [], "failed": []}
    assert stored["manifests/grow/part-000002.json"]["clicks"] == ["c"]
    assert stored["manifests/grow.json"]["parts"] == 2 and stored["manifests/grow.json"]["expected_stream_records"] == 4
    # THEN load() reassembles the same result as before parts existed
    loaded = manifests.load(target.settings, "grow")
    assert (loaded.clicks, loaded.updated, loaded.failed, loaded.status) == (
        ["a", "b", "c"], ["a"], [FailedOp(uuid="d", op="put", error="boom")], "complete"
    )
    assert loaded.expected_events() == {"a": ["INSERT", "MODIFY"], "b": ["INSERT"], "c": ["INSERT"]}
    # and the parts never show up as runs
    assert manifests.list_runs(target.settings, bucket) == ["grow"]


def test_a_format_1_manifest_still_loads(target: Target) -> None:
    bucket = target.topology.data_lake_bucket
    old = {"version": 1, "run_id": "old", "table": "t", "seed": 3, "status": "complete", "started_at": 1,
           "finished_at": 2, "options": {}, "clicks": ["x", "y"], "updated": ["x"], "deleted": [], "failed": []}
    target.aws("s3").put_object(Bucket=bucket, Key="manifests/old.json", Body=json.dumps(old).encode())
    loaded = manifests.load(target.settings, "old")
    assert loaded.clicks == ["x", "y"] and loaded.expected_stream_records == 3
    assert ManifestHeader.from_json(json.dumps(old)).expected_stream_records == 3


def test_status_reads_only_headers_and_only_when_they_change(target: Target) -> None:
    # GIVEN two stored runs with parts
    bucket = target.topology.data_lake_bucket
    produce(target.settings, ProduceOptions(count=3, seed=1, run_id="h-1"))
    produce(target.settings, ProduceOptions(count=4, seed=1, run_id="h-2", update_ratio=0.5))
    s3 = target.aws("s3")
    read: list[str] = []

    class Spy:
        def __getattr__(self, name: str) -> object:
            return getattr(s3, name)

        def get_object(self, **kwargs: object) -> object:
            read.append(str(kwargs["Key"]))
            return s3.get_object(**kwargs)

    tally = ManifestTally(Spy(), bucket)
    # WHEN the view refreshes twice THEN each header is read once and no part ever
    assert tally.poll() == 3 + 6 and tally.poll() == 9
    assert sorted(read) == ["manifests/h-1.json", "manifests/h-2.json"]
    assert tally.runs == 2 and tally.running == 0
