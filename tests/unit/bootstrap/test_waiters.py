"""Bounded waits: succeed as soon as the condition holds, fail at the deadline with what was seen."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from bootstrap.errors import BootstrapError
from bootstrap.resources.functions import _role_not_ready
from bootstrap.waiters import WaitTimeout, retry_until, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_returns_once_done() -> None:
    clock, states = FakeClock(), iter(["CREATING", "CREATING", "ACTIVE"])

    def check() -> tuple[bool, str]:
        state = next(states)
        return state == "ACTIVE", state

    assert wait_until(check, what="table", timeout=10, clock=clock, sleep=clock.sleep) == "ACTIVE"
    assert clock.sleeps == [0.05, 0.1]  # backs off


def test_wait_times_out_naming_the_last_state() -> None:
    clock = FakeClock()
    expected = r"timed out after 3 s waiting for table t to be ACTIVE \(last seen: UPDATING\)"
    with pytest.raises(WaitTimeout, match=expected):
        wait_until(
            lambda: (False, "UPDATING"), what="table t to be ACTIVE", timeout=3, clock=clock, sleep=clock.sleep
        )
    assert clock.now == pytest.approx(3.0)


def test_wait_propagates_a_terminal_state() -> None:
    def check() -> tuple[bool, str]:
        raise BootstrapError("function f failed: bad handler")

    with pytest.raises(BootstrapError, match="bad handler"):
        wait_until(check, what="f", timeout=5)


def role_error() -> ClientError:
    return ClientError(
        {"Error": {"Code": "InvalidParameterValueException",
                   "Message": "The role defined for the function cannot be assumed by Lambda."}},
        "CreateFunction",
    )


def test_retry_until_retries_iam_propagation_then_succeeds() -> None:
    clock, attempts = FakeClock(), []

    def create() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise role_error()
        return "created"

    assert retry_until(create, retryable=_role_not_ready, timeout=30, clock=clock, sleep=clock.sleep) == "created"
    assert len(attempts) == 3


def test_retry_until_gives_up_at_the_deadline_with_awss_error() -> None:
    clock = FakeClock()

    def create() -> str:
        raise role_error()

    with pytest.raises(ClientError, match="cannot be assumed"):
        retry_until(create, retryable=_role_not_ready, timeout=5, clock=clock, sleep=clock.sleep)
    assert clock.now <= 5


def test_retry_until_does_not_retry_other_errors() -> None:
    calls = []

    def create() -> str:
        calls.append(1)
        raise ValueError("boom")

    with pytest.raises(ValueError):
        retry_until(create, retryable=_role_not_ready, timeout=30)
    assert len(calls) == 1
