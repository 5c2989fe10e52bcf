"""GIVEN an emulator that persists its state, WHEN it stops (cleanly, or as a crash would) and starts
again from the snapshot, THEN tables, streams, Kinesis shards, objects, queues, functions and
mappings are back, and pollers resume at their checkpoints: nothing re-delivered, nothing skipped.

These emulators use an account of their own: moto's state is per process, shared with the
session emulator of the other tests, and a restart here replaces this account's state only.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from emulator import Emulator, EmulatorConfig, moto_state
from emulator.persistence import Persistence, load
from tests.functional.emulator.support import create_function, create_stream_table, read_records
from tests.waiting import wait_until

ACCOUNT = "111122223333"
CONFIG = EmulatorConfig(port=0, ttl_interval=0, account_id=ACCOUNT, snapshot_interval=0.2)


def _forget_account() -> None:
    """What a new process would have: no moto state for this account."""
    for backends in moto_state.BACKENDS.values():
        backends.pop(ACCOUNT, None)
    buckets = moto_state.s3_backends.bucket_accounts
    for name in [name for name, (_, account) in buckets.items() if account == ACCOUNT]:
        del buckets[name]


@contextmanager
def _emulator(path: Path, *, restore: bool) -> Iterator[tuple[Emulator, Callable[[str], Any]]]:
    loaded = load(path) if restore else None
    assert (loaded is not None) == restore
    emulator = Emulator(CONFIG, Persistence(path, loaded)).start()

    def aws(service: str) -> Any:
        return boto3.client(
            service, endpoint_url=emulator.endpoint_url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}),
        )

    try:
        yield emulator, aws
    finally:
        emulator.stop()


def _put_items(aws: Callable[[str], Any], table: str, keys: range) -> None:
    for key in keys:
        aws("dynamodb").put_item(TableName=table, Item={"pk": {"S": f"k{key:03d}"}, "n": {"N": str(key)}})


def _put_kinesis(aws: Callable[[str], Any], stream: str, keys: range) -> None:
    aws("kinesis").put_records(StreamName=stream, Records=[{"Data": f"r{k}".encode(), "PartitionKey": f"p{k}"} for k in keys])


def _received(path: Path) -> list[str]:
    """Every record the recorder got, as one id per record (sequence number, or Kinesis data)."""
    out = []
    for entry in read_records(path):
        record = entry["record"]
        if "dynamodb" in record:
            out.append(f"ddb:{record['dynamodb']['SequenceNumber']}")
        else:
            out.append(f"kin:{base64.b64decode(record['kinesis']['data']).decode()}")
    return out


def _deploy(aws: Callable[[str], Any], record_file: Path) -> tuple[str, str]:
    stream_arn = create_stream_table(aws, "persisted")
    aws("kinesis").create_stream(StreamName="persisted-k", ShardCount=2)
    wait_until(lambda: aws("kinesis").describe_stream_summary(StreamName="persisted-k")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE",
               timeout=10, what="the Kinesis stream")
    kinesis_arn = aws("kinesis").describe_stream_summary(StreamName="persisted-k")["StreamDescriptionSummary"]["StreamARN"]
    create_function(aws, "recorder", "recorder.handler", ("recorder",), env={"RECORD_FILE": str(record_file)})
    for arn in (stream_arn, kinesis_arn):
        aws("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder", StartingPosition="TRIM_HORIZON", BatchSize=7)
    aws("s3").create_bucket(Bucket="persisted-bucket")
    aws("s3").put_object(Bucket="persisted-bucket", Key="a/b.json", Body=b'{"x": 1}')
    queue = aws("sqs").create_queue(QueueName="persisted-q")["QueueUrl"]
    aws("sqs").send_message(QueueUrl=queue, MessageBody="kept")
    return stream_arn, kinesis_arn


def _facts(emulator: Emulator, aws: Callable[[str], Any], stream_arn: str) -> dict[str, Any]:
    items = sorted(item["pk"]["S"] for item in aws("dynamodb").scan(TableName="persisted")["Items"])
    stream = emulator.adapter.read_stream(stream_arn, 0, 10_000) or []
    function = aws("lambda").get_function_configuration(FunctionName="recorder")
    return {
        "items": items,
        "stream": [(r.sequence_number, r.record["eventID"]) for r in stream],
        "function": {k: function[k] for k in ("CodeSha256", "RevisionId", "Handler", "Environment", "LastModified")},
        "mappings": sorted((m.uuid, tuple(sorted(m.checkpoints.items()))) for m in emulator.mappings.all()),
        "object": aws("s3").get_object(Bucket="persisted-bucket", Key="a/b.json")["Body"].read(),
    }


@pytest.fixture
def state_file(tmp_path: Path) -> Iterator[Path]:
    _forget_account()
    yield tmp_path / "snapshot.bin"
    _forget_account()


def test_a_clean_restart_resumes_every_mapping_where_it_stopped(state_file: Path, tmp_path: Path) -> None:
    record_file = tmp_path / "records.jsonl"
    with _emulator(state_file, restore=False) as (emulator, aws):
        stream_arn, _ = _deploy(aws, record_file)
        _put_items(aws, "persisted", range(40))
        _put_kinesis(aws, "persisted-k", range(30))
        wait_until(lambda: len(_received(record_file)) >= 70, timeout=30, what="70 records delivered")
        wait_until(lambda: all(m.last_processing_result == "OK" for m in emulator.mappings.all()), timeout=10, what="mappings idle")
        before = _facts(emulator, aws, stream_arn)
    _forget_account()

    with _emulator(state_file, restore=True) as (emulator, aws):
        after = _facts(emulator, aws, stream_arn)
        assert after == before
        queue = aws("sqs").get_queue_url(QueueName="persisted-q")["QueueUrl"]
        assert [m["Body"] for m in aws("sqs").receive_message(QueueUrl=queue)["Messages"]] == ["kept"]
        _put_items(aws, "persisted", range(40, 50))
        _put_kinesis(aws, "persisted-k", range(30, 40))
        wait_until(lambda: len(_received(record_file)) >= 90, timeout=30, what="20 more records delivered")
        new_stream = _facts(emulator, aws, stream_arn)["stream"]

    received = _received(record_file)
    assert len(received) == len(set(received)) == 90  # nothing re-delivered, nothing skipped
    assert {f"kin:r{k}" for k in range(40)} <= set(received)
    old_max = max(seq for seq, _ in before["stream"])
    assert [seq for seq, _ in new_stream[40:]] == list(range(old_max + 1, old_max + 11))  # numbering continues


def test_a_crash_resumes_from_the_last_snapshot_and_redelivers_only_what_came_after(state_file: Path, tmp_path: Path) -> None:
    record_file = tmp_path / "records.jsonl"
    with _emulator(state_file, restore=False) as (emulator, aws):
        assert emulator.snapshotter is not None
        stream_arn, _ = _deploy(aws, record_file)
        _put_items(aws, "persisted", range(20))
        wait_until(lambda: len(_received(record_file)) >= 20, timeout=30, what="20 records delivered")
        wait_until(lambda: all(m.last_processing_result in ("OK", "No records processed") for m in emulator.mappings.all()),
                   timeout=10, what="mappings idle")
        emulator.snapshotter.stop(final=False)  # from here on, nothing is saved: as if killed right now
        emulator.snapshotter.snapshot_now()
        emulator.snapshotter = None
        saved = _facts(emulator, aws, stream_arn)
        _put_items(aws, "persisted", range(20, 25))  # lost with the crash: the snapshot is older
        wait_until(lambda: len(_received(record_file)) >= 25, timeout=30, what="25 records delivered")
    _forget_account()

    with _emulator(state_file, restore=True) as (emulator, aws):
        restored = _facts(emulator, aws, stream_arn)
        assert restored["items"] == saved["items"] and restored["mappings"] == saved["mappings"]
        _put_items(aws, "persisted", range(100, 103))
        wait_until(lambda: len(_received(record_file)) >= 28, timeout=30, what="3 more records delivered")

    received = _received(record_file)
    first_life = received[:20]
    assert len(set(first_life)) == 20 and not set(first_life) & set(received[25:])  # nothing before the snapshot came twice


def test_a_snapshot_from_another_format_version_is_refused_before_anything_loads(state_file: Path) -> None:
    from emulator import snapshot_file

    with _emulator(state_file, restore=False) as (_emulator_, aws):
        create_stream_table(aws, "persisted")
    text = state_file.read_bytes()
    header, _, payload = text.partition(b"\n")
    state_file.write_bytes(header.replace(b'"format_version": 1', b'"format_version": 999') + b"\n" + payload)
    _forget_account()
    with pytest.raises(snapshot_file.SnapshotError, match="format version 999"):
        load(state_file)
    assert ACCOUNT not in moto_state.BACKENDS["dynamodb"]  # nothing half-loaded


def test_the_endpoint_refuses_writes_once_the_final_snapshot_is_taken(state_file: Path) -> None:
    with _emulator(state_file, restore=False) as (emulator, aws):
        create_stream_table(aws, "persisted")
        emulator.adapter.frozen = True
        with pytest.raises(aws("dynamodb").exceptions.ClientError, match="503|shutting down|ServiceUnavailable"):
            aws("dynamodb").put_item(TableName="persisted", Item={"pk": {"S": "late"}})
        emulator.adapter.frozen = False


def test_an_idle_emulator_writes_no_snapshot(state_file: Path) -> None:
    with _emulator(state_file, restore=False) as (emulator, aws):
        create_stream_table(aws, "persisted")
        snapshotter = emulator.snapshotter
        assert snapshotter is not None
        idle_from = wait_until(lambda: snapshotter.last, timeout=5, what="a first snapshot")
        first = state_file.stat().st_mtime_ns
        time.sleep(CONFIG.snapshot_interval * 4)  # several ticks with nothing to save: absence needs a span
        assert state_file.stat().st_mtime_ns == first and snapshotter.last is idle_from
