"""python -m tests.bench.pipeline: the pipeline benchmark (``make bench``; prints numbers, not a test).

Figures, per system and per sink (data lake, consumer A, consumer B):

- throughput: N clicks at full speed, inserts only and with 20 % updates and 10 % deletes:
  the raw write time into a table with no pipeline, the write time with it, the time until
  each sink holds everything, delivered records/s;
- latency at paced rates (default 20 and 100 writes/s for 60 s): p50/p95/p99/max of sink
  arrival minus write time (the data lake's from the timestamp the archive function stores
  with each object), and the longest time a sink stood still while records waited for it;
- cold start: endpoint process to ready, ``bootstrap apply``, start to the first click in
  every sink (and ``sandbox up`` itself, ours only);
- with ``--soak S``: RSS of the endpoint, its workers and the sink, sampled every 5 s during
  a paced run, with the slope after the first minute;
- with ``--heap S`` (ours only): the heap each of the endpoint's stores holds per stream
  record after S seconds of the soak's workload (``heap.py``): what the soak's slope is made of.

With ``--peer ministack`` every workload runs on both systems, one after the other, before
the next workload starts: a ratio is measured on the same machine load within minutes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tests.bench.pipeline import heap, workloads
from tests.bench.pipeline.systems import PEERS, Ours, System
from tests.bench.pipeline.workloads import Figures

console = Console(highlight=False)


def say(line: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {line}")


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def _ratio(ours: float | None, peer: float | None) -> str:
    if ours is None or peer is None or peer == 0:
        return "—"
    return f"{ours / peer:.3g}"


def report(title: str, results: dict[str, Figures]) -> None:
    names = list(results)
    table = Table(title=title, title_justify="left")
    table.add_column("figure")
    for name in names:
        table.add_column(name, justify="right")
    if len(names) == 2:
        table.add_column(f"{names[0]} / {names[1]}", justify="right")
    figures = list(dict.fromkeys(f for r in results.values() for f in r.values))
    for figure in figures:
        row = [figure, *(_fmt(results[n].values.get(figure)) for n in names)]
        if len(names) == 2:
            row.append(_ratio(results[names[0]].values.get(figure), results[names[1]].values.get(figure)))
        table.add_row(*row)
    console.print(table)
    for name in names:
        for note in results[name].notes:
            console.print(f"  note ({name}): {note}")
    for name in names:
        if results[name].profile:
            console.print(f"{name}: py-spy profile of the endpoint and its workers")
            for line in results[name].profile:
                console.print(f"  {line}", markup=False)
    for name in names:
        if results[name].cpu:
            cpu_table(f"{name}: CPU seconds from the first write until every sink held everything", results[name])


def cpu_table(title: str, figures: Figures) -> None:
    """Where the machine's time went: per component, and per 1,000 records (the bound on throughput)."""
    table = Table(title=title, title_justify="left")
    for column in ("component", "CPU s", "CPU ms per 1,000 records"):
        table.add_column(column, justify="left" if column == "component" else "right")
    per = 1000 / max(1, figures.cpu_records)
    for component, seconds in sorted(figures.cpu.items(), key=lambda item: -item[1]):
        table.add_row(component, f"{seconds:.2f}", f"{seconds * per * 1000:,.0f}")
    total = sum(figures.cpu.values())
    table.add_row("total", f"{total:.2f}", f"{total * per * 1000:,.0f}")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer", choices=sorted(PEERS), help="also run every workload on this system, interleaved")
    parser.add_argument("--clicks", type=int, default=10_000, help="clicks of the throughput runs (default 10000)")
    parser.add_argument("--rates", default="20,100", help="paced latency rates, writes/s (default 20,100)")
    parser.add_argument("--latency-seconds", type=float, default=60.0, help="length of each paced run (default 60)")
    parser.add_argument("--soak", type=float, default=0.0, metavar="S", help="also a soak of S seconds (900 for the goal)")
    parser.add_argument("--soak-rate", type=float, default=50.0)
    parser.add_argument("--soak-ttl", type=int, metavar="S",
                        help="the soak's items expire after S s (with EMULATOR_STREAM_RETENTION_HOURS small: "
                             "what stays in memory is then only S3's data, which isolates a leak)")
    parser.add_argument("--heap", type=float, default=0.0, metavar="S",
                        help="also the heap per record of each store after S s at --soak-rate (ours only; 60 is enough)")
    parser.add_argument("--only", default="throughput,latency,cold,soak,heap",
                        help="comma-separated workloads: throughput, latency, cold, soak, heap "
                             "(default all; soak needs --soak, heap --heap)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="attach py-spy to our endpoint and its workers during the throughput runs; stacks in DIR")
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="deadline for the sinks to catch up, s")
    args = parser.parse_args()
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = only - {"throughput", "latency", "cold", "soak", "heap"}
    if unknown:
        parser.error(f"--only: unknown workload(s) {', '.join(sorted(unknown))}")
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    systems: list[System] = [Ours(logs)]
    if args.peer:
        systems.append(PEERS[args.peer](logs))
    for system in systems:
        system.prepare(say)
    load = os.getloadavg()
    say(f"pipeline benchmark: {', '.join(s.name for s in systems)}; {os.cpu_count()} cores; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; logs in {logs}")
    for system in systems:
        for note in system.notes:
            say(f"{system.name}: {note}")

    def each(title: str, run: object) -> None:
        results: dict[str, Figures] = {}
        for system in systems:
            say(f"{title}: {system.name}")
            results[system.name] = run(system)  # type: ignore[operator]
        report(title, results)

    if "throughput" in only:
        for mixed in (False, True):
            kind = "with 20 % updates, 10 % deletes" if mixed else "inserts only"
            name = "mixed" if mixed else "inserts"
            each(f"throughput: {args.clicks:,} clicks at full speed, {kind}",
                 lambda s, m=mixed, n=name: workloads.throughput(
                     s, args.clicks, m, args.drain_timeout, say,
                     profile=args.profile / f"throughput-{n}.txt" if args.profile and isinstance(s, Ours) else None))
    if "latency" in only:
        for rate in (float(r) for r in args.rates.split(",")):
            each(f"latency: paced {rate:g} writes/s for {args.latency_seconds:g} s (20 % updates, 10 % deletes)",
                 lambda s, r=rate: workloads.paced_latency(s, r, args.latency_seconds, args.drain_timeout, say))
    if "cold" in only:
        each("cold start", lambda s: workloads.cold_start(s, say))
        say(f"sandbox up (ours) to the first click in every sink: {workloads.sandbox_up_cold(say):.1f} s")
    if args.soak and "soak" in only:
        each(f"memory: {args.soak:g} s at {args.soak_rate:g} writes/s",
             lambda s: workloads.soak(s, args.soak, args.soak_rate, say, ttl_seconds=args.soak_ttl))
    if args.heap and "heap" in only:
        say(f"heap by store: {args.heap:g} s at {args.soak_rate:g} writes/s (20 % updates, 10 % deletes): ours")
        figures = Figures()
        for name, value in heap.heap_by_store(args.heap, args.soak_rate, say, logs).items():
            figures.put(name, value)
        report(f"heap by store after {args.heap:g} s at {args.soak_rate:g} writes/s", {"ours": figures})
    load = os.getloadavg()
    say(f"done; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
