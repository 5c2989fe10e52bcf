"""The workloads, each on a fresh system: throughput, paced latency, cold start, soak.

Every workload starts the system anew (endpoint and sink processes), deploys the
pipeline with our bootstrap, runs our producer in this process and reads the sinks
directly (``sinks.RunArrivals``); waits have deadlines.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from dataclasses import dataclass, field

import psutil

from bootstrap import api
from bootstrap.clients import client
from bootstrap.settings import Settings
from producer.options import ProduceOptions, new_run_id
from producer.run import ProduceSummary, produce
from producer.target import resolve_topology
from sandbox.sinkclient import SinkClient
from tests.bench.pipeline import measures
from tests.bench.pipeline.profile import Profiler, top
from tests.bench.pipeline.sinks import SINKS, RunArrivals
from tests.bench.pipeline.systems import ROOT, BenchError, Running, System, free_port, wait_until

Say = Callable[[str], None]
#: The mixed workload: the share of clicks later modified and deleted (sandbox up's demo mix).
UPDATE_RATIO, DELETE_RATIO = 0.2, 0.1


@dataclass
class Figures:
    """One workload's figures on one system: name -> value (seconds, records/s, ms, MB)."""

    values: dict[str, float | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # component -> CPU seconds during the run
    cpu_records: int = 0
    profile: list[str] = field(default_factory=list)  # the busiest frames (--profile)

    def put(self, name: str, value: float | None) -> None:
        self.values[name] = value


def _own_cpu() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


#: The producer's state dir (where an aborted run lists its unsaved writes): one for the whole benchmark.
STATE_DIR = tempfile.mkdtemp(prefix="bench-state-")


def _settings(running: Running, prefix: str = "clicks") -> Settings:
    return Settings(endpoint_url=running.endpoint_url, http_sink_url=running.sink_url, prefix=prefix, state_dir=STATE_DIR)


def _deploy(settings: Settings) -> float:
    started = time.monotonic()
    api.apply(settings, progress=lambda _: None)
    return time.monotonic() - started


def _produce(settings: Settings, **options: object) -> ProduceSummary:
    return produce(settings, ProduceOptions(**options))  # type: ignore[arg-type]


def _arrivals(settings: Settings, run_id: str) -> RunArrivals:
    return RunArrivals(client("s3", settings), settings.http_sink_url, resolve_topology(settings), run_id)


def _drain(settings: Settings, summary: ProduceSummary, timeout: float, say: Say,
           arrivals: RunArrivals | None = None) -> RunArrivals:
    """Wait until every sink holds the run's records (or the deadline), then read the arrival times."""
    arrivals = arrivals or _arrivals(settings, summary.run_id)
    expected = summary.expected_stream_records
    deadline = time.monotonic() + timeout
    last_said = time.monotonic()
    while True:
        counts = arrivals.poll()
        if all(counts[name] >= expected for name in SINKS):
            break
        if time.monotonic() > deadline:
            say(f"    drain deadline ({timeout:.0f} s) passed: {counts} of {expected}")
            break
        if time.monotonic() - last_said > 15:
            last_said = time.monotonic()
            say(f"    waiting for the sinks: {', '.join(f'{k} {v:,}' for k, v in counts.items())} of {expected:,}")
        time.sleep(0.5)
    arrivals.poll(final=True)
    return arrivals


def _raw_write_seconds(running: Running, clicks: int, mixed: bool) -> float:
    """The same producer run into a table with no stream and nothing reading it."""
    settings = _settings(running, prefix="raw")
    topology = resolve_topology(settings)
    ddb, s3 = client("dynamodb", settings), client("s3", settings)
    ddb.create_table(
        TableName=topology.table_name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": topology.table_key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": topology.table_key, "AttributeType": "S"}],
    )
    s3.create_bucket(Bucket=topology.data_lake_bucket)
    wait_until(lambda: ddb.describe_table(TableName=topology.table_name)["Table"]["TableStatus"] == "ACTIVE", 30, "the raw table")
    summary = _produce(settings, count=clicks, **_mix(mixed))
    return summary.elapsed_s


def _mix(mixed: bool) -> dict[str, float]:
    return {"update_ratio": UPDATE_RATIO, "delete_ratio": DELETE_RATIO} if mixed else {}


def throughput(system: System, clicks: int, mixed: bool, timeout: float, say: Say, profile: Path | None = None) -> Figures:
    figures = Figures()
    running = system.start()
    profiler: Profiler | None = None
    try:
        figures.put("raw write s", _raw_write_seconds(running, clicks, mixed))
        settings = _settings(running)
        _deploy(settings)
        if profile is not None:
            profiler = Profiler(running, profile)
        started = time.time() * 1000
        cpu_before, own_before = running.cpu_seconds(), _own_cpu()
        summary = _produce(settings, count=clicks, **_mix(mixed))
        figures.put("write s (pipeline deployed)", summary.elapsed_s)
        figures.put("stream records", summary.expected_stream_records)
        arrivals = _drain(settings, summary, timeout, say)
        cpu_after, own_after = running.cpu_seconds(), _own_cpu()
        if profiler is not None:
            profiler.stop()
            figures.profile = top(profiler.out)
        figures.cpu = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
        figures.cpu["producer and readers (this process)"] = own_after - own_before
        figures.cpu_records = summary.expected_stream_records
        for sink in SINKS:
            found = arrivals.arrivals[sink]
            complete = len(found) >= summary.expected_stream_records
            last = max((a.arrived_ms for a in found.values()), default=None)
            held = (last - started) / 1000 if last is not None and complete else None
            figures.put(f"{sink}: all held after s", held)
            figures.put(f"{sink}: delivered/s", summary.expected_stream_records / held if held else None)
            if not complete:
                figures.notes.append(f"{sink} held {len(found):,} of {summary.expected_stream_records:,} at the deadline")
        if arrivals.inexact_lake:
            figures.notes.append(f"{arrivals.inexact_lake} data-lake objects lacked the archive's timestamp")
    finally:
        running.stop()
    return figures


#: Clicks of the warm-up run before a paced run (a run id of its own: not counted).
WARM_UP_CLICKS = 20


def _warm_up(settings: Settings, timeout: float, say: Say) -> None:
    """A few clicks through every sink first, so a paced run measures the running pipeline:
    its first records would otherwise wait for the functions' first invocations (workers
    still starting, clients and connections being made), which the cold-start workload
    measures on its own."""
    warm = _produce(settings, count=WARM_UP_CLICKS, **_mix(True))
    _drain(settings, warm, timeout, say)


def paced_latency(system: System, rate: float, seconds: float, timeout: float, say: Say) -> Figures:
    figures = Figures()
    running = system.start()
    try:
        settings = _settings(running)
        _deploy(settings)
        _warm_up(settings, timeout, say)
        summary = _produce(settings, duration=seconds, rate=rate, **_mix(True))
        figures.put("writes/s achieved", summary.rate)
        arrivals = _drain(settings, summary, timeout, say)
        for sink in SINKS:
            found = list(arrivals.arrivals[sink].values())
            stats = measures.latency(found)
            for label, value in (("p50", "p50"), ("p95", "p95"), ("p99", "p99"), ("max", "max")):
                figures.put(f"{sink}: {label} ms", getattr(stats, value) if stats else None)
            stall = measures.longest_stall(found)
            figures.put(f"{sink}: longest stall s", stall.seconds if stall else 0.0)
            if len(found) < summary.expected_stream_records:
                figures.notes.append(f"{sink} held {len(found):,} of {summary.expected_stream_records:,} at the deadline")
    finally:
        running.stop()
    return figures


def cold_start(system: System, say: Say) -> Figures:
    """Endpoint process to ready; bootstrap apply on it; then one click to every sink."""
    figures = Figures()
    started = time.monotonic()
    running = system.start()
    try:
        figures.put("endpoint ready s", running.ready_s)
        settings = _settings(running)
        figures.put("bootstrap apply s", _deploy(settings))
        summary = _produce(settings, count=1)
        arrivals = _drain(settings, summary, 120, say)
        done = all(arrivals.counts()[sink] >= 1 for sink in SINKS)
        figures.put("start to first click in every sink s", time.monotonic() - started if done else None)
    finally:
        running.stop()
    return figures


def sandbox_up_cold(say: Say) -> float:
    """`sandbox up` as a user runs it, to the first click in every sink (ours only)."""
    endpoint_port, sink_port = free_port(), free_port()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{endpoint_port}", "SANDBOX_HTTP_SINK_URL": f"http://127.0.0.1:{sink_port}",
           "SANDBOX_STATE_DIR": tempfile.mkdtemp(prefix="bench-up-")}
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "up", "--no-live", "--no-dashboard",
                                "--rate", "20"], cwd=ROOT, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        settings = Settings(endpoint_url=env["AWS_ENDPOINT_URL"], http_sink_url=env["SANDBOX_HTTP_SINK_URL"] + "/deliveries")

        def every_sink_has_one() -> bool:
            if process.poll() is not None:
                raise BenchError(f"sandbox up exited (exit {process.returncode})")
            try:
                topology = resolve_topology(settings)
                s3 = client("s3", settings, max_attempts=1, timeout=2)
                for bucket, prefix in ((topology.data_lake_bucket, "raw/"), (topology.analytics_bucket, "clicks/")):
                    if not s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount"):
                        return False
                return SinkClient(settings.http_sink_url).stats().deliveries > 0
            except Exception:  # noqa: BLE001 - not up yet: any failure means "not yet"
                return False

        wait_until(every_sink_has_one, 120, "sandbox up's first click in every sink", interval=0.1)
        return time.monotonic() - started
    finally:
        Running("", "", [process]).stop()


def _s3_usage(settings: Settings) -> tuple[float, int]:
    """What the sinks hold in S3 (both buckets): MB and objects, data the endpoint keeps by design."""
    topology = resolve_topology(settings)
    s3 = client("s3", settings)
    total = objects = 0
    for bucket in (topology.data_lake_bucket, topology.analytics_bucket):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            contents = page.get("Contents", [])
            total += sum(entry["Size"] for entry in contents)
            objects += len(contents)
    return total / 2**20, objects


def soak(system: System, seconds: float, rate: float, say: Say, ttl_seconds: int | None = None) -> Figures:
    """RSS of the endpoint, its workers and the sink every 5 s under a paced run, next to
    what the sinks store in S3 (retained by design: the data lake only grows)."""
    figures = Figures()
    running = system.start()
    samples: dict[str, list[tuple[float, float]]] = {"total": [], "endpoint": [], "workers": [], "HTTP sink": [], "S3": [],
                                                     "S3 objects": []}
    try:
        settings = _settings(running)
        _deploy(settings)
        stop = threading.Event()
        started = time.monotonic()
        run_id = new_run_id()
        arrivals = _arrivals(settings, run_id)

        def read_sinks() -> None:
            while not stop.wait(30.0):
                arrivals.poll()  # read the sinks as they fill: the final drain stays short

        def sample() -> None:
            while not stop.wait(5.0):
                at = time.monotonic() - started
                parts = running.rss_by_part()
                for part, value in parts.items():
                    samples[part].append((at, value))
                samples["total"].append((at, sum(parts.values())))
                if len(samples["total"]) % 12 == 0:
                    megabytes, objects = _s3_usage(settings)
                    samples["S3"].append((at, megabytes))
                    samples["S3 objects"].append((at, float(objects)))
                    say(f"    soak {at:.0f}/{seconds:.0f} s: RSS " + ", ".join(f"{k} {v:.0f} MB" for k, v in parts.items())
                        + f"; S3 holds {megabytes:.1f} MB in {objects:,} objects")

        sampler = threading.Thread(target=sample, daemon=True)
        reader = threading.Thread(target=read_sinks, daemon=True)
        sampler.start()
        reader.start()
        ttl = {"ttl_seconds": ttl_seconds} if ttl_seconds else {}
        summary = _produce(settings, duration=seconds, rate=rate, run_id=run_id, **ttl, **_mix(True))
        stop.set()
        sampler.join()
        reader.join()
        arrivals = _drain(settings, summary, 120, say, arrivals)
        counts = arrivals.counts()
        total = samples["total"]
        figures.put("RSS at 1 min MB", next((v for t, v in total if t >= 60), None))
        figures.put("RSS at end MB", total[-1][1] if total else None)
        for part in ("total", "endpoint", "workers", "HTTP sink"):
            figures.put(f"RSS slope after 1 min, {part} MB/min", measures.slope_per_minute(samples[part]))
        figures.put("S3 data growth MB/min", measures.slope_per_minute(samples["S3"]))
        figures.put("S3 objects per min", measures.slope_per_minute(samples["S3 objects"]))
        figures.put("records missing at the end", sum(max(0, summary.expected_stream_records - counts[s]) for s in SINKS))
    finally:
        running.stop()
    return figures
