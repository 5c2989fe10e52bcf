"""`sandbox redrive` on the session emulator: consumer B gives up on every batch while the
HTTP sink fails, the batches land in the failure queue, the sink recovers, and redrive
delivers exactly those records once and empties the queue.

The deployment lowers consumer B's MaximumRetryAttempts to 0 and turns bisect off (a
custom ``functions`` tuple for ``bootstrap.api.apply``), so a batch reaches the queue
after one failed invocation instead of 10 retries with backoff.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from typer.testing import CliRunner

from bootstrap import api
from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import CONSUMERS, TABLE_STREAM_READERS, Topology
from emulator import Emulator
from producer.options import ProduceOptions
from producer.run import produce
from sandbox.cli import app
from sandbox.httpsink import HttpSink
from tests.functional.sandbox.support import cli_env
from tests.waiting import wait_until

runner = CliRunner()
CLICKS = 6
FUNCTIONS = TABLE_STREAM_READERS + tuple(
    replace(spec, maximum_retry_attempts=0, bisect_on_error=False) if spec.key == "http" else spec for spec in CONSUMERS
)


@dataclass
class Failed:
    settings: Settings
    topology: Topology
    sink: HttpSink
    sqs: Any
    queue_url: str
    env: dict[str, str | None]
    expected: int

    def peek(self) -> list[dict[str, Any]]:
        """The failure documents in the queue, without taking them (visibility 0)."""
        found: dict[str, dict[str, Any]] = {}
        for _ in range(3):
            for m in self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []):
                found[m["MessageId"]] = json.loads(m["Body"])
        return list(found.values())

    def queued(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return sum(int(v) for v in attributes.values())


def _faults(sink: HttpSink, ratio: float) -> None:
    request = urllib.request.Request(
        f"{sink.base_url}/faults", data=json.dumps({"fail_ratio": ratio}).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


@pytest.fixture(scope="module")
def failed(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Failed]:
    with HttpSink("127.0.0.1", 0) as sink:
        settings = Settings(endpoint_url=emulator.endpoint_url, prefix=f"rd{uuid.uuid4().hex[:8]}", http_sink_url=sink.url)
        env = cli_env(settings, tmp_path_factory.mktemp("state"), COLUMNS="300")
        _faults(sink, 1.0)  # consumer B fails permanently from the first record on
        api.apply(settings, functions=FUNCTIONS)
        try:
            topology = Topology(settings, functions=FUNCTIONS)
            sqs = client("sqs", settings)
            queue_url = sqs.get_queue_url(QueueName=topology.failure_queue_name)["QueueUrl"]
            run = produce(settings, ProduceOptions(count=CLICKS, seed=11))
            state = Failed(settings, topology, sink, sqs, queue_url, env, run.expected_stream_records)
            wait_until(
                lambda: sum(d["KinesisBatchInfo"]["batchSize"] for d in state.peek() if "KinesisBatchInfo" in d) == state.expected,
                timeout=60, interval=0.3, what=f"consumer B's failed batches covering {state.expected} records in the queue",
            )
            _faults(sink, 0.0)  # the sink recovers
            yield state
        finally:
            api.destroy(settings, functions=FUNCTIONS)


def test_dry_run_lists_and_redrive_delivers_each_record_once(failed: Failed) -> None:
    documents = failed.peek()
    assert failed.sink.deliveries() == []  # nothing got through while the sink failed
    assert {d["requestContext"]["functionArn"].rsplit(":", 1)[-1] for d in documents} == {f"{failed.settings.prefix}-http"}

    # WHEN a dry run THEN it lists every batch, invokes nothing and keeps every message
    dry = runner.invoke(app, ["redrive", "--dry-run"], env=failed.env)
    assert dry.exit_code == 0, dry.output
    n = len(documents)
    assert f"redrive: {n} failed batches ({n} would redrive); would redrive {failed.expected} records" in dry.stdout
    assert failed.sink.deliveries() == [] and failed.queued() == len(documents)

    # WHEN redriven THEN the sink holds exactly those records, once each, and the queue is empty
    done = runner.invoke(app, ["redrive"], env=failed.env)
    assert done.exit_code == 0, done.output
    assert f"redrove {failed.expected} records" in done.stdout and "0 messages left in the queue: ok" in done.stdout
    deliveries = failed.sink.deliveries()
    keys = [d["key"] for d in deliveries]
    assert len(keys) == len(set(keys)) == failed.expected
    assert all(d["body"]["event_name"] == "INSERT" for d in deliveries)
    assert failed.queued() == 0

    # AND a second redrive finds nothing to do
    again = runner.invoke(app, ["redrive"], env=failed.env)
    assert again.exit_code == 0 and "holds no failed batches" in again.stdout


def test_records_gone_from_the_stream_keep_the_message_and_point_to_replay(failed: Failed) -> None:
    # GIVEN a failure document for table-stream records older than anything the stream still holds
    ddb, streams = client("dynamodb", failed.settings), client("dynamodbstreams", failed.settings)
    stream_arn = ddb.describe_table(TableName=failed.topology.table_name)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    first = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
    archive = f"arn:aws:lambda:us-east-1:000000000000:function:{failed.settings.prefix}-archive"
    document = {
        "requestContext": {"functionArn": archive, "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
        "DDBStreamBatchInfo": {"shardId": shard["ShardId"], "startSequenceNumber": str(first - 2),
                               "endSequenceNumber": str(first - 1), "batchSize": 2, "streamArn": stream_arn,
                               "approximateArrivalOfFirstRecord": "2026-11-25T23:59:58.000Z",
                               "approximateArrivalOfLastRecord": "2026-11-26T00:00:01.000Z"},
    }
    failed.sqs.send_message(QueueUrl=failed.queue_url, MessageBody=json.dumps(document))
    try:
        # WHEN redriven THEN it says the records are gone, suggests replay, exits 1 and keeps the message
        result = runner.invoke(app, ["redrive"], env=failed.env)
        assert result.exit_code == 1, result.output
        assert "gone" in result.stdout and "no longer in the stream" in result.stdout
        assert "sandbox replay --function archive --from 2026-11-25T23 --to 2026-11-26T00" in result.stderr
        assert "Traceback" not in result.output
        assert failed.queued() == 1
    finally:
        failed.sqs.purge_queue(QueueUrl=failed.queue_url)
