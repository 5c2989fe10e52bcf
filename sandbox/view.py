"""Renders a ``Snapshot`` with rich: the live view of `sandbox up` and `sandbox status`.

Two layouts: the full one, and a compact one for short terminals (an 80x24 one
crops the full view at the bottom): no table borders, no "measured as" column,
and the errors, what one needs most, above the latency.
"""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sandbox.stats import LATENCY_NOTES, LATENCY_SINKS, SINK_STAGES, Percentiles, Snapshot, Stage


def _count(value: int | None) -> Text:
    return Text("—", style="dim") if value is None else Text(f"{value:,}")


def _rate(value: float | None) -> Text:
    return Text("") if value is None else Text(f"{value:,.1f}/s")


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _table(title: str, compact: bool) -> Table:
    if compact:  # no title line either: the first column's header says what the table is
        return Table(box=None, pad_edge=False, show_edge=False)
    return Table(title=title, title_justify="left", expand=False, pad_edge=False)


def stages_table(snapshot: Snapshot, expected: int | None = None, *, compact: bool = False) -> Table:
    """Per-stage counts and rates; sinks behind ``expected`` are highlighted."""
    table = _table("pipeline", compact)
    table.add_column("pipeline stage" if compact else "stage", no_wrap=True)
    table.add_column("count", justify="right")
    table.add_column("rate", justify="right")
    table.add_column("note", style="dim", overflow="fold")
    mine = snapshot.sink_counts()  # the followed run's records: what the drain waits for
    for stage in Stage:
        value = snapshot.counts.get(stage)
        count = _count(value)
        if expected is not None and stage in SINK_STAGES and mine[stage] is not None:
            count.stylize("green" if mine[stage] == expected else "yellow")
        if stage is Stage.FAILED_BATCHES and value:
            count.stylize("bold red")
        table.add_row(stage.value, count, _rate(snapshot.rates.get(stage)), snapshot.notes.get(stage, ""))
    return table


def latency_table(snapshot: Snapshot, *, compact: bool = False) -> Table:
    table = _table("end-to-end latency (click ts -> sink)", compact)
    table.add_column("latency ts -> sink" if compact else "sink", no_wrap=True)
    table.add_column("p50", justify="right")
    table.add_column("p95", justify="right")
    table.add_column("samples", justify="right", style="dim")
    if not compact:
        table.add_column("measured as", style="dim")
    for sink in LATENCY_SINKS:
        summary: Percentiles | None = snapshot.latency.get(sink)
        cells = ["—", "—", "0"] if summary is None else [_ms(summary.p50_ms), _ms(summary.p95_ms), f"{summary.samples:,}"]
        table.add_row(sink, *cells, *([] if compact else [LATENCY_NOTES[sink]]))
    return table


def errors_panel(snapshot: Snapshot, *, lines: int = 6) -> Panel:
    body: RenderableType
    if snapshot.errors:
        body = Text("\n".join(snapshot.errors[-lines:]), style="red", overflow="ellipsis", no_wrap=True)
    else:
        body = Text("none", style="dim")
    # Not expanded: as wide as its longest line (a piped console is very wide, see sandbox.output).
    return Panel(body, title="last errors", title_align="left", expand=False)


def errors_lines(snapshot: Snapshot, *, lines: int) -> Text:
    """The compact layout's errors: a title line, then the newest ``lines`` errors."""
    if not snapshot.errors:
        return Text.assemble(("last errors: ", "bold"), ("none", "dim"))
    shown = snapshot.errors[-max(1, lines):]
    return Text.assemble(("last errors:\n", "bold"), ("\n".join(shown), "red"), no_wrap=True, overflow="ellipsis")


def _lines(renderable: RenderableType, width: int) -> int:
    """How many lines ``renderable`` takes at ``width`` columns."""
    measure = Console(width=width, file=io.StringIO(), highlight=False)
    return len(measure.render_lines(renderable, measure.options, pad=False))


def render(
    snapshot: Snapshot,
    header: str,
    expected: int | None = None,
    *,
    size: tuple[int, int] | None = None,
    hint: str | None = "Ctrl-C to stop",
) -> RenderableType:
    """The view. ``size``: the terminal's (columns, lines); where the full layout does not
    fit, the compact one (see the module docstring). ``hint`` ends the footer (None for a
    one-shot `sandbox status`, which stops by itself).
    """
    footer = Text(
        f"refresh took {snapshot.poll_seconds * 1000:.0f} ms" + (f" · {hint}" if hint else ""), style="dim"
    )
    full = Group(
        Text(header, style="bold"),
        stages_table(snapshot, expected),
        latency_table(snapshot),
        errors_panel(snapshot),
        footer,
    )
    if size is None:
        return full
    width, height = size
    height -= 1  # the line the cursor rests on: a view that fills every line would scroll
    if _lines(full, width) <= height:
        return full
    top = Group(Text(header, style="bold"), stages_table(snapshot, expected, compact=True))
    bottom = Group(latency_table(snapshot, compact=True), footer)
    room = height - _lines(top, width) - _lines(bottom, width) - 1  # 1: the "last errors:" line
    return Group(top, errors_lines(snapshot, lines=room), bottom)


def one_line(snapshot: Snapshot) -> str:
    """A compact status line for --no-live runs and logs."""
    short = {
        Stage.PRODUCED: "produced",
        Stage.STREAM_RECORDS: "stream",
        Stage.ARCHIVED: "lake",
        Stage.KINESIS: "kinesis",
        Stage.ANALYTICS: "A",
        Stage.HTTP: "B",
        Stage.FAILED_BATCHES: "failed",
    }
    parts = []
    for stage, label in short.items():
        value = snapshot.counts.get(stage)
        parts.append(f"{label}={'—' if value is None else value}")
    return " ".join(parts)
