"""Orphans: functions of this prefix (by tag) that the topology no longer has, found and deleted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from bootstrap.context import Context, Wiring
from bootstrap.plan import Action
from bootstrap.resources import ORDER, functions, orphans

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"
KINESIS = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks-fanout"


def not_found(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "gone"}}, operation)


class Pages:
    def __init__(self, pages: Callable[..., list[dict[str, Any]]]) -> None:
        self._pages = pages

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        return self._pages(**kwargs)


class FakeLambda:
    """Functions with tags and mappings; records deletions."""

    def __init__(self, functions: dict[str, dict[str, str]], mappings: dict[str, list[str]]) -> None:
        self.functions, self.mappings = functions, mappings
        self.deleted: list[str] = []

    def get_paginator(self, name: str) -> Pages:
        if name == "list_functions":
            return Pages(lambda: [{"Functions": [{"FunctionName": n, "FunctionArn": ARN + n} for n in self.functions]}])
        assert name == "list_event_source_mappings"
        return Pages(lambda FunctionName: [{"EventSourceMappings": [
            {"UUID": uuid, "EventSourceArn": KINESIS} for uuid in self.mappings.get(FunctionName, [])
        ]}])

    def list_tags(self, Resource: str) -> dict[str, Any]:
        name = Resource.removeprefix(ARN)
        if name not in self.functions:
            raise not_found("ListTags")
        return {"Tags": self.functions[name]}

    def delete_event_source_mapping(self, UUID: str) -> None:
        self.deleted.append(f"mapping {UUID}")
        for uuids in self.mappings.values():
            if UUID in uuids:
                uuids.remove(UUID)

    def get_event_source_mapping(self, UUID: str) -> dict[str, Any]:
        if any(UUID in uuids for uuids in self.mappings.values()):
            return {"State": "Deleting"}
        raise not_found("GetEventSourceMapping")

    def delete_function(self, FunctionName: str) -> None:
        self.deleted.append(f"function {FunctionName}")
        self.functions.pop(FunctionName)


class FakeLogs:
    def __init__(self, groups: set[str]) -> None:
        self.groups = groups

    def describe_log_groups(self, logGroupNamePrefix: str) -> dict[str, Any]:
        return {"logGroups": [{"logGroupName": g} for g in sorted(self.groups) if g.startswith(logGroupNamePrefix)]}

    def delete_log_group(self, logGroupName: str) -> None:
        self.groups.remove(logGroupName)


def deployed(ctx: Context, extra: dict[str, dict[str, str]]) -> tuple[FakeLambda, FakeLogs]:
    ours = {"sandbox:prefix": "clicks"}
    lam = FakeLambda(
        {**{name: dict(ours) for name in ctx.topology.function_names().values()}, **extra},
        {"clicks-legacy": ["m-legacy"], "clicks-analytics": ["m-analytics"]},
    )
    logs = FakeLogs({"/aws/lambda/clicks-legacy", "/aws/lambda/clicks-analytics"})
    ctx._clients.update({"lambda": lam, "logs": logs})
    return lam, logs


def test_only_this_prefixs_tagged_functions_outside_the_topology_are_orphans(ctx: Context, wiring: Wiring) -> None:
    # GIVEN a dropped consumer of ours, a function of prefix "clicks-b", an untagged one and someone else's
    lam, _ = deployed(ctx, {
        "clicks-legacy": {"sandbox:prefix": "clicks", "team": "x"},
        "clicks-b-archive": {"sandbox:prefix": "clicks-b"},
        "clicks-manual": {},
        "other-archive": {"sandbox:prefix": "clicks"},
    })
    state = orphans.read_state(ctx)
    assert state == (orphans.Orphan("clicks-legacy", (("m-legacy", KINESIS),), True),)
    # THEN the plan deletes its mapping, the function and its log group, and says why
    assert [(c.kind, c.name, c.action) for c in orphans.plan(ctx, state, wiring)] == [
        ("mapping", "clicks-legacy <- clicks-fanout", Action.DELETE),
        ("function", "clicks-legacy", Action.DELETE),
        ("log-group", "/aws/lambda/clicks-legacy", Action.DELETE),
    ]
    assert "not in the topology (tagged sandbox:prefix=clicks)" in orphans.plan(ctx, state, wiring)[1].detail


def test_apply_deletes_the_mapping_before_the_function(ctx: Context, wiring: Wiring) -> None:
    lam, logs = deployed(ctx, {"clicks-legacy": {"sandbox:prefix": "clicks"}})
    orphans.apply(ctx, orphans.read_state(ctx), wiring)
    assert lam.deleted == ["mapping m-legacy", "function clicks-legacy"]
    assert "/aws/lambda/clicks-legacy" not in logs.groups and "/aws/lambda/clicks-analytics" in logs.groups
    assert orphans.read_state(ctx) == ()


def test_destroy_reports_what_it_deleted(ctx: Context) -> None:
    deployed(ctx, {"clicks-legacy": {"sandbox:prefix": "clicks"}})
    changes = orphans.destroy(ctx, orphans.read_state(ctx))
    assert {c.action for c in changes} == {Action.DELETE} and len(changes) == 3


def test_orphans_go_before_functions_and_mappings() -> None:
    assert ORDER.index(orphans) < ORDER.index(functions)


def test_untagged_topology_functions_get_the_tag(ctx: Context, wiring: Wiring) -> None:
    # A function created before bootstrap tagged (e.g. on LocalStack): an update, not a noop
    state = {
        spec.key: functions.desired(ctx, spec, wiring, ctx.package.sha256) for spec in ctx.topology.functions
    }
    state["archive"] = replace(state["archive"], tags=(("team", "x"),))
    changes = {c.name: c for c in functions.plan(ctx, state, wiring)}
    assert (changes["clicks-archive"].action, changes["clicks-archive"].detail) == (Action.UPDATE, "tag sandbox:prefix")
    assert changes["clicks-fanout"].action is Action.NOOP
