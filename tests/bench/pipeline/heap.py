"""``--heap S``: where the endpoint's memory goes, store by store (ours only).

The soak's RSS says how fast the endpoint grows, not what grows. This workload runs our
emulator in this process with ``tracemalloc`` on, deploys the pipeline, writes the mixed
workload at ``--soak-rate`` for S seconds, waits until every sink holds it, and then empties
one store at a time (under the endpoint's lock): the heap each one gives back is exactly what
it held. Printed per stream record, which is what the data grows by.

What the stores are for, and how long they keep their data, is in docs/emulator.md:
DynamoDB stream records until every mapping has read them and ``EMULATOR_STREAM_MIN_RETENTION_SECONDS``
passed; function logs up to ``EMULATOR_LOG_EVENTS_KEPT`` events per stream; items, Kinesis
records (24 h) and S3 objects for good.
"""

from __future__ import annotations

import contextlib
import gc
import subprocess
import tempfile
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.dynamodb.models import dynamodb_backends
from moto.kinesis.models import kinesis_backends
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends

from bootstrap.settings import Settings
from emulator.config import EmulatorConfig
from emulator.core import Emulator
from producer.options import new_run_id
from tests.bench.pipeline import workloads
from tests.bench.pipeline.systems import _start_sink, free_port

Say = Callable[[str], None]


def _tables(account: str) -> list[Any]:
    return [table for backend in dynamodb_backends[account].values() for table in backend.tables.values()]


#: Each store: its name, and the containers that hold its data (emptied with ``clear()``). In
#: the order they are emptied: a stream record holds copies of its item's images, so the
#: records go first and each store's figure is what it alone keeps.
STORES: tuple[tuple[str, Callable[[str], Iterable[Any]]], ...] = (
    ("DynamoDB stream records", lambda account: [t.stream_shard.items for t in _tables(account)
                                                 if t.stream_shard is not None]),
    ("DynamoDB items", lambda account: [t.items for t in _tables(account)]),
    ("Kinesis records", lambda account: [shard.records for backend in kinesis_backends[account].values()
                                         for stream in backend.streams.values() for shard in stream.shards.values()]),
    ("S3 objects", lambda account: [bucket.keys for backend in s3_backends[account].values()
                                    for bucket in backend.buckets.values()]),
    ("CloudWatch Logs events", lambda account: [backend.groups for backend in logs_backends[account].values()]),
    ("CloudWatch metrics", lambda account: [backend.metric_data for backend in cloudwatch_backends[account].values()]),
)
S3_OBJECTS = "S3 objects"


def _empty(emulator: Emulator, holders: Callable[[str], Iterable[Any]]) -> None:
    with emulator.adapter.lock:
        for container in holders(emulator.config.account_id):
            container.clear()


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)


def heap_by_store(seconds: float, rate: float, say: Say, logs: Path) -> dict[str, float | None]:
    """Bytes of heap per stream record that each store holds after a paced mixed run."""
    figures: dict[str, float | None] = {}
    with contextlib.ExitStack() as stack:  # undone in reverse: stores emptied, emulator, sink, tracing
        tracemalloc.start()
        stack.callback(tracemalloc.stop)
        sink, sink_url = _start_sink(stack.enter_context((logs / "heap-sink.log").open("ab")))
        stack.callback(_stop, sink)
        emulator = stack.enter_context(Emulator(EmulatorConfig(port=free_port())))
        for _, holders in STORES:  # moto's S3 objects must not be left to the interpreter's exit
            stack.callback(_empty, emulator, holders)
        settings = Settings(endpoint_url=emulator.endpoint_url, http_sink_url=sink_url, prefix="clicks",
                            state_dir=tempfile.mkdtemp(prefix="bench-heap-"))
        workloads._deploy(settings)
        summary = workloads._produce(settings, duration=seconds, rate=rate, run_id=new_run_id(), **workloads._mix(True))
        arrivals = workloads._drain(settings, summary, 120, say)
        records = summary.expected_stream_records
        missing = sum(max(0, records - n) for n in arrivals.counts().values())
        emulator.retention.stop()  # nothing trims while the stores are measured
        emulator.ttl.stop()
        objects = sum(len(keys) for keys in dict(STORES)[S3_OBJECTS](emulator.config.account_id))
        total = 0.0
        for name, holders in STORES:
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            _empty(emulator, holders)
            gc.collect()
            freed = (before - tracemalloc.get_traced_memory()[0]) / max(1, records)
            figures[f"{name}, bytes per record"] = freed
            total += freed
            if name == S3_OBJECTS:
                figures["S3 objects, bytes per object"] = freed * records / max(1, objects)
        figures["all of them, bytes per record"] = total
        figures["stream records written"] = float(records)
        figures["S3 objects written"] = float(objects)
        figures["records missing at the end"] = float(missing)
    return figures
