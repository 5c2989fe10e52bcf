"""Deterministic click generation: users browsing a shop in sessions.

Same seed -> the same users, sessions, actions and pages in the same order.
Click ids additionally depend on the run id, so two runs with one seed never
overwrite each other's items (pass the same run id to reproduce a run exactly).
Timestamps are not generated here: ``ts`` is the time of the write (writer.py).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    VIEW_HOME = "ViewHome"
    CLICK_ON_LOGO = "ClickOnLogo"
    CLICK_ON_BANNER = "ClickOnBanner"
    SEARCH = "Search"
    VIEW_CATEGORY = "ViewCategory"
    VIEW_PRODUCT = "ViewProduct"
    ADD_TO_CART = "AddToCart"
    REMOVE_FROM_CART = "RemoveFromCart"
    VIEW_CART = "ViewCart"
    CHECKOUT = "Checkout"
    PURCHASE = "Purchase"
    SIGN_IN = "SignIn"
    SIGN_OUT = "SignOut"


A = Action
CATEGORIES = ("shoes", "shirts", "electronics", "books", "toys", "kitchen", "garden", "sports")
PRODUCTS_PER_CATEGORY = 25

#: How sessions begin (landing from a bookmark, a search engine, an ad, a newsletter).
_ENTRY: dict[Action, float] = {
    A.VIEW_HOME: 45, A.SEARCH: 20, A.VIEW_PRODUCT: 20, A.VIEW_CATEGORY: 15
}

#: Next-action weights: a small Markov model of a shop funnel.
_NEXT: dict[Action, dict[Action, float]] = {
    A.VIEW_HOME: {
        A.SEARCH: 30, A.VIEW_CATEGORY: 30, A.CLICK_ON_BANNER: 20, A.SIGN_IN: 10, A.VIEW_CART: 10
    },
    A.CLICK_ON_LOGO: {A.SEARCH: 35, A.VIEW_CATEGORY: 35, A.CLICK_ON_BANNER: 20, A.VIEW_CART: 10},
    A.CLICK_ON_BANNER: {A.VIEW_PRODUCT: 70, A.VIEW_CATEGORY: 30},
    A.SEARCH: {A.VIEW_PRODUCT: 60, A.SEARCH: 20, A.VIEW_CATEGORY: 10, A.CLICK_ON_LOGO: 10},
    A.VIEW_CATEGORY: {A.VIEW_PRODUCT: 65, A.VIEW_CATEGORY: 15, A.SEARCH: 10, A.CLICK_ON_LOGO: 10},
    A.VIEW_PRODUCT: {
        A.ADD_TO_CART: 30,
        A.VIEW_PRODUCT: 30,
        A.SEARCH: 15,
        A.VIEW_CATEGORY: 15,
        A.CLICK_ON_LOGO: 10,
    },
    A.ADD_TO_CART: {A.VIEW_CART: 40, A.VIEW_PRODUCT: 35, A.CHECKOUT: 15, A.SEARCH: 10},
    A.REMOVE_FROM_CART: {A.VIEW_CART: 40, A.VIEW_PRODUCT: 40, A.CLICK_ON_LOGO: 20},
    A.VIEW_CART: {A.CHECKOUT: 50, A.REMOVE_FROM_CART: 20, A.VIEW_PRODUCT: 20, A.CLICK_ON_LOGO: 10},
    A.CHECKOUT: {A.PURCHASE: 70, A.VIEW_CART: 20, A.CLICK_ON_LOGO: 10},
    A.PURCHASE: {A.CLICK_ON_LOGO: 50, A.SIGN_OUT: 30, A.SEARCH: 20},
    A.SIGN_IN: {A.VIEW_HOME: 40, A.VIEW_CART: 30, A.SEARCH: 30},
    A.SIGN_OUT: {A.VIEW_HOME: 100},
}

#: Chance a session ends after this action (most end after a purchase or sign-out).
_END_AFTER: dict[Action, float] = {A.PURCHASE: 0.6, A.SIGN_OUT: 0.9}
_END_DEFAULT = 0.08
_NEEDS_CART = frozenset({A.VIEW_CART, A.CHECKOUT, A.REMOVE_FROM_CART, A.PURCHASE})


@dataclass(frozen=True)
class Click:
    """One click as the producer writes it (ts/expires_at/run_id are added at write time)."""

    seq: int
    uuid: str
    user: str
    action: str
    page: str
    session: str


@dataclass
class _Session:
    id: str
    last: Action | None = None
    product: str | None = None
    cart: int = 0


@dataclass
class ClickGenerator:
    """An endless, deterministic stream of clicks for ``users`` users."""

    seed: int
    run_id: str
    users: int = 50
    _rng: random.Random = field(init=False, repr=False)
    _ids: random.Random = field(init=False, repr=False)
    _user_weights: list[float] = field(init=False, repr=False)
    _sessions: dict[int, _Session] = field(init=False, repr=False, default_factory=dict)
    _seq: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.users < 1:
            raise ValueError("users must be >= 1")
        # String seeds are hashed with SHA-512 by `random`: stable across processes.
        self._rng = random.Random(f"{self.seed}:clicks")
        self._ids = random.Random(f"{self.seed}:{self.run_id}:ids")
        # A few heavy users and a long tail, as in real traffic (Zipf-like, s=0.8).
        self._user_weights = [1.0 / (rank**0.8) for rank in range(1, self.users + 1)]

    def __iter__(self) -> Iterator[Click]:
        while True:
            yield self.next()

    def next(self) -> Click:
        rng = self._rng
        user = rng.choices(range(self.users), weights=self._user_weights)[0]
        session = self._sessions.get(user)
        if session is None:
            session = self._sessions[user] = _Session(id=f"sess-{rng.getrandbits(64):016x}")
        action = self._next_action(session)
        page = self._page_for(action, session)
        if rng.random() < _END_AFTER.get(action, _END_DEFAULT):
            del self._sessions[user]
        click = Click(
            seq=self._seq,
            uuid=str(uuid.UUID(int=self._ids.getrandbits(128), version=4)),
            user=f"user-{user + 1:05d}",
            action=str(action),
            page=page,
            session=session.id,
        )
        self._seq += 1
        return click

    def _next_action(self, session: _Session) -> Action:
        weights = _ENTRY if session.last is None else _NEXT[session.last]
        choices = [a for a in weights if session.cart > 0 or a not in _NEEDS_CART]
        action = self._rng.choices(choices, weights=[weights[a] for a in choices])[0]
        session.last = action
        return action

    def _page_for(self, action: Action, session: _Session) -> str:
        rng = self._rng
        if action is A.VIEW_PRODUCT or session.product is None:
            category = rng.choice(CATEGORIES)
            session.product = f"{category}-{rng.randrange(PRODUCTS_PER_CATEGORY):03d}"
        if action in (A.VIEW_HOME, A.CLICK_ON_LOGO, A.CLICK_ON_BANNER, A.SIGN_OUT):
            return "/"
        if action is A.SEARCH:
            return "/search"
        if action is A.VIEW_CATEGORY:
            return f"/category/{rng.choice(CATEGORIES)}"
        if action is A.VIEW_PRODUCT:
            return f"/product/{session.product}"
        if action is A.ADD_TO_CART:
            session.cart += 1
            return f"/product/{session.product}"
        if action is A.REMOVE_FROM_CART:
            session.cart -= 1
            return "/cart"
        if action is A.VIEW_CART:
            return "/cart"
        if action is A.CHECKOUT:
            return "/checkout"
        if action is A.PURCHASE:
            session.cart = 0
            return "/checkout/confirmation"
        return "/account/sign-in"  # SIGN_IN
