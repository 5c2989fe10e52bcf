"""Benchmark of the embedded sandbox's persistence (prints numbers; not a test).

1. Writes/s with and without persistence: `sandbox up` as a process (``--no-persist`` or not),
   `sandbox produce --count N --rate 0` (batched) and ``--write-mode single`` (one put_item per
   click), then the time until the HTTP sink holds every record (the whole pipeline).
2. Snapshot size for the batched run's clicks (default 10,000), after a clean stop.
3. Time to restore: reading + checking + unpickling that snapshot, and `sandbox up`'s "ready"
   with it next to a fresh start; how long one snapshot holds the lock that serializes requests
   (forked writer, and pickling under the lock as on non-Linux systems).
4. With ``--kill-run N``: a run of N clicks with the sandbox SIGKILLed twice mid-pipeline, then
   `sandbox verify` (exit code and its table).

Usage: python -m tests.bench.bench_persistence [--clicks 10000] [--single 2000] [--kill-run 3000]
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.e2e.restart_run import RestartRun, run_with_kills
from tests.waiting import wait_until

READY = re.compile(r"ready in ([\d.]+) s")
RESTORED = re.compile(r"restored the saved state .* in ([\d.]+) s")


def _produce(run: RestartRun, clicks: int, mode: str) -> dict[str, Any]:
    done = run.sandbox("produce", "--count", str(clicks), "--rate", "0", "--write-mode", mode, "--json", "--no-progress")
    if done.returncode != 0:
        raise SystemExit(f"benchmark: produce failed: {done.stdout}{done.stderr}")
    return dict(json.loads(done.stdout))


def _drain_s(run: RestartRun, before: int, expected: int, since: float) -> float:
    wait_until(lambda: run.deliveries() >= before + expected, timeout=900, interval=0.2, what="the sink to hold every record")
    return time.monotonic() - since


def _ready_s(run: RestartRun) -> float:
    found = READY.search("".join(run.output))
    return float(found.group(1)) if found else float("nan")


def writes(persist: bool, clicks: int, single: int) -> dict[str, Any]:
    """One sandbox life: a batched run and a single-put run; then a clean stop."""
    folder = Path(tempfile.mkdtemp(prefix="bench-persist-"))
    run = RestartRun(folder / "state", up_args=() if persist else ("--no-persist",))
    run.up()
    result: dict[str, Any] = {"persist": persist, "ready_s": _ready_s(run)}
    try:
        for name, count, mode in (("batch", clicks, "batch"), ("single", single, "single")):
            if not count:
                continue
            before = run.deliveries()
            began = time.monotonic()
            summary = _produce(run, count, mode)
            result[f"{name}_writes_per_s"] = summary["rate"]
            result[f"{name}_pipeline_s"] = _drain_s(run, before, int(summary["expected_stream_records"]), began)
        if persist:
            result["snapshot_bytes_running"] = (run.state_dir / "snapshot.bin").stat().st_size
    finally:
        run.kill(signal.SIGTERM)  # a clean stop: the final snapshot
    if persist:
        result["snapshot_bytes"] = (run.state_dir / "snapshot.bin").stat().st_size
        result["journal_bytes"] = (run.state_dir / "httpsink.jsonl").stat().st_size
        result["state_dir"] = str(run.state_dir)
    return result


def restore(state_dir: str) -> dict[str, Any]:
    """Time to load the snapshot here, `sandbox up`'s ready time with it, and the lock pause per snapshot."""
    from emulator import Emulator, EmulatorConfig
    from emulator.persistence import Persistence, load

    path = Path(state_dir) / "snapshot.bin"
    began = time.perf_counter()
    loaded = load(path)
    load_s = time.perf_counter() - began
    assert loaded is not None
    result: dict[str, Any] = {"load_s": load_s, "summary": loaded.header.summary}
    config = EmulatorConfig(port=0, ttl_interval=0, snapshot_interval=3600)
    with Emulator(config, Persistence(Path(tempfile.mkdtemp()) / "copy.bin", loaded)) as emulator:
        result["emulator_start_with_restore_s"] = time.perf_counter() - began
        snapshotter = emulator.snapshotter
        assert snapshotter is not None
        for fork in (True, False):
            snapshotter.use_fork = fork
            pauses, totals = [], []
            for _ in range(3):
                snapshotter.snapshot_now()
                pauses.append(snapshotter.last_pause_s)
                totals.append(snapshotter.last_duration_s)
            key = "fork" if fork else "in_lock"
            result[f"lock_held_ms_{key}"] = 1000 * min(pauses)
            result[f"snapshot_total_ms_{key}"] = 1000 * min(totals)
    run = RestartRun(Path(state_dir))
    line = run.up()
    result["ready_s_restored"] = _ready_s(run)
    found = RESTORED.search(line)
    result["restore_line"] = line
    result["sandbox_load_s"] = float(found.group(1)) if found else float("nan")
    run.kill(signal.SIGTERM)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=10_000, help="clicks of the batched run (the snapshot's size)")
    parser.add_argument("--single", type=int, default=2_000, help="clicks of the one-put-per-click run (0: skip)")
    parser.add_argument("--kill-run", type=int, default=0, help="clicks of a run with two SIGKILLs (0: skip)")
    args = parser.parse_args()

    rows = [writes(False, args.clicks, args.single), writes(True, args.clicks, args.single)]
    print("\nwrites/s (producer, unpaced) and the pipeline's time until the HTTP sink holds every record")
    print(f"{'persistence':<12} {'batch w/s':>10} {'pipeline s':>11} {'single w/s':>11} {'pipeline s':>11} {'ready s':>8}")
    for row in rows:
        print(f"{'on' if row['persist'] else 'off':<12} {row.get('batch_writes_per_s', 0):>10.0f} {row.get('batch_pipeline_s', 0):>11.1f} "
              f"{row.get('single_writes_per_s', 0):>11.0f} {row.get('single_pipeline_s', 0):>11.1f} {row['ready_s']:>8.1f}")
    persisted = rows[1]
    print(f"\nsnapshot size after {args.clicks:,} + {args.single:,} clicks (with their stream, Kinesis, lake and analytics "
          f"records): {persisted['snapshot_bytes'] / 1e6:.1f} MB; the HTTP sink's journal: {persisted['journal_bytes'] / 1e6:.1f} MB")
    restored = restore(persisted["state_dir"])
    print(f"restore: read+check+unpickle {restored['load_s']:.2f} s; emulator started with it {restored['emulator_start_with_restore_s']:.2f} s; "
          f"`sandbox up` ready in {restored['ready_s_restored']:.1f} s (fresh: {persisted['ready_s']:.1f} s)")
    print(f"  {restored['restore_line']}")
    print(f"one snapshot of that state: the lock is held {restored['lock_held_ms_fork']:.0f} ms with the forked writer "
          f"(written in {restored['snapshot_total_ms_fork']:.0f} ms), {restored['lock_held_ms_in_lock']:.0f} ms pickling under the lock")
    if args.kill_run:
        outcome = run_with_kills(Path(tempfile.mkdtemp(prefix="bench-kill-")) / "state", args.kill_run)
        print(f"\n{args.kill_run:,} clicks, sandbox SIGKILLed {outcome.kills}x mid-pipeline: `sandbox verify` exit {outcome.verify_rc} "
              f"({outcome.elapsed_s:.0f} s)")
        for line in outcome.state_lines:
            print(f"  {line}")
        print(outcome.verify_output)


if __name__ == "__main__":
    main()
