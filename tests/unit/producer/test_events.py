"""Click generation: deterministic per seed, shaped like a shop's click stream."""

from __future__ import annotations

import uuid
from collections import defaultdict

from producer.events import Action, ClickGenerator


def clicks(seed: int, run_id: str = "run-a", n: int = 400, users: int = 20) -> list:
    generator = ClickGenerator(seed=seed, run_id=run_id, users=users)
    return [generator.next() for _ in range(n)]


def content(click) -> tuple:
    return (click.seq, click.user, click.action, click.page, click.session)


def test_same_seed_and_run_id_give_identical_clicks() -> None:
    assert clicks(7) == clicks(7)


def test_same_seed_new_run_id_keeps_content_but_not_ids() -> None:
    # GIVEN two runs with one seed WHEN generated THEN the story repeats, the item keys do not
    first, second = clicks(7, "run-a"), clicks(7, "run-b")
    assert [content(c) for c in first] == [content(c) for c in second]
    assert not {c.uuid for c in first} & {c.uuid for c in second}


def test_different_seeds_differ() -> None:
    assert [content(c) for c in clicks(1)] != [content(c) for c in clicks(2)]


def test_ids_are_unique_uuid4_and_users_in_range() -> None:
    generated = clicks(3, n=2000, users=5)
    assert len({c.uuid for c in generated}) == 2000
    assert all(uuid.UUID(c.uuid).version == 4 for c in generated)
    assert {c.user for c in generated} <= {f"user-{i:05d}" for i in range(1, 6)}
    assert [c.seq for c in generated] == list(range(2000))


def test_realistic_mix_of_actions_and_pages() -> None:
    generated = clicks(11, n=3000)
    actions = {c.action for c in generated}
    assert {"ClickOnLogo", "AddToCart", "ViewProduct", "Checkout", "Search", "Purchase"} <= actions
    assert actions <= {a.value for a in Action}
    for click in generated:
        assert click.page.startswith("/")
        if click.action == "ViewProduct":
            assert click.page.startswith("/product/")


def test_sessions_belong_to_one_user_and_carts_are_consistent() -> None:
    # GIVEN many clicks WHEN grouped by session THEN each session is one user's, and nobody
    # checks out or removes from an empty cart
    by_session: dict[str, list] = defaultdict(list)
    for click in clicks(5, n=3000):
        by_session[click.session].append(click)
    assert len(by_session) > 50
    for session in by_session.values():
        assert len({c.user for c in session}) == 1
        cart = 0
        for click in session:
            if click.action in ("Checkout", "Purchase", "RemoveFromCart", "ViewCart"):
                assert cart > 0, [c.action for c in session]
            cart += {"AddToCart": 1, "RemoveFromCart": -1}.get(click.action, 0)
            cart = 0 if click.action == "Purchase" else cart
