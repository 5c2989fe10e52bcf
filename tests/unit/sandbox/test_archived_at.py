"""The data lake's write time: the archive's metadata when present, else LastModified's upper bound."""

from __future__ import annotations

from sandbox.collector import _archived_at_ms


def test_the_metadata_is_exact() -> None:
    assert _archived_at_ms({"archived-at-ms": "1765000000123"}, 1765000000000.0) == 1765000000123.0


def test_without_it_the_end_of_the_second_bounds_it() -> None:
    assert _archived_at_ms({}, 1765000000000.0) == 1765000001000.0
    assert _archived_at_ms({"archived-at-ms": "soon"}, 1765000000000.0) == 1765000001000.0
