"""`sandbox query` against drained pipelines: results checked against the producer's own counts."""

from __future__ import annotations

import csv
import io
import json
import socket
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bootstrap import api
from bootstrap.settings import Settings
from emulator import Emulator
from producer.manifest import load
from producer.options import ProduceOptions
from producer.run import produce
from sandbox.cli import app
from sandbox.httpsink import HttpSink
from tests.functional.sandbox.support import cli_env
from tests.waiting import wait_until

from .conftest import SEEDED_CLICKS, Pipeline

runner = CliRunner()


def _json(pipe: Pipeline, sql: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["query", sql, "--format", "json"], env=pipe.env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_issues_query_equals_the_producers_counts_per_action(seeded: Pipeline) -> None:
    # GIVEN 1,000 seeded clicks (no updates or deletes) drained into every sink
    assert seeded.run.written == SEEDED_CLICKS and sum(seeded.run.actions.values()) == SEEDED_CLICKS
    # WHEN the issue's query runs THEN it equals the producer's own tally, action by action
    rows = _json(seeded, "SELECT action, count(*) AS clicks FROM clicks GROUP BY 1")
    assert {row["action"]: row["clicks"] for row in rows} == seeded.run.actions
    # and the stored manifest header says the same
    header = load(seeded.settings, seeded.run.run_id)
    assert len(header.clicks) == SEEDED_CLICKS


def test_every_table_agrees_with_the_manifest(pipeline: Pipeline) -> None:
    manifest = load(pipeline.settings, pipeline.run.run_id)
    run = pipeline.run
    per_event = _json(pipeline, "SELECT event_name, count(*) AS n FROM clicks GROUP BY 1")
    assert {r["event_name"]: r["n"] for r in per_event} == {"INSERT": run.written, "MODIFY": run.updated, "REMOVE": run.deleted}
    inserts = _json(pipeline, "SELECT action, count(*) AS n FROM clicks WHERE event_name = 'INSERT' GROUP BY action")
    assert {r["action"]: r["n"] for r in inserts} == run.actions
    raw = _json(pipeline, "SELECT count(DISTINCT event_id) AS ids, count(*) AS n, count(DISTINCT uuid) AS clicks FROM raw_events")
    assert raw == [{"ids": run.expected_stream_records, "n": run.expected_stream_records, "clicks": run.written}]
    deleted = _json(pipeline, "SELECT uuid, ttl, user_identity_type FROM deleted ORDER BY uuid")
    assert [r["uuid"] for r in deleted] == sorted(manifest.deleted)
    assert all(r["ttl"] is False and r["user_identity_type"] is None for r in deleted)  # user deletions, not TTL
    # partitions: dt of consumer A's keys, hour partitions of the data lake's
    parts = _json(pipeline, "SELECT count(*) AS n FROM clicks c JOIN raw_events r USING (event_id) WHERE c.dt = r.year || '-' || r.month || '-' || r.day")
    assert parts[0]["n"] >= run.written  # same UTC day for a run this short (unless it straddled midnight)


def test_athena_spellings_run_unchanged(pipeline: Pipeline) -> None:
    rows = _json(
        pipeline,
        "SELECT json_extract_scalar(new_image, '$.action.S') AS action, count(*) AS n FROM raw_events "
        "WHERE event_name = 'INSERT' GROUP BY 1",
    )
    assert {r["action"]: r["n"] for r in rows} == pipeline.run.actions


def test_csv_and_table_output(pipeline: Pipeline) -> None:
    result = runner.invoke(app, ["query", "SELECT event_name, count(*) AS n FROM clicks GROUP BY 1 ORDER BY 1", "-f", "csv"], env=pipeline.env)
    assert result.exit_code == 0, result.output
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["event_name", "n"], ["INSERT", str(pipeline.run.written)], ["MODIFY", str(pipeline.run.updated)], ["REMOVE", str(pipeline.run.deleted)],
    ]
    table = runner.invoke(app, ["query", "SELECT 'x' AS a, NULL AS b FROM clicks LIMIT 1"], env={**pipeline.env, "COLUMNS": "120"})
    assert table.exit_code == 0, table.output
    assert "NULL" in table.stdout and " a " in table.stdout


def test_bad_sql_is_one_line_exit_2(pipeline: Pipeline) -> None:
    for sql, words in (("SELEC 1", "syntax error"), ("SELECT * FROM nope", "nope does not exist")):
        result = runner.invoke(app, ["query", sql], env=pipeline.env)
        assert result.exit_code == 2, result.output
        (line,) = result.stderr.strip().splitlines()[-1:]
        assert line.startswith("error: SQL: ") and words in line and "Traceback" not in result.output


def test_shell_runs_statements_and_survives_errors(pipeline: Pipeline) -> None:
    statements = "SELECT count(*) AS n\nFROM clicks;\nSELEC;\n.tables\n.quit\n"
    result = runner.invoke(app, ["query", "--shell", "-f", "csv"], env=pipeline.env, input=statements)
    assert result.exit_code == 0, result.output
    total = pipeline.run.expected_stream_records
    assert f"n\n{total}\n" in result.stdout
    assert f"clicks={total} raw_events={total} deleted={pipeline.run.deleted}" in result.stdout
    assert "error: SQL: Parser Error" in result.stderr


def test_schema_lists_the_tables_without_an_endpoint() -> None:
    result = runner.invoke(app, ["query", "--schema"], env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for word in ("clicks", "raw_events", "deleted", "approximate_creation_time", "dt"):
        assert word in result.stdout


def test_an_empty_lake_is_one_line(emulator: Emulator, tmp_path: Path) -> None:
    settings = Settings(endpoint_url=emulator.endpoint_url, prefix=f"q{uuid.uuid4().hex[:8]}")
    api.apply(settings)
    try:
        result = runner.invoke(app, ["query", "SELECT count(*) FROM clicks"], env=cli_env(settings, tmp_path))
        assert result.exit_code == 1, result.output
        assert result.stderr.strip().startswith("error: the data lake is empty") and "sandbox produce" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    finally:
        api.destroy(settings)


def test_an_unreachable_endpoint_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: nothing answers there
        env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "SANDBOX_STATE_DIR": str(tmp_path)}
        result = runner.invoke(app, ["query", "SELECT 1"], env=env)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"error: nothing answers at http://127.0.0.1:{port}")


@pytest.mark.parametrize("args", [[], ["SELECT 1", "--shell"]])
def test_sql_or_shell_is_required(args: list[str]) -> None:
    result = runner.invoke(app, ["query", *args])
    assert result.exit_code == 2 and "give one SQL statement or --shell" in result.stderr


def test_deleted_tells_ttl_expiry_from_user_deletion(emulator: Emulator, tmp_path: Path) -> None:
    # GIVEN a click that expires (TTL) and one the producer deletes, on a pipeline of their own
    with HttpSink("127.0.0.1", 0) as sink:
        settings = Settings(endpoint_url=emulator.endpoint_url, prefix=f"q{uuid.uuid4().hex[:8]}", http_sink_url=sink.url)
        api.apply(settings)
        try:
            env = cli_env(settings, tmp_path)
            expiring = produce(settings, ProduceOptions(count=1, ttl_seconds=1, seed=1))
            deleted = produce(settings, ProduceOptions(count=2, delete_ratio=0.5, seed=2))
            (expired,) = load(settings, expiring.run_id).clicks
            (removed,) = load(settings, deleted.run_id).deleted

            def removes() -> list[dict[str, object]]:
                emulator.sweep_ttl_now()
                result = runner.invoke(app, ["query", "SELECT uuid, ttl, user_identity_type, user_identity_principal FROM deleted", "-f", "json"], env=env)
                return json.loads(result.stdout) if result.exit_code == 0 else []

            # WHEN both REMOVEs are archived THEN `deleted` says which one TTL did, with its userIdentity
            rows = wait_until(lambda: len(r := removes()) == 2 and r, timeout=60, interval=0.5, what="two REMOVEs in the data lake")
        finally:
            api.destroy(settings)
    by_click = {row["uuid"]: row for row in rows}
    assert by_click[expired] == {"uuid": expired, "ttl": True, "user_identity_type": "Service", "user_identity_principal": "dynamodb.amazonaws.com"}
    assert by_click[removed] == {"uuid": removed, "ttl": False, "user_identity_type": None, "user_identity_principal": None}
