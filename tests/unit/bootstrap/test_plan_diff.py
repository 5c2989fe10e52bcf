"""Plan diffing from fake states: what each resource module proposes, with no AWS at all."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bootstrap.context import Context, Wiring
from bootstrap.errors import ConfigurationError
from bootstrap.plan import Action, Change, Plan
from bootstrap.resources import buckets, functions, kinesis, mappings, queue, role, table
from bootstrap.resources._aws import canonical_json
from bootstrap.target import Target
from bootstrap.topology import FunctionSpec, SourceKind

from .conftest import FAKE_PACKAGE


def actions(changes: list[Change]) -> list[tuple[str, Action]]:
    return [(c.name, c.action) for c in changes]


# --- table -------------------------------------------------------------------------------
def table_state(ctx: Context, **changes: object) -> table.TableState:
    state = table.TableState(
        status="ACTIVE",
        key_schema=(("uuid", "HASH"),),
        billing_mode="PAY_PER_REQUEST",
        stream_view_type=ctx.settings.stream_view_type,
        stream_arn="arn:aws:dynamodb:us-east-1:000000000000:table/clicks-events/stream/old",
        ttl_attribute="expires_at",
    )
    return replace(state, **changes)


def test_missing_table_is_created_and_has_no_stream_arn_yet(ctx: Context, wiring: Wiring) -> None:
    # GIVEN no table WHEN planning THEN create, and mappings must not wire to any old stream
    (change,) = table.plan(ctx, None, wiring)
    assert change.action is Action.CREATE
    assert "NEW_AND_OLD_IMAGES" in change.detail and "expires_at" in change.detail
    assert table.wire(ctx, None, wiring).table_stream_arn is None


def test_matching_table_is_a_noop_and_wires_its_stream(ctx: Context, wiring: Wiring) -> None:
    state = table_state(ctx)
    assert actions(table.plan(ctx, state, wiring)) == [("clicks-events", Action.NOOP)]
    assert table.wire(ctx, state, wiring).table_stream_arn == state.stream_arn


def test_changed_view_type_replaces_the_stream(make_ctx, wiring: Wiring) -> None:
    ctx = make_ctx(stream_view_type="KEYS_ONLY")
    state = table_state(ctx, stream_view_type="NEW_AND_OLD_IMAGES")
    (change,) = table.plan(ctx, state, wiring)
    assert change.action is Action.UPDATE
    assert "NEW_AND_OLD_IMAGES -> KEYS_ONLY" in change.detail and "new stream ARN" in change.detail
    assert table.wire(ctx, state, wiring).table_stream_arn is None  # old ARN must not be reused


def test_ttl_and_billing_drift_are_updates(ctx: Context, wiring: Wiring) -> None:
    state = table_state(ctx, ttl_attribute=None, billing_mode="PROVISIONED")
    (change,) = table.plan(ctx, state, wiring)
    assert change.action is Action.UPDATE
    assert "TTL off -> expires_at" in change.detail and "PAY_PER_REQUEST" in change.detail


def test_wrong_key_is_refused_not_replaced(ctx: Context, wiring: Wiring) -> None:
    with pytest.raises(ConfigurationError, match="key cannot change in place"):
        table.plan(ctx, table_state(ctx, key_schema=(("id", "HASH"),)), wiring)


# --- kinesis, queue, buckets, role ---------------------------------------------------------
def test_kinesis_shard_count_change_is_an_update(make_ctx, wiring: Wiring) -> None:
    ctx = make_ctx(kinesis_shards=4)
    state = kinesis.StreamState(arn="arn:k", status="ACTIVE", open_shards=2, mode="PROVISIONED")
    (change,) = kinesis.plan(ctx, state, wiring)
    assert (change.action, change.detail) == (Action.UPDATE, "shards 2 -> 4")
    assert kinesis.plan(make_ctx(kinesis_shards=2), state, wiring)[0].action is Action.NOOP


@pytest.mark.parametrize(
    ("current", "target", "steps"),
    [(1, 16, [2, 4, 8, 16]), (16, 3, [8, 4, 3]), (2, 3, [3]), (3, 2, [2]), (2, 2, [])],
)
def test_reshard_steps_never_more_than_double_or_half(current: int, target: int, steps: list[int]) -> None:
    assert kinesis._steps_to(current, target) == steps


def test_queue_retention_drift(ctx: Context, wiring: Wiring) -> None:
    state = queue.QueueState(url="u", arn="arn:q", attributes={"MessageRetentionPeriod": "345600"})
    (change,) = queue.plan(ctx, state, wiring)
    assert change.action is Action.UPDATE and "345600 -> 1209600" in change.detail
    assert queue.wire(ctx, state, wiring).failure_queue_arn == "arn:q"


def test_buckets_only_missing_ones_are_created(ctx: Context, wiring: Wiring) -> None:
    lake, analytics = ctx.topology.buckets
    changes = buckets.plan(ctx, buckets.BucketsState(frozenset({lake})), wiring)
    assert actions(changes) == [(lake, Action.NOOP), (analytics, Action.CREATE)]


def test_role_policy_compares_semantically(ctx: Context, wiring: Wiring) -> None:
    policy = role.pipeline_policy(ctx.topology)
    same = role.RoleState("arn:r", canonical_json(role.trust_policy()), canonical_json(policy))
    assert role.plan(ctx, same, wiring)[0].action is Action.NOOP
    # IAM returns documents URL-encoded on the wire: still the same document
    from urllib.parse import quote
    import json

    assert canonical_json(quote(json.dumps(policy))) == same.inline_policy
    missing = replace(same, inline_policy=None)
    (change,) = role.plan(ctx, missing, wiring)
    assert change.action is Action.UPDATE and "missing" in change.detail


# --- functions -----------------------------------------------------------------------------
def deployed(ctx: Context, wiring: Wiring, **changes: object) -> functions.FunctionsState:
    state = {
        spec.key: functions.desired(ctx, spec, wiring, FAKE_PACKAGE.sha256) for spec in ctx.topology.functions
    }
    return {key: replace(config, **changes) for key, config in state.items()}


def test_functions_missing_are_created(ctx: Context, wiring: Wiring) -> None:
    changes = functions.plan(ctx, {}, wiring)
    assert [c.action for c in changes] == [Action.CREATE] * 4
    assert changes[0].detail.startswith("functions.archive.handler")


def test_functions_identical_are_noops(ctx: Context, wiring: Wiring) -> None:
    assert {c.action for c in functions.plan(ctx, deployed(ctx, wiring), wiring)} == {Action.NOOP}


def test_changed_code_hash_is_a_code_update(ctx: Context, wiring: Wiring) -> None:
    changes = functions.plan(ctx, deployed(ctx, wiring, code_sha256="b3RoZXI="), wiring)
    assert {c.action for c in changes} == {Action.UPDATE}
    assert all(c.detail.startswith("code ") for c in changes)


def test_changed_environment_names_the_variable(make_ctx, wiring: Wiring) -> None:
    before = make_ctx()
    state = deployed(before, wiring)
    after = make_ctx(http_sink_url="http://httpsink:8088/deliveries")
    changes = functions.plan(after, state, wiring)
    assert {c.detail for c in changes} == {"environment (HTTP_SINK_URL)"}


# --- mappings ------------------------------------------------------------------------------
def live_mappings(ctx: Context, wiring: Wiring, **changes: object) -> mappings.MappingsState:
    return mappings.MappingsState(
        tuple(
            mappings.Mapping(
                f"uuid-{spec.key}", spec.key, "Enabled", replace(mappings.desired(spec, wiring), **changes)
            )
            for spec in ctx.topology.functions
        )
    )


def test_every_function_gets_exactly_one_mapping(ctx: Context, wiring: Wiring) -> None:
    changes = mappings.plan(ctx, mappings.MappingsState(()), wiring)
    assert [c.action for c in changes] == [Action.CREATE] * 4
    table_readers = [c for c in changes if c.name.endswith("<- clicks-events stream")]
    assert len(table_readers) == 2 and all("BatchSize 100" in c.detail for c in table_readers)


def test_desired_mapping_carries_every_setting(ctx: Context, wiring: Wiring) -> None:
    fanout = mappings.desired(ctx.topology.function("fanout"), wiring)
    archive = mappings.desired(ctx.topology.function("archive"), wiring)
    assert fanout.source_arn == wiring.table_stream_arn
    assert fanout.response_types == ("ReportBatchItemFailures",) and archive.response_types == ()
    assert fanout.on_failure == wiring.failure_queue_arn and fanout.starting_position == "TRIM_HORIZON"
    assert mappings._update_kwargs(fanout)["DestinationConfig"] == {
        "OnFailure": {"Destination": wiring.failure_queue_arn}
    }


def test_identical_mappings_are_noops(ctx: Context, wiring: Wiring) -> None:
    assert {c.action for c in mappings.plan(ctx, live_mappings(ctx, wiring), wiring)} == {Action.NOOP}


def test_changed_batch_size_is_an_in_place_update(ctx: Context, wiring: Wiring) -> None:
    changes = mappings.plan(ctx, live_mappings(ctx, wiring, batch_size=10), wiring)
    assert {c.action for c in changes} == {Action.UPDATE}
    assert {c.detail for c in changes} == {"BatchSize 10 -> 100"}


def test_mappings_on_the_old_stream_are_replaced(ctx: Context, wiring: Wiring) -> None:
    # GIVEN mappings on the current stream WHEN the table will get a new stream (wiring None)
    state = live_mappings(ctx, wiring)
    changes = mappings.plan(ctx, state, replace(wiring, table_stream_arn=None))
    table_changes = [c for c in changes if c.name.endswith("clicks-events stream")]
    assert sorted(c.action for c in table_changes) == [Action.CREATE, Action.CREATE, Action.DELETE, Action.DELETE]
    kinesis_changes = [c for c in changes if c.name.endswith("clicks-fanout")]
    assert {c.action for c in kinesis_changes} == {Action.NOOP}


def test_changed_starting_position_cannot_update_in_place(ctx: Context, wiring: Wiring) -> None:
    changes = mappings.plan(ctx, live_mappings(ctx, wiring, starting_position="LATEST"), wiring)
    assert sorted(c.action for c in changes) == [Action.CREATE] * 4 + [Action.DELETE] * 4


def test_disabled_mapping_is_reenabled(ctx: Context, wiring: Wiring) -> None:
    changes = mappings.plan(ctx, live_mappings(ctx, wiring, enabled=False), wiring)
    assert {c.detail for c in changes} == {"Enabled False -> True"}


def test_foreign_table_readers_count_against_the_limit(ctx: Context, wiring: Wiring) -> None:
    state = replace(live_mappings(ctx, wiring), foreign_table_readers=("someone-elses-function",))
    with pytest.raises(ConfigurationError, match="at most|limit of 2"):
        mappings.plan(ctx, state, wiring)


# --- the plan object -------------------------------------------------------------------------
def test_plan_summary_counts_changes() -> None:
    target = Target("http://x", "us-east-1", "000000000000", "arn:aws:iam::000000000000:root")
    plan = Plan(
        target,
        (
            Change("table", "t", Action.CREATE),
            Change("bucket", "b", Action.NOOP),
            Change("function", "f", Action.UPDATE),
            Change("function", "g", Action.CREATE),
        ),
    )
    assert plan.summary() == "3 changes (2 create, 1 update), 1 unchanged"
    assert not plan.is_noop
    assert Plan(target, (Change("bucket", "b", Action.NOOP),)).summary() == "0 changes, 1 unchanged"


def test_extra_consumer_is_one_spec(ctx: Context, wiring: Wiring) -> None:
    extra = FunctionSpec(key="audit", module="consumer_audit", source=SourceKind.KINESIS, description="x")
    assert mappings.desired(extra, wiring).source_arn == wiring.kinesis_stream_arn
