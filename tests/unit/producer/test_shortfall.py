"""A paced run that cannot reach its asked rate says so; one that does, or is too young to judge, does not."""

from __future__ import annotations

from producer.pacer import shortfall


def test_a_run_far_below_its_rate_is_named_with_both_rates() -> None:
    assert shortfall(254.0, 1000.0, 10.0) == "below the asked rate: 254 of 1,000 writes/s (25 %)"


def test_within_five_percent_or_unpaced_or_too_early_is_quiet() -> None:
    assert shortfall(960.0, 1000.0, 10.0) is None
    assert shortfall(254.0, 0.0, 10.0) is None  # rate 0: as fast as it goes, nothing asked
    assert shortfall(254.0, 1000.0, 1.0) is None  # the first second is the connection's
