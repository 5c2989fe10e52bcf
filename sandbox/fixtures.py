"""Record real pipeline events as unit-test fixtures: ``python -m sandbox.fixtures --out tests/fixtures``.

Why: the handler unit tests run on AWS's documented samples and hand-written edge
cases; these add what this pipeline really delivers (the emulator's stream records,
its TTL ``userIdentity``, fanout's Kinesis ``Data``), so a change in either side shows
up in the fast tests. The run: an embedded emulator, ``bootstrap.apply``, a recorder
next to the Kinesis consumers (``sandbox.recorder``), a small seeded producer run with
updates and deletes plus one click with a 1 s TTL, a bounded wait until every record
reached the data lake and the recorder; then a few small events are picked and saved:

* ``dynamodb_recorded_clicks.json``: a raw event from the data lake (``raw/...``), as
  archive received it, with as many kinds of record (INSERT/MODIFY/REMOVE) as possible;
* ``dynamodb_recorded_ttl_remove.json``: the archived event holding the TTL deletion
  whose backup is under ``deleted/``;
* ``kinesis_recorded_clicks.json`` / ``kinesis_recorded_ttl_remove.json``: the same two
  kinds of event as the Kinesis consumers receive them.

Ids and times differ per run (recorded data); item content is fixed by the seed and run id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer

import bootstrap
from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import CONSUMERS, TABLE_STREAM_READERS, FunctionSpec, Topology
from bootstrap.waiters import wait_until
from producer.manifest import load
from producer.options import ProduceOptions
from producer.run import produce
from sandbox.errors import SandboxError, boundary
from sandbox.httpsink import HttpSink
from sandbox.lake import stream_records
from sandbox.output import note
from sandbox.recorder import KinesisRecorder

#: Largest event worth committing as a fixture (records).
MAX_RECORDS = 5
SEED = 42
#: Every mapping's MaximumBatchingWindowInSeconds in the recording deployment.
BATCHING_WINDOW_S = 1
RUN_ID = "recorded-fixtures"
DEFAULT_TIMEOUT_S = 60.0
Event = dict[str, Any]


class Endpoint(Protocol):
    """What the recording needs from the emulator (the session fixture in tests, or our own)."""

    @property
    def endpoint_url(self) -> str: ...

    def sweep_ttl_now(self) -> int: ...


@dataclass
class Recording:
    """What one run saw: the events by where they were read, and the TTL deletion's eventID."""

    raw: list[Event] = field(default_factory=list)  # data lake raw/ objects, in key order
    kinesis: list[Event] = field(default_factory=list)  # recorder's events
    ttl_event_id: str = ""


def pick_varied(events: list[Event], max_records: int = MAX_RECORDS) -> Event:
    """The small event with the most kinds of stream record (then the most records, then the first)."""
    small = [e for e in events if 0 < len(e.get("Records", [])) <= max_records]
    if not small:
        raise SandboxError(f"no recorded event has 1-{max_records} records", "re-run: batches depend on timing")

    def score(indexed: tuple[int, Event]) -> tuple[int, int, int]:
        index, event = indexed
        records = stream_records(event)
        return len({r["eventName"] for r in records}), len(records), -index

    return max(enumerate(small), key=score)[1]


def pick_holding(events: list[Event], event_id: str) -> Event:
    """The event that carries the stream record ``event_id``."""
    for event in events:
        if any(r.get("eventID") == event_id for r in stream_records(event)):
            return event
    raise SandboxError(f"no recorded event holds stream record {event_id}")


def fixtures_of(recording: Recording) -> dict[str, Event]:
    """File stem -> event to save (the clicks events leave the TTL deletion to its own file)."""
    ttl = recording.ttl_event_id

    def without_ttl(events: list[Event]) -> list[Event]:
        return [e for e in events if ttl not in {r["eventID"] for r in stream_records(e)}]

    return {
        "dynamodb_recorded_clicks": pick_varied(without_ttl(recording.raw)),
        "dynamodb_recorded_ttl_remove": pick_holding(recording.raw, ttl),
        "kinesis_recorded_clicks": pick_varied(without_ttl(recording.kinesis)),
        "kinesis_recorded_ttl_remove": pick_holding(recording.kinesis, ttl),
    }


def save(fixtures: dict[str, Event], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, event in fixtures.items():
        path = out_dir / f"{stem}.json"
        path.write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _objects(s3: Any, bucket: str, prefix: str) -> list[Event]:
    docs = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            docs.append(json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()))
    return docs


def _event_ids(events: list[Event]) -> set[str]:
    return {r["eventID"] for e in events for r in stream_records(e)}


def _deployment(endpoint: Endpoint, prefix: str, sink_url: str) -> tuple[Settings, tuple[FunctionSpec, ...]]:
    """One Kinesis shard and a batching window on every mapping: each burst of writes arrives
    as one small event holding INSERT, MODIFY and REMOVE (without a window the emulator
    delivers within milliseconds, mostly one record per event)."""
    settings = Settings(endpoint_url=endpoint.endpoint_url, prefix=prefix, http_sink_url=sink_url, kinesis_shards=1)
    functions = tuple(
        replace(spec, batching_window_seconds=BATCHING_WINDOW_S) for spec in (*TABLE_STREAM_READERS, *CONSUMERS)
    )
    return settings, functions


def run_pipeline(endpoint: Endpoint, prefix: str, sink_url: str, timeout: float, say: Callable[[str], None]) -> Recording:
    """Bootstrap, produce, wait for delivery; the recorded events (see the module docstring)."""
    settings, functions = _deployment(endpoint, prefix, sink_url)
    applied = bootstrap.apply(settings, progress=say, functions=functions)
    topology = Topology(settings, applied.target.account_id, functions)
    s3, table = client("s3", settings), client("dynamodb", settings)
    recorder = KinesisRecorder(topology, client("lambda", settings), s3, like=topology.function("analytics"))
    recorder.deploy()
    recording = Recording()

    def delivered(expected: int, expiring: str | None = None) -> None:
        def check() -> tuple[bool, str]:
            recording.raw = _objects(s3, topology.data_lake_bucket, "raw/")
            recording.kinesis = recorder.events()
            lake, kinesis = len(_event_ids(recording.raw)), len(_event_ids(recording.kinesis))
            if expiring is not None:
                backups = _objects(s3, topology.data_lake_bucket, "deleted/")
                recording.ttl_event_id = next((b["eventID"] for b in backups if expiring in json.dumps(b)), "")
            done = lake == kinesis == expected and (expiring is None or bool(recording.ttl_event_id))
            return done, f"data lake {lake}/{expected} records, recorder {kinesis}/{expected}"

        say(wait_until(check, what=f"{expected} records in the data lake and the recorder", timeout=timeout, max_interval=0.5))

    say("producing 2 clicks, one updated, one deleted")
    clicks = produce(settings, ProduceOptions(count=2, update_ratio=0.5, delete_ratio=0.5, seed=SEED, run_id=RUN_ID))
    delivered(clicks.expected_stream_records)
    say("producing 1 click with a 1 s TTL")
    produce(settings, ProduceOptions(count=1, ttl_seconds=1, seed=SEED + 1, run_id=f"{RUN_ID}-ttl"))
    (expiring,) = load(settings, f"{RUN_ID}-ttl", bucket=topology.data_lake_bucket).clicks

    def expired() -> tuple[bool, str]:
        swept = endpoint.sweep_ttl_now()
        gone = "Item" not in table.get_item(TableName=topology.table_name, Key={"uuid": {"S": expiring}})
        return gone, f"click {expiring} still in the table (last sweep removed {swept})"

    wait_until(expired, what=f"TTL to delete click {expiring}", timeout=timeout, max_interval=0.5)
    delivered(clicks.expected_stream_records + 2, expiring)  # + the TTL click's INSERT and REMOVE
    recorder.remove()
    return recording


@contextmanager
def _embedded() -> Iterator[Endpoint]:
    from emulator import Emulator, EmulatorConfig  # only when recording on our own emulator

    with Emulator(EmulatorConfig(port=0, ttl_interval=0.5)) as running:
        yield running


def record(
    out_dir: Path,
    *,
    endpoint: Endpoint | None = None,
    prefix: str = "fixtures",
    timeout: float = DEFAULT_TIMEOUT_S,
    say: Callable[[str], None] = note,
) -> list[Path]:
    """Run the pipeline on ``endpoint`` (default: a fresh embedded emulator) and save the fixtures."""
    with HttpSink(port=0) as sink, (_embedded() if endpoint is None else nullcontext(endpoint)) as running:
        say(f"endpoint {running.endpoint_url}, HTTP sink {sink.url}")
        recording = run_pipeline(running, prefix, sink.url, timeout, say)
    return save(fixtures_of(recording), out_dir)


def main(
    out: Annotated[Path, typer.Option(help="Directory to write the *_recorded_*.json fixtures to.")] = Path("tests/fixtures"),
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for delivery.")] = DEFAULT_TIMEOUT_S,
) -> None:
    """Record DynamoDB and Kinesis events from the pipeline on an embedded emulator."""
    if out.exists() and not out.is_dir():
        typer.echo(f"error: {out} is not a directory (fix: pass --out DIR)", err=True)
        raise typer.Exit(2)
    try:
        with boundary():
            paths = record(out, timeout=timeout)
    except SandboxError as error:
        typer.echo(error.line(), err=True)
        raise typer.Exit(error.exit_code) from None
    for path in paths:
        typer.echo(f"wrote {path} ({len(json.loads(path.read_text())['Records'])} records)")


if __name__ == "__main__":
    typer.run(main)
