"""The live view's layouts: full where it fits, compact on a short terminal; the footer's hint."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.table import Table

from sandbox import output
from sandbox.stats import Percentiles, Snapshot, Stage
from sandbox.view import render

HEADER = (
    "embedded sandbox · http://127.0.0.1:4566 · sink http://127.0.0.1:8088/deliveries · producing 5/s · 19 s · "
    "run 20261126T151417Z-e3bea5"
)


def _snapshot(errors: int = 6) -> Snapshot:
    return Snapshot(
        at=0.0,
        counts={stage: 95 for stage in Stage},
        rates={stage: 5.0 for stage in Stage},
        latency={"data lake": Percentiles(530, 966, 90), "consumer A": Percentiles(18, 85, 90), "consumer B": None},
        errors=[f"15:14:1{i} http: ConnectionError: could not reach the sink after 4 attempts ({i})" for i in range(errors)],
    )


def _text(renderable: object, width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue().splitlines()  # type: ignore[attr-defined]


def test_an_80x24_terminal_gets_the_compact_layout_with_every_error() -> None:
    lines = _text(render(_snapshot(), HEADER, size=(80, 24)), 80)
    assert len(lines) <= 23
    text = "\n".join(lines)
    assert "measured as" not in text
    assert all(f"({i})" in text for i in range(6))  # the part one needs is not cropped
    errors_at = next(i for i, line in enumerate(lines) if line.startswith("last errors"))
    latency_at = next(i for i, line in enumerate(lines) if line.startswith("latency"))
    assert errors_at < latency_at
    assert any(line.startswith("failed batches (SQS)") for line in lines)


def test_a_terminal_that_fits_gets_the_full_layout() -> None:
    lines = _text(render(_snapshot(), HEADER, size=(200, 50)), 200)
    text = "\n".join(lines)
    assert len(lines) <= 50 and "measured as" in text and "end-to-end latency" in text
    assert text.index("end-to-end latency") < text.index("last errors")


def test_the_footer_hint_only_when_asked() -> None:
    assert "Ctrl-C to stop" in "\n".join(_text(render(_snapshot(0), HEADER), 200))
    one_shot = "\n".join(_text(render(_snapshot(0), HEADER, hint=None), 200))
    assert "Ctrl-C" not in one_shot and "refresh took" in one_shot


def test_a_piped_console_does_not_wrap_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    key = "raw/year=2026/month=11/day=26/hour=15/" + "4" * 40 + "-" + "5" * 40 + "-0123456789abcdef.json"
    table = Table("stage", "where")
    table.add_row("data lake (raw)", key)
    out = output.console()
    assert not out.is_terminal and out.width == output.PIPE_WIDTH
    buffer = io.StringIO()
    out.file = buffer
    out.print(table)
    assert any(key in line for line in buffer.getvalue().splitlines())


def test_plural() -> None:
    assert output.plural(1, "record") == "1 record"
    assert output.plural(2, "record") == "2 records"
    assert output.plural(1, "failed batch", "failed batches") == "1 failed batch"
    assert output.plural(1200, "message") == "1,200 messages"
