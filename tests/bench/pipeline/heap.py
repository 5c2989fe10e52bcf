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

import gc
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from moto.cloudwatch.models import cloudwatch_backends
from moto.dynamodb.models import dynamodb_backends
from moto.kinesis.models import kinesis_backends
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends

from bootstrap.settings import Settings
from emulator.config import EmulatorConfig
from emulator.core import Emulator
from producer.options import new_run_id
from tests.bench.pipeline.systems import _start_sink, free_port

Say = Callable[[str], None]


def _clear_stream_records(account: str) -> None:
    for backend in dynamodb_backends[account].values():
        for table in backend.tables.values():
            if table.stream_shard is not None:
                table.stream_shard.items.clear()


def _clear_items(account: str) -> None:
    for backend in dynamodb_backends[account].values():
        for table in backend.tables.values():
            table.items.clear()


def _clear_kinesis_records(account: str) -> None:
    for backend in kinesis_backends[account].values():
        for stream in backend.streams.values():
            for shard in stream.shards.values():
                shard.records.clear()


def _clear_s3_objects(account: str) -> None:
    for backend in s3_backends[account].values():
        for bucket in backend.buckets.values():
            bucket.keys.clear()


def _clear_logs(account: str) -> None:
    for backend in logs_backends[account].values():
        backend.groups.clear()


def _clear_metrics(account: str) -> None:
    for backend in cloudwatch_backends[account].values():
        backend.metric_data.clear()


#: In the order they are emptied: a stream record holds copies of its item's images, so the
#: records go first and each store's figure is what it alone keeps.
STORES: tuple[tuple[str, Callable[[str], None]], ...] = (
    ("DynamoDB stream records", _clear_stream_records),
    ("DynamoDB items", _clear_items),
    ("Kinesis records", _clear_kinesis_records),
    ("S3 objects", _clear_s3_objects),
    ("CloudWatch Logs events", _clear_logs),
    ("CloudWatch metrics", _clear_metrics),
)


def heap_by_store(seconds: float, rate: float, say: Say, logs: Path) -> dict[str, float | None]:
    """Bytes of heap per stream record that each store holds after a paced mixed run."""
    from tests.bench.pipeline import workloads  # the producer and the sink readers

    tracemalloc.start()
    log = (logs / "heap-sink.log").open("ab")
    sink, sink_url = _start_sink(log)
    emulator = Emulator(EmulatorConfig(port=free_port())).start()
    figures: dict[str, float | None] = {}
    try:
        settings = Settings(endpoint_url=emulator.endpoint_url, http_sink_url=sink_url, prefix="clicks",
                            state_dir=tempfile.mkdtemp(prefix="bench-heap-"))
        workloads._deploy(settings)
        summary = workloads._produce(settings, duration=seconds, rate=rate, run_id=new_run_id(), **workloads._mix(True))
        arrivals = workloads._drain(settings, summary, 120, say)
        records = summary.expected_stream_records
        missing = sum(max(0, records - n) for n in arrivals.counts().values())
        emulator.retention.stop()  # nothing trims while the stores are measured
        emulator.ttl.stop()
        account = emulator.config.account_id
        objects = sum(len(bucket.keys) for backend in s3_backends[account].values()
                      for bucket in backend.buckets.values())
        total = 0.0
        for name, clear in STORES:
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            with emulator.adapter.lock:
                clear(account)
            gc.collect()
            freed = (before - tracemalloc.get_traced_memory()[0]) / max(1, records)
            figures[f"{name}, bytes per record"] = freed
            total += freed
            if clear is _clear_s3_objects:
                figures["S3 objects, bytes per object"] = freed * records / max(1, objects)
        figures["all of them, bytes per record"] = total
        figures["stream records written"] = float(records)
        figures["S3 objects written"] = float(objects)
        figures["records missing at the end"] = float(missing)
    finally:
        with emulator.adapter.lock:  # moto's S3 objects must not be left to the interpreter's exit
            for _, clear in STORES:
                clear(emulator.config.account_id)
        emulator.stop()
        sink.terminate()
        sink.wait(timeout=10)
        log.close()
        tracemalloc.stop()
    return figures
