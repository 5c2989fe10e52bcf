"""The public face of bootstrap: ``plan``, ``apply``, ``destroy`` (the CLI and tests use only these).

Each call resolves the target first (refusing real AWS unless allowed), then walks
the resource modules in dependency order. Every library error leaves through
``errors.boundary`` as a BootstrapError with a one-line message and a fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bootstrap.clients import client
from bootstrap.context import Context, Progress, Wiring
from bootstrap.errors import boundary
from bootstrap.packaging import Package, cached_package
from bootstrap.plan import Change, Plan
from bootstrap.resources import ORDER
from bootstrap.settings import LOCAL_ACCOUNT_ID, Settings
from bootstrap.target import Target, resolve_target
from bootstrap.topology import FunctionSpec, Topology
from bootstrap.waiters import Timeouts


def _topology(settings: Settings, account_id: str, functions: tuple[FunctionSpec, ...] | None) -> Topology:
    if functions is None:
        return Topology.from_settings(settings, account_id)
    return Topology(settings=settings, account_id=account_id, functions=functions)


@contextmanager
def _session(
    settings: Settings,
    progress: Progress | None,
    functions: tuple[FunctionSpec, ...] | None,
    package_builder: Callable[[], Package],
) -> Iterator[Context]:
    opened: list[Context] = []
    with boundary(lambda: opened[0].current_step if opened else "checking the target"):
        settings.require_target()  # before any client exists: no call may reach real AWS by accident
        _topology(settings, LOCAL_ACCOUNT_ID, functions)  # refuse a bad topology before any call
        target = resolve_target(settings, client("sts", settings))
        opened.append(
            Context(
                settings=settings,
                topology=_topology(settings, target.account_id, functions),
                target=target,
                progress=progress or (lambda _: None),
                timeouts=Timeouts.for_target(target.real_aws),
                package_builder=package_builder,
            )
        )
        yield opened[0]


def target(settings: Settings) -> Target:
    """Who and where bootstrap would change (STS), refusing real AWS unless allowed."""
    with boundary(lambda: "asking STS for the account"):
        settings.require_target()
        return resolve_target(settings, client("sts", settings))


def topology_for(settings: Settings) -> Topology:
    """The topology with the target's real account id (bucket names contain it)."""
    return Topology.from_settings(settings, target(settings).account_id)


def plan(
    settings: Settings,
    *,
    functions: tuple[FunctionSpec, ...] | None = None,
    package_builder: Callable[[], Package] = cached_package,
) -> Plan:
    """What ``apply`` would change, without changing anything."""
    with _session(settings, None, functions, package_builder) as ctx:
        wiring, changes = Wiring.from_topology(ctx.topology), []
        for resource in ORDER:
            state = resource.read_state(ctx)
            changes += resource.plan(ctx, state, wiring)
            if hasattr(resource, "wire"):
                wiring = resource.wire(ctx, state, wiring)  # predicted: the state before apply
        return Plan(ctx.target, tuple(changes))


def apply(
    settings: Settings,
    progress: Progress | None = None,
    *,
    functions: tuple[FunctionSpec, ...] | None = None,
    package_builder: Callable[[], Package] = cached_package,
) -> Plan:
    """Create or update everything to match the topology; returns what it did.

    Idempotent: a second run reports only no-ops. Each resource is read, diffed,
    changed and waited for before the next, so later resources wire to the real
    ARNs (e.g. a table stream recreated for a new view type).
    """
    with _session(settings, progress, functions, package_builder) as ctx:
        ctx.progress(f"target: {ctx.target.describe()}")
        wiring, done = Wiring.from_topology(ctx.topology), []
        for resource in ORDER:
            state = resource.read_state(ctx)
            changes: list[Change] = resource.plan(ctx, state, wiring)
            resource.apply(ctx, state, wiring)  # also waits for readiness when nothing changed
            if any(c.pending for c in changes):
                state = resource.read_state(ctx)
            if hasattr(resource, "wire"):
                wiring = resource.wire(ctx, state, wiring)
            done += changes
        return Plan(ctx.target, tuple(done))


def destroy(
    settings: Settings,
    progress: Progress | None = None,
    *,
    functions: tuple[FunctionSpec, ...] | None = None,
) -> Plan:
    """Delete every resource of the topology (mappings first, role last); returns what it deleted."""
    with _session(settings, progress, functions, cached_package) as ctx:
        ctx.progress(f"target: {ctx.target.describe()}")
        done: list[Change] = []
        for resource in reversed(ORDER):
            done += resource.destroy(ctx, resource.read_state(ctx))
        return Plan(ctx.target, tuple(done))
