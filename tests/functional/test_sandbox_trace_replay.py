"""`sandbox trace` and `sandbox replay` against a drained pipeline on the session emulator.

One pipeline for the module (own prefix and HTTP sink): a seeded run with updates and
deletes, plus a click expired by TTL. Replay tests compare every sink before and after:
the sinks are idempotent, so re-sending archived events must change nothing, only
count as repeated attempts.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from bootstrap import api
from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from emulator import Emulator
from producer.manifest import Manifest, load
from producer.options import ProduceOptions
from producer.run import produce
from sandbox import lake, sinkread
from sandbox.cli import app
from sandbox.httpsink import HttpSink
from sandbox.sinkclient import SinkClient
from tests.waiting import wait_until

runner = CliRunner()


@dataclass
class Pipe:
    settings: Settings
    topology: Topology
    sink: HttpSink
    manifest: Manifest
    expired: str  # a click deleted by TTL
    env: dict[str, str | None]
    s3: Any

    def snapshot(self) -> dict[str, Any]:
        """Every sink's content: raw and deleted objects, analytics objects, HTTP deliveries."""
        lake_keys = lake.keys(self.s3, self.topology.data_lake_bucket, "raw/") + lake.keys(
            self.s3, self.topology.data_lake_bucket, "deleted/"
        )
        analytics = {
            key: [row["event_id"] for row in lake.read_lines(self.s3, self.topology.analytics_bucket, key)]
            for key in lake.keys(self.s3, self.topology.analytics_bucket, "clicks/")
        }
        deliveries = self.sink.deliveries()
        return {
            "lake": {k: lake.read_json(self.s3, self.topology.data_lake_bucket, k) for k in lake_keys},
            "analytics": analytics,
            "http": {d["key"]: d["body"] for d in deliveries},
            "attempts": sum(d["attempts"] for d in deliveries),
        }


def _counts(pipe: Pipe) -> tuple[int, int, int]:
    sink = SinkClient(pipe.sink.url)
    return (
        len({e.event_id for e in sinkread.data_lake(pipe.s3, pipe.topology)}),
        len({e.event_id for e in sinkread.analytics(pipe.s3, pipe.topology)}),
        len({e.event_id for e in sinkread.http(sink)}),
    )


@pytest.fixture(scope="module")
def pipe(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipe]:
    with HttpSink("127.0.0.1", 0) as sink:
        settings = Settings(endpoint_url=emulator.endpoint_url, prefix=f"tr{uuid.uuid4().hex[:8]}", http_sink_url=sink.url)
        api.apply(settings)
        try:
            topology = Topology.from_settings(settings)
            run = produce(settings, ProduceOptions(count=12, update_ratio=0.25, delete_ratio=0.25, seed=5))
            short = produce(settings, ProduceOptions(count=1, ttl_seconds=1, seed=6))
            (expired,) = load(settings, short.run_id).clicks
            table = client("dynamodb", settings)
            wait_until(
                lambda: emulator.sweep_ttl_now() >= 0
                and "Item" not in table.get_item(TableName=topology.table_name, Key={"uuid": {"S": expired}}),
                timeout=30, interval=0.2, what=f"TTL to delete {expired}",
            )
            expected = run.expected_stream_records + 2
            s3 = client("s3", settings)
            env: dict[str, str | None] = {
                "AWS_ENDPOINT_URL": settings.endpoint_url,
                "SANDBOX_PREFIX": settings.prefix,
                "SANDBOX_HTTP_SINK_URL": sink.url,
                "SANDBOX_STATE_DIR": str(tmp_path_factory.mktemp("state")),
                "SANDBOX_ALLOW_REAL_AWS": None,
                "COLUMNS": "300",  # rich tables unwrapped: ids and keys stay on one line
            }
            built = Pipe(settings, topology, sink, load(settings, run.run_id), expired, env, s3)
            wait_until(lambda: _counts(built) == (expected,) * 3, timeout=60, interval=0.25, what=f"{expected} records in every sink")
            yield built
        finally:
            api.destroy(settings)


def _hours() -> list[str]:
    now = datetime.now(UTC)
    return ["--from", f"{now - timedelta(hours=1):%Y-%m-%dT%H}", "--to", f"{now:%Y-%m-%dT%H}"]


# --- trace ------------------------------------------------------------------------------------
def test_trace_follows_an_updated_and_deleted_click_to_every_sink(pipe: Pipe) -> None:
    click = next(c for c in pipe.manifest.clicks if c in pipe.manifest.updated and c in pipe.manifest.deleted)
    result = runner.invoke(app, ["trace", click], env=pipe.env)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"gone from {pipe.topology.table_name}" in out
    assert "producer 3 · table none · data lake (raw) 3 · data lake (deleted/) none · consumer A (analytics) 3 · consumer B (HTTP) 3" in out
    raw_ids = {e.event_id for e in sinkread.data_lake(pipe.s3, pipe.topology) if e.uuid == click}
    assert len(raw_ids) == 3 and all(event_id in out for event_id in raw_ids)


def test_trace_shows_a_ttl_deletion_and_its_backup(pipe: Pipe) -> None:
    result = runner.invoke(app, ["trace", pipe.expired], env=pipe.env)
    assert result.exit_code == 0, result.output
    assert "TTL deletion" in result.stdout
    assert "data lake (deleted/) 1" in result.stdout and "consumer B (HTTP) 2" in result.stdout


def test_trace_names_the_stage_it_cannot_read(pipe: Pipe) -> None:
    click = pipe.manifest.clicks[0]
    env = {**pipe.env, "SANDBOX_HTTP_SINK_URL": "http://127.0.0.1:9/deliveries"}
    result = runner.invoke(app, ["trace", click], env=env)
    assert result.exit_code == 0, result.output
    # "unreachable" (with where and how to fix it), never "not found": the sink was not read at all
    assert "HTTP sink unreachable: the HTTP sink does not answer at http://127.0.0.1:9" in result.stdout
    assert "SANDBOX_HTTP_SINK_URL" in result.stdout and "not found in GET" not in result.stdout
    assert "consumer B (HTTP) none" in result.stdout and "data lake (raw) none" not in result.stdout


def test_trace_of_an_unknown_click_is_one_line(pipe: Pipe) -> None:
    result = runner.invoke(app, ["trace", "00000000-0000-4000-8000-000000000000", "--hours", "2"], env=pipe.env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: click 00000000-0000-4000-8000-000000000000 is not in any stage")
    assert "Traceback" not in result.output and result.stderr.count("\n") == 1


# --- replay -----------------------------------------------------------------------------------
def test_dry_run_shows_the_plan_and_sends_nothing(pipe: Pipe) -> None:
    before = pipe.snapshot()
    result = runner.invoke(app, ["replay", "--function", "analytics", *_hours(), "--dry-run"], env=pipe.env)
    assert result.exit_code == 0, result.output
    assert "dry run: would invoke" in result.stdout and "rewrites clicks/dt=" in result.stdout
    assert pipe.snapshot() == before


@pytest.mark.parametrize("function", ["archive", "analytics", "http"])
def test_replay_creates_no_duplicates(pipe: Pipe, function: str) -> None:
    before = pipe.snapshot()
    result = runner.invoke(app, ["replay", "--function", function, *_hours()], env=pipe.env)
    assert result.exit_code == 0, result.output
    assert ": ok" in result.stdout and f"{pipe.settings.prefix}-{function}" in result.stdout
    after = pipe.snapshot()
    assert after["lake"] == before["lake"]  # same keys, same bodies
    assert after["analytics"] == before["analytics"]  # same objects, same rows in the same order
    assert after["http"] == before["http"]
    assert Counter(i for rows in after["analytics"].values() for i in rows).most_common(1)[0][1] == 1
    if function == "http":  # it was really re-sent: the sink counted the repeats
        assert after["attempts"] == before["attempts"] + len(before["http"])


def test_replay_restores_a_lost_analytics_object_once(pipe: Pipe) -> None:
    bucket = pipe.topology.analytics_bucket
    lost_key = max(pipe.snapshot()["analytics"].items(), key=lambda item: len(item[1]))[0]
    lost = set(pipe.snapshot()["analytics"][lost_key])
    pipe.s3.delete_object(Bucket=bucket, Key=lost_key)
    raw_keys = sorted(
        key for key, doc in pipe.snapshot()["lake"].items()
        if key.startswith("raw/") and lost & {r["eventID"] for r in doc["Records"]}
    )
    args = ["replay", "--function", "analytics", *(arg for key in raw_keys for arg in ("--key", key))]
    for _ in range(2):  # the second replay rewrites the restored object, it does not add one
        result = runner.invoke(app, args, env=pipe.env)
        assert result.exit_code == 0, result.output
        rows = Counter(i for ids in pipe.snapshot()["analytics"].values() for i in ids)
        assert lost <= rows.keys() and max(rows.values()) == 1
    assert len(_counts(pipe)) == 3 and _counts(pipe)[1] == pipe.manifest.expected_stream_records + 2


def test_replay_into_fanout_needs_consent(pipe: Pipe) -> None:
    result = runner.invoke(app, ["replay", "--function", "fanout", *_hours()], env=pipe.env)
    assert result.exit_code == 2
    assert "consumer A would store them twice" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--function", "nope", "--from", "2026-01-01T00"], 2, "error: no function 'nope'"),
        (["--function", "http"], 2, "error: say what to replay"),
        (["--function", "http", "--from", "yesterday"], 2, "error: 'yesterday' is not an hour"),
        (["--function", "http", "--from", "2026-01-02", "--to", "2026-01-01"], 2, "is before --from"),
        (["--function", "http", "--key", "clicks/x.jsonl"], 2, "is not a data-lake raw/ object key"),
        (["--function", "http", "--key", "raw/none.json"], 1, "error: no object raw/none.json"),
        (["--function", "http", "--key", "raw/a.json", "--from", "2026-01-01T00"], 2, "use --key or --from/--to"),
        (["--function", "http", "--from", "2001-01-01T00"], 1, "error: no archived events"),
    ],
)
def test_replay_mistakes_are_one_line(pipe: Pipe, args: list[str], code: int, message: str) -> None:
    result = runner.invoke(app, ["replay", *args], env=pipe.env)
    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert result.stderr.count("\n") == 1, result.stderr
