"""bootstrap against the embedded emulator: create, converge, update in place, destroy.

Each test uses its own prefix: the emulator's state is shared by the whole session.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

import bootstrap
from bootstrap.cli import app
from bootstrap.plan import Action
from bootstrap.settings import Settings
from bootstrap.topology import CONSUMERS, TABLE_STREAM_READERS, Topology

Aws = Callable[..., Any]


@pytest.fixture
def settings(emulator: Any) -> Settings:
    return Settings(endpoint_url=emulator.endpoint_url, prefix=f"bt{uuid.uuid4().hex[:8]}")


def mappings_of(aws: Aws, topology: Topology) -> dict[str, dict[str, Any]]:
    lam = aws("lambda")
    found = {}
    for spec in topology.functions:
        (mapping,) = lam.list_event_source_mappings(FunctionName=topology.function_name(spec))["EventSourceMappings"]
        found[spec.key] = mapping
    return found


def test_apply_converges_updates_in_place_and_destroy_removes_everything(settings: Settings, aws: Aws) -> None:
    # GIVEN nothing WHEN planning THEN every resource is to be created
    planned = bootstrap.plan(settings)
    assert {c.action for c in planned.changes} == {Action.CREATE}
    assert len(planned.changes) == 14  # role, queue, 2 buckets, stream, table, 4 functions, 4 mappings

    # WHEN applying THEN it did exactly that
    applied = bootstrap.apply(settings)
    assert [(c.kind, c.name, c.action) for c in applied.changes] == [
        (c.kind, c.name, c.action) for c in planned.changes
    ]
    topology = Topology.from_settings(settings, applied.target.account_id)

    table = aws("dynamodb").describe_table(TableName=topology.table_name)["Table"]
    assert table["TableStatus"] == "ACTIVE" and table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    ttl = aws("dynamodb").describe_time_to_live(TableName=topology.table_name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at" and ttl["TimeToLiveStatus"] in ("ENABLED", "ENABLING")
    stream = aws("kinesis").describe_stream_summary(StreamName=topology.kinesis_stream_name)
    assert stream["StreamDescriptionSummary"]["OpenShardCount"] == settings.kinesis_shards
    for spec in topology.functions:
        config = aws("lambda").get_function(FunctionName=topology.function_name(spec))["Configuration"]
        assert (config["Runtime"], config["Handler"], config["State"]) == ("python3.12", spec.handler, "Active")
        assert config["Environment"]["Variables"] == topology.environment(spec)
        assert config["Role"] == topology.role_arn
    queue_arn = aws("sqs").get_queue_attributes(
        QueueUrl=aws("sqs").get_queue_url(QueueName=topology.failure_queue_name)["QueueUrl"],
        AttributeNames=["QueueArn"],
    )["Attributes"]["QueueArn"]
    mappings = mappings_of(aws, topology)
    for spec in topology.functions:
        mapping = mappings[spec.key]
        assert mapping["State"] == "Enabled"
        expected_source = table["LatestStreamArn"] if spec in TABLE_STREAM_READERS else topology.kinesis_stream_arn
        assert mapping["EventSourceArn"] == expected_source
        assert mapping["BatchSize"] == spec.batch_size
        assert mapping["MaximumRetryAttempts"] == spec.maximum_retry_attempts
        assert mapping["BisectBatchOnFunctionError"] is spec.bisect_on_error
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
        assert ("ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", [])) is (
            spec.report_batch_item_failures
        )

    # WHEN applying again (through the CLI this time) THEN nothing changes and it says so
    assert bootstrap.plan(settings).is_noop
    env = {"AWS_ENDPOINT_URL": settings.endpoint_url or "", "SANDBOX_PREFIX": settings.prefix}
    again = CliRunner().invoke(app, ["apply"], env=env)
    assert again.exit_code == 0, again.output
    assert "0 changes, 14 unchanged" in again.output and "already up to date" in again.output

    # WHEN BatchSize changes THEN only the mappings change, in place (same UUIDs)
    before = mappings_of(aws, topology)
    code_before = aws("lambda").get_function(FunctionName=topology.function_name(topology.functions[0]))
    smaller = tuple(replace(spec, batch_size=25) for spec in (*TABLE_STREAM_READERS, *CONSUMERS))
    updated = bootstrap.apply(settings, functions=smaller)
    assert {(c.kind, c.action, c.detail) for c in updated.pending} == {
        ("mapping", Action.UPDATE, "BatchSize 100 -> 25")
    }
    after = mappings_of(aws, topology)
    assert {k: m["UUID"] for k, m in after.items()} == {k: m["UUID"] for k, m in before.items()}
    assert {m["BatchSize"] for m in after.values()} == {25}

    # WHEN the sink URL and the shard count change THEN functions and stream update, code is not re-sent
    changed = replace(settings, http_sink_url="http://sink.invalid:8088/deliveries", kinesis_shards=3)
    result = bootstrap.apply(changed, functions=smaller)
    assert {(c.kind, c.action) for c in result.pending} == {
        ("kinesis-stream", Action.UPDATE),
        ("function", Action.UPDATE),
    }
    assert {c.detail for c in result.of_kind("function")} == {"environment (HTTP_SINK_URL)"}
    config = aws("lambda").get_function(FunctionName=topology.function_name(topology.functions[0]))["Configuration"]
    assert config["Environment"]["Variables"]["HTTP_SINK_URL"] == "http://sink.invalid:8088/deliveries"
    assert config["CodeSha256"] == code_before["Configuration"]["CodeSha256"]
    summary = aws("kinesis").describe_stream_summary(StreamName=topology.kinesis_stream_name)
    assert summary["StreamDescriptionSummary"]["OpenShardCount"] == 3
    assert {m["State"] for m in mappings_of(aws, topology).values()} == {"Enabled"}
    assert bootstrap.apply(changed, functions=smaller).is_noop

    # WHEN destroying THEN everything is gone
    destroyed = CliRunner().invoke(app, ["destroy"], env=env)
    assert destroyed.exit_code == 0, destroyed.output
    assert "14 changes (14 delete)" in destroyed.output
    with pytest.raises(ClientError, match="ResourceNotFound"):
        aws("dynamodb").describe_table(TableName=topology.table_name)
    with pytest.raises(ClientError, match="ResourceNotFound"):
        aws("lambda").get_function(FunctionName=topology.function_name(topology.functions[0]))
    with pytest.raises(ClientError, match="ResourceNotFound"):
        aws("kinesis").describe_stream_summary(StreamName=topology.kinesis_stream_name)
    assert not [b for b in aws("s3").list_buckets()["Buckets"] if b["Name"] in topology.buckets]
    assert not aws("sqs").list_queues(QueueNamePrefix=topology.failure_queue_name).get("QueueUrls")
    assert not [r for r in aws("iam").list_roles()["Roles"] if r["RoleName"] == topology.role_name]
    assert {c.action for c in bootstrap.plan(settings).changes} == {Action.CREATE}
    assert bootstrap.destroy(settings).summary() == "0 changes"


def test_changed_view_type_moves_the_table_readers_to_the_new_stream(settings: Settings, aws: Aws) -> None:
    # Only the table-stream readers: the consumers are not involved and cost time to create.
    readers = TABLE_STREAM_READERS
    deployed = bootstrap.apply(settings, functions=readers)
    try:
        _view_type_change(settings, aws, Topology(settings, deployed.target.account_id, readers))
    finally:
        bootstrap.destroy(settings, functions=readers)


def _view_type_change(settings: Settings, aws: Aws, topology: Topology) -> None:
    old_stream = aws("dynamodb").describe_table(TableName=topology.table_name)["Table"]["LatestStreamArn"]
    keys_only = replace(settings, stream_view_type="KEYS_ONLY")

    planned = bootstrap.plan(keys_only, functions=topology.functions)
    assert [c.action for c in planned.of_kind("table")] == [Action.UPDATE]
    replaced = sorted(c.action for c in planned.of_kind("mapping") if c.pending)
    assert replaced == [Action.CREATE] * 2 + [Action.DELETE] * 2

    bootstrap.apply(keys_only, functions=topology.functions)
    table = aws("dynamodb").describe_table(TableName=topology.table_name)["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    assert table["LatestStreamArn"] != old_stream
    sources = {k: m["EventSourceArn"] for k, m in mappings_of(aws, topology).items()}
    assert sources["archive"] == sources["fanout"] == table["LatestStreamArn"]
    assert bootstrap.apply(keys_only, functions=topology.functions).is_noop


def test_a_consumer_dropped_from_the_topology_is_deleted_with_its_mapping(settings: Settings, aws: Aws) -> None:
    # GIVEN the table readers and consumer A deployed (every function tagged with the prefix)
    with_a = (*TABLE_STREAM_READERS, CONSUMERS[0])
    applied = bootstrap.apply(settings, functions=with_a)
    analytics = Topology(settings, applied.target.account_id, with_a).function_name(CONSUMERS[0])
    try:
        arn = aws("lambda").get_function(FunctionName=analytics)["Configuration"]["FunctionArn"]
        assert aws("lambda").list_tags(Resource=arn)["Tags"] == {"sandbox:prefix": settings.prefix}
        # WHEN consumer A leaves the topology THEN plan deletes its mapping and function, nothing else
        planned = bootstrap.plan(settings, functions=TABLE_STREAM_READERS)
        assert [(c.kind, c.name, c.action) for c in planned.pending] == [
            ("mapping", f"{analytics} <- {settings.prefix}-fanout", Action.DELETE),
            ("function", analytics, Action.DELETE),
        ]
        assert bootstrap.apply(settings, functions=TABLE_STREAM_READERS).pending == planned.pending
        with pytest.raises(ClientError, match="ResourceNotFound"):
            aws("lambda").get_function(FunctionName=analytics)
        stream = Topology(settings, applied.target.account_id).kinesis_stream_arn
        left = aws("lambda").list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"]
        assert not [m for m in left if m["FunctionArn"].endswith(f":{analytics}")]
        assert bootstrap.plan(settings, functions=TABLE_STREAM_READERS).is_noop
    finally:
        bootstrap.destroy(settings, functions=TABLE_STREAM_READERS)  # also removes consumer A if still there
    assert not [f for f in aws("lambda").list_functions()["Functions"] if f["FunctionName"].startswith(f"{settings.prefix}-")]
