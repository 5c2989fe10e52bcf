"""Functions this prefix deployed that the topology no longer has, with their mappings and logs.

Why: removing a consumer from ``CONSUMERS`` would otherwise leave its function running
and its mapping reading Kinesis forever (and a removed table reader would keep one of
the stream's two reader slots). Names alone cannot tell ours apart (``clicks-x-archive``
may be prefix ``clicks-x``'s), so bootstrap tags every function it creates with
``sandbox:prefix`` (functions.PREFIX_TAG) and only a function carrying *this* prefix's
tag, named ``<prefix>-...`` and absent from the topology counts as an orphan. Plan lists
their deletion; apply and destroy delete them (mappings first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bootstrap.context import Context, Wiring
from bootstrap.plan import Action, Change
from bootstrap.resources._aws import is_error
from bootstrap.resources.functions import KIND, LOG_GROUP_KIND, PREFIX_TAG, is_ours
from bootstrap.resources.mappings import KIND as MAPPING_KIND
from bootstrap.waiters import wait_until


@dataclass(frozen=True)
class Orphan:
    name: str
    mappings: tuple[tuple[str, str], ...]  # (UUID, EventSourceArn)
    log_group: bool


OrphansState = tuple[Orphan, ...]


def _mappings(ctx: Context, name: str) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for page in ctx.client("lambda").get_paginator("list_event_source_mappings").paginate(FunctionName=name):
        found += [(m["UUID"], m.get("EventSourceArn", "")) for m in page.get("EventSourceMappings", [])]
    return tuple(found)


def _has_log_group(ctx: Context, name: str) -> bool:
    group = f"/aws/lambda/{name}"
    groups = ctx.client("logs").describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
    return any(g.get("logGroupName") == group for g in groups)


def read_state(ctx: Context) -> OrphansState:
    wanted = set(ctx.topology.function_names().values())
    prefix = f"{ctx.topology.prefix}-"
    orphans = []
    for page in ctx.client("lambda").get_paginator("list_functions").paginate():
        for function in page.get("Functions", []):
            name = function["FunctionName"]
            if name in wanted or not name.startswith(prefix) or not is_ours(ctx, function["FunctionArn"]):
                continue
            orphans.append(Orphan(name, _mappings(ctx, name), _has_log_group(ctx, name)))
    return tuple(sorted(orphans, key=lambda o: o.name))


def _label(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn


def _changes(ctx: Context, orphan: Orphan) -> list[Change]:
    why = f"not in the topology (tagged {PREFIX_TAG}={ctx.topology.prefix})"
    changes = [Change(MAPPING_KIND, f"{orphan.name} <- {_label(arn)}", Action.DELETE, why) for _, arn in orphan.mappings]
    changes.append(Change(KIND, orphan.name, Action.DELETE, why))
    if orphan.log_group:
        changes.append(Change(LOG_GROUP_KIND, f"/aws/lambda/{orphan.name}", Action.DELETE))
    return changes


def plan(ctx: Context, state: OrphansState, wiring: Wiring) -> list[Change]:
    return [change for orphan in state for change in _changes(ctx, orphan)]


def _ignore_missing(call: Any, **kwargs: str) -> None:
    try:
        call(**kwargs)
    except Exception as error:
        if not is_error(error, "ResourceNotFoundException"):
            raise


def _mapping_gone(ctx: Context, uuid: str) -> tuple[bool, str]:
    try:
        return False, ctx.client("lambda").get_event_source_mapping(UUID=uuid).get("State", "")
    except Exception as error:
        if is_error(error, "ResourceNotFoundException"):
            return True, "deleted"
        raise


def _delete(ctx: Context, orphan: Orphan) -> None:
    lam = ctx.client("lambda")
    for uuid, arn in orphan.mappings:
        ctx.step(f"deleting mapping {orphan.name} <- {_label(arn)} (function not in the topology)")
        _ignore_missing(lam.delete_event_source_mapping, UUID=uuid)
        wait_until(lambda: _mapping_gone(ctx, uuid), what=f"mapping {uuid} to be deleted", timeout=ctx.timeouts.delete)
    ctx.step(f"deleting function {orphan.name} (not in the topology)")
    _ignore_missing(lam.delete_function, FunctionName=orphan.name)
    if orphan.log_group:
        _ignore_missing(ctx.client("logs").delete_log_group, logGroupName=f"/aws/lambda/{orphan.name}")


def apply(ctx: Context, state: OrphansState, wiring: Wiring) -> None:
    for orphan in state:
        _delete(ctx, orphan)


def destroy(ctx: Context, state: OrphansState) -> list[Change]:
    changes = []
    for orphan in state:
        _delete(ctx, orphan)
        changes += _changes(ctx, orphan)
    return changes
