"""produce() against a moto server: what lands in the table, the stream and the manifest."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

import pytest
from botocore.exceptions import InvalidRegionError

import producer.run as run
from producer import manifest as manifests
from producer.errors import BucketNotFound, OptionsError, TableNotFound
from producer.options import ProduceOptions, WriteMode
from producer.run import ProgressUpdate, produce

from .conftest import Target

CLICK_FIELDS = {"uuid", "user", "action", "page", "session", "ts", "expires_at", "run_id"}


def test_clicks_updates_deletes_land_in_table_stream_and_manifest(target: Target) -> None:
    # GIVEN a bootstrapped table WHEN 200 clicks with update 0.2 / delete 0.1 are produced
    # (the 500/100/50 -> 650 runs end to end in tests/e2e; same code, smaller here)
    summary = produce(
        target.settings,
        ProduceOptions(count=200, seed=3, update_ratio=0.2, delete_ratio=0.1, ttl_seconds=600),
    )

    # THEN the summary, the table, the stream and the manifest all agree
    assert (summary.written, summary.updated, summary.deleted, summary.failed) == (200, 40, 20, 0)
    assert summary.expected_stream_records == 260
    assert summary.status == "complete"
    assert summary.write_mode == "batch_write_item(25)"

    items = target.items()
    loaded = manifests.load(target.settings, summary.run_id)
    assert len(items) == 180
    for uuid, item in items.items():
        assert CLICK_FIELDS <= set(item)
        assert item["run_id"]["S"] == summary.run_id
        ts, expires = int(item["ts"]["N"]), int(item["expires_at"]["N"])
        if uuid in loaded.updated:  # ts is the update's; TTL still counts from the put
            assert expires <= ts // 1000 + 600
        else:
            assert expires == ts // 1000 + 600

    assert loaded.status == "complete"
    assert loaded.expected_stream_records == 260
    assert set(loaded.clicks) - set(loaded.deleted) == set(items)
    for uuid in loaded.updated:
        if uuid in items:
            assert items[uuid]["updated"] == {"N": "1"}

    # per item, the stream carries exactly the manifest's expected events, in order
    seen: dict[str, list[str]] = defaultdict(list)
    records = target.stream_records()
    for record in records:
        seen[record["dynamodb"]["Keys"]["uuid"]["S"]].append(record["eventName"])
    assert len(records) == 260
    assert dict(seen) == loaded.expected_events()

    # the producer's own tally per action (what `sandbox query` is checked against) = the INSERTs'
    inserted = Counter(r["dynamodb"]["NewImage"]["action"]["S"] for r in records if r["eventName"] == "INSERT")
    assert summary.actions == dict(sorted(inserted.items())) and sum(summary.actions.values()) == 200
    header = manifests.ManifestHeader.from_json(
        target.aws("s3").get_object(Bucket=target.topology.data_lake_bucket, Key=manifests.manifest_key(summary.run_id))["Body"].read()
    )
    assert header.actions == summary.actions


def test_update_sets_a_new_ts(target: Target) -> None:
    summary = produce(target.settings, ProduceOptions(count=30, seed=1, update_ratio=1.0))
    modify = [r for r in target.stream_records() if r["eventName"] == "MODIFY"]
    assert len(modify) == summary.updated == 30
    for record in modify:
        old, new = record["dynamodb"]["OldImage"], record["dynamodb"]["NewImage"]
        assert int(new["ts"]["N"]) >= int(old["ts"]["N"])
        assert new["expires_at"] == old["expires_at"]
        assert "updated" in new and "updated" not in old


def test_put_item_mode_writes_the_same_items(target: Target) -> None:
    summary = produce(target.settings, ProduceOptions(count=40, seed=2, write_mode=WriteMode.SINGLE))
    assert summary.write_mode == "put_item"
    assert summary.requests == 40
    assert len(target.items()) == 40


def test_rate_is_paced_and_reported(target: Target) -> None:
    # GIVEN a target rate of 80 writes/s WHEN 40 clicks are produced THEN it takes ~0.5 s
    summary = produce(target.settings, ProduceOptions(count=40, seed=4, rate=80))
    assert summary.elapsed_s >= 39 / 80 * 0.95
    assert summary.rate <= 80 * 1.05
    assert summary.write_mode == "batch_write_item(20)"


def test_duration_run_stops_in_time_with_exact_ratios(target: Target) -> None:
    summary = produce(
        target.settings,
        ProduceOptions(duration=0.6, rate=100, seed=5, update_ratio=0.5, delete_ratio=0.25),
    )
    assert 0.6 <= summary.elapsed_s < 5  # then the pending follow-ups drain
    assert 5 <= summary.written <= 0.6 * 100 + 1  # the pacer caps every write, puts included
    assert summary.updated == int(summary.written * 0.5 + 0.5)
    assert summary.deleted == int(summary.written * 0.25 + 0.5)
    assert len(target.stream_records()) == summary.expected_stream_records


def test_stop_event_ends_the_run_cleanly(target: Target) -> None:
    stop = threading.Event()
    updates: list[ProgressUpdate] = []

    def on_progress(update: ProgressUpdate) -> None:
        updates.append(update)
        if update.written >= 20:
            stop.set()

    summary = produce(
        target.settings,
        ProduceOptions(count=100_000, rate=200, seed=6, update_ratio=0.2),
        progress=on_progress,
        stop=stop,
    )
    assert summary.status == "interrupted"
    assert 20 <= summary.written < 1000
    loaded = manifests.load(target.settings, summary.run_id)
    assert loaded.status == "interrupted"
    # what the manifest says was written is exactly what the stream saw
    assert len(target.stream_records()) == loaded.expected_stream_records
    assert updates[-1].total_ops == 100_000 + 20_000


def test_missing_table_names_bootstrap(empty_target: Target) -> None:
    with pytest.raises(TableNotFound, match=r"table pt\w+-events not found .*\(fix: run `sandbox bootstrap apply --prefix pt"):
        produce(empty_target.settings, ProduceOptions(count=1))


def test_missing_bucket_names_bootstrap(empty_target: Target) -> None:
    empty_target.create_table()
    with pytest.raises(BucketNotFound, match=r"bucket pt\w+-datalake-\d{12} not found"):
        produce(empty_target.settings, ProduceOptions(count=1))
    assert empty_target.items() == {}  # nothing written before the check


def test_a_second_ctrl_c_stores_the_manifest_as_aborted(target: Target) -> None:
    # GIVEN a run that is interrupted hard (KeyboardInterrupt, as the CLI's second Ctrl-C raises)
    def on_progress(update: ProgressUpdate) -> None:
        if update.written >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        produce(target.settings, ProduceOptions(count=100_000, rate=500, seed=8, run_id="hard-stop"), progress=on_progress)
    # THEN the manifest is not left "running": aborted, with every write it made
    loaded = manifests.load(target.settings, "hard-stop")
    assert loaded.status == "aborted" and loaded.finished_at is not None
    assert 10 <= len(loaded.clicks) == len(target.items())
    assert len(target.stream_records()) == loaded.expected_stream_records


def test_only_botocores_invalid_endpoint_is_reported_as_an_endpoint_problem(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(error: Exception) -> object:
        def make(*_: object, **__: object) -> object:
            raise error

        return make

    monkeypatch.setattr(run, "client", failing(ValueError("Invalid endpoint: localhost:4566")))
    with pytest.raises(OptionsError, match=r"Invalid endpoint: localhost:4566 \(fix: use a URL like http://"):
        produce(target.settings, ProduceOptions(count=1))
    monkeypatch.setattr(run, "client", failing(InvalidRegionError(region_name="us east")))
    with pytest.raises(OptionsError, match=r"AWS_REGION='us east' is not a region") as caught:
        produce(target.settings, ProduceOptions(count=1))
    assert "URL" not in str(caught.value)
    monkeypatch.setattr(run, "client", failing(ValueError("something else")))
    with pytest.raises(ValueError, match="^something else$"):
        produce(target.settings, ProduceOptions(count=1))
