"""Renders a ``Snapshot`` with rich: the live view of `sandbox up` and `sandbox status`."""

from __future__ import annotations

from rich.console import Group, RenderableType
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


def stages_table(snapshot: Snapshot, expected: int | None = None) -> Table:
    """Per-stage counts and rates; sinks behind ``expected`` are highlighted."""
    table = Table(title="pipeline", title_justify="left", expand=False, pad_edge=False)
    table.add_column("stage")
    table.add_column("count", justify="right")
    table.add_column("rate", justify="right")
    table.add_column("note", style="dim", overflow="fold")
    for stage in Stage:
        value = snapshot.counts.get(stage)
        count = _count(value)
        if expected is not None and stage in SINK_STAGES and value is not None:
            count.stylize("green" if value == expected else "yellow")
        if stage is Stage.FAILED_BATCHES and value:
            count.stylize("bold red")
        table.add_row(stage.value, count, _rate(snapshot.rates.get(stage)), snapshot.notes.get(stage, ""))
    return table


def latency_table(snapshot: Snapshot) -> Table:
    table = Table(title="end-to-end latency (click ts -> sink)", title_justify="left", pad_edge=False)
    table.add_column("sink")
    table.add_column("p50", justify="right")
    table.add_column("p95", justify="right")
    table.add_column("samples", justify="right", style="dim")
    table.add_column("measured as", style="dim")
    for sink in LATENCY_SINKS:
        summary: Percentiles | None = snapshot.latency.get(sink)
        if summary is None:
            table.add_row(sink, "—", "—", "0", LATENCY_NOTES[sink])
        else:
            table.add_row(sink, _ms(summary.p50_ms), _ms(summary.p95_ms), f"{summary.samples:,}", LATENCY_NOTES[sink])
    return table


def errors_panel(snapshot: Snapshot) -> Panel:
    body: RenderableType
    if snapshot.errors:
        body = Text("\n".join(snapshot.errors[-6:]), style="red", overflow="ellipsis", no_wrap=True)
    else:
        body = Text("none", style="dim")
    return Panel(body, title="last errors", title_align="left", expand=True)


def render(snapshot: Snapshot, header: str, expected: int | None = None) -> RenderableType:
    footer = Text(f"refresh took {snapshot.poll_seconds * 1000:.0f} ms · Ctrl-C to stop", style="dim")
    return Group(
        Text(header, style="bold"),
        stages_table(snapshot, expected),
        latency_table(snapshot),
        errors_panel(snapshot),
        footer,
    )


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
