"""The operation plan: exact ratios, per-item order, interleaving, determinism."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from producer.events import ClickGenerator
from producer.plan import OperationPlan, OpKind, expected_ops, quota


def run_plan(
    clicks: int, update: float, delete: float, seed: int = 1, stop_at: int | None = None
) -> list:
    plan = OperationPlan(
        ClickGenerator(seed=seed, run_id="r", users=10),
        update_ratio=update,
        delete_ratio=delete,
        seed=seed,
    )
    limit = stop_at if stop_at is not None else clicks
    return list(plan.ops(lambda produced: produced < limit))


def test_quota_rounds_half_up() -> None:
    assert quota(500, 0.2) == 100
    assert quota(5, 0.1) == 1  # 0.5 rounds up (Python's round() would give 0)
    assert quota(0, 0.5) == 0
    assert expected_ops(500, 0.2, 0.1) == 650


def test_issue_example_500_clicks_give_100_updates_50_deletes() -> None:
    ops = run_plan(500, 0.2, 0.1)
    counts = Counter(op.kind for op in ops)
    assert counts == {OpKind.PUT: 500, OpKind.UPDATE: 100, OpKind.DELETE: 50}


@pytest.mark.parametrize("stop_at", [1, 37, 100, 137, 999])
def test_ratios_are_exact_when_the_run_stops_at_any_count(stop_at: int) -> None:
    # GIVEN a --duration run (the count is not known ahead) WHEN it stops THEN quotas still hold
    counts = Counter(op.kind for op in run_plan(10_000, 0.3, 0.15, stop_at=stop_at))
    assert counts[OpKind.PUT] == stop_at
    assert counts[OpKind.UPDATE] == quota(stop_at, 0.3)
    assert counts[OpKind.DELETE] == quota(stop_at, 0.15)


def test_per_item_order_is_put_update_delete() -> None:
    events: dict[str, list[OpKind]] = defaultdict(list)
    for op in run_plan(1000, 0.5, 0.5):
        events[op.click.uuid].append(op.kind)
    for kinds in events.values():
        assert kinds[0] is OpKind.PUT
        assert kinds in ([OpKind.PUT], [OpKind.PUT, OpKind.UPDATE], [OpKind.PUT, OpKind.DELETE],
                         [OpKind.PUT, OpKind.UPDATE, OpKind.DELETE])


def test_every_click_updated_and_deleted_at_ratio_one() -> None:
    counts = Counter(op.kind for op in run_plan(250, 1.0, 1.0))
    assert counts == {OpKind.PUT: 250, OpKind.UPDATE: 250, OpKind.DELETE: 250}


def test_follow_ups_interleave_with_new_clicks() -> None:
    kinds = [op.kind for op in run_plan(1000, 0.2, 0.1)]
    last_put = max(i for i, kind in enumerate(kinds) if kind is OpKind.PUT)
    first_follow_up = min(i for i, kind in enumerate(kinds) if kind is not OpKind.PUT)
    assert first_follow_up < last_put / 2  # MODIFY/REMOVE flow during the run, not only at its end


def test_plan_is_deterministic_per_seed() -> None:
    first = [(op.kind, op.click.uuid) for op in run_plan(300, 0.2, 0.1, seed=9)]
    assert first == [(op.kind, op.click.uuid) for op in run_plan(300, 0.2, 0.1, seed=9)]
    assert first != [(op.kind, op.click.uuid) for op in run_plan(300, 0.2, 0.1, seed=10)]


def test_ratio_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="update_ratio"):
        run_plan(10, 1.5, 0)
