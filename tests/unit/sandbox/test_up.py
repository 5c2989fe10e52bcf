"""`sandbox up`'s words: the header's producer phase and why a drain failed."""

from __future__ import annotations

from types import SimpleNamespace

from sandbox.commands.up import Session, drain_failure
from sandbox.stats import Stage


def _phase(*, error: BaseException | None = None, finished: bool = False, duration: float | None = None,
           shortfall: str | None = None) -> str:
    producer = SimpleNamespace(error=error, finished=finished, shortfall=shortfall)
    session = SimpleNamespace(producer=producer, duration=duration, rate=5.0)
    return Session.producing_phase(session)  # type: ignore[arg-type]


def test_the_header_says_when_the_producer_stopped() -> None:
    assert _phase() == "producing 5/s"
    # e.g. `sandbox bootstrap destroy` under a running `sandbox up`: the producer's write failed
    assert _phase(error=RuntimeError("table gone"), finished=True).startswith("producer stopped")
    assert _phase(finished=True) == "producer finished (a run lasts 7 days at most)"
    short = "below the asked rate: 3 of 5 writes/s (60 %)"
    assert _phase(shortfall=short) == f"producing 5/s ({short})"
    assert _phase(finished=True, duration=20) == "produced for 20 s"


def test_a_drain_behind_suggests_waiting_longer() -> None:
    error = drain_failure({Stage.ARCHIVED: 10, Stage.ANALYTICS: 9, Stage.HTTP: 10}, 10, "r1", 60)
    assert "did not drain within 60 s (consumer A rows (analytics) 9/10)" in error.message
    assert "--drain-timeout" in (error.fix or "")


def test_sinks_ahead_of_the_run_say_so_instead_of_a_longer_timeout() -> None:
    error = drain_failure({Stage.ARCHIVED: 12, Stage.ANALYTICS: 12, Stage.HTTP: 12}, 10, "r1", 60)
    assert "hold more than run r1 produced" in error.message and "another producer?" in error.message
    assert "will not help" in (error.fix or "") and "sandbox verify r1" in (error.fix or "")
