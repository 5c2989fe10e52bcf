"""The query tables: schema, loader and DuckDB agree with each other, the row contract and docs/athena.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from bootstrap.settings import Settings
from bootstrap.topology import Topology
from functions._rows import to_row
from sandbox.commands.query import _load, referenced
from sandbox.lakedb import LakeDatabase, QueryError
from sandbox.lakeload import LakeRows, click_rows, raw_rows
from sandbox.lakeschema import CLICKS, RAW_EVENTS, TABLES, athena_ddl
from tests.fixtures import load_event

DOC = Path(__file__).resolve().parents[3] / "docs" / "athena.md"
RAW_URI = "s3://lake/raw/year=2026/month=11/day=26/hour=15/1-2-abcdefabcdef.json"


def _raw(fixture: str) -> list[dict[str, object]]:
    return list(raw_rows(load_event(fixture), RAW_URI, "uuid"))


def test_the_clicks_table_is_the_row_contract() -> None:
    record = load_event("dynamodb_recorded_clicks")["Records"][0]
    assert [c.name for c in CLICKS] == list(to_row(DynamoDBRecord(record), "1", 0))


def test_raw_rows_have_exactly_the_declared_columns() -> None:
    rows = _raw("dynamodb_recorded_clicks")
    assert rows and all(list(row) == [c.name for c in RAW_EVENTS] for row in rows)
    assert (rows[0]["year"], rows[0]["month"], rows[0]["day"], rows[0]["hour"]) == ("2026", "11", "26", "15")
    assert rows[0]["s3_key"] == RAW_URI and rows[0]["uuid"] and rows[0]["ttl_delete"] is False


@pytest.mark.parametrize(
    ("fixture", "flags"),
    [
        ("dynamodb_recorded_ttl_remove", [True]),  # the emulator's: userIdentity says TTL
        ("dynamodb_ttl_remove_localstack", [True, False]),  # no userIdentity: an expired item, then a user delete
    ],
)
def test_ttl_removes_are_marked_with_or_without_user_identity(fixture: str, flags: list[bool]) -> None:
    assert [row["ttl_delete"] for row in _raw(fixture) if row["event_name"] == "REMOVE"] == flags


def test_junk_records_are_skipped() -> None:
    assert list(raw_rows({"Records": [1, "x", {"eventID": "no dynamodb"}]}, RAW_URI, "uuid")) == []
    assert list(raw_rows(["not", "an", "event"], RAW_URI, "uuid")) == []


def test_click_rows_carry_the_dt_partition() -> None:
    body = b'{"event_id": "e1", "action": "Search"}\n\n{"event_id": "e2", "action": "ViewHome"}\n'
    rows = list(click_rows(body, "s3://a/clicks/dt=2026-11-26/shardId-000000000000-1-2.jsonl"))
    assert [(r["event_id"], r["dt"]) for r in rows] == [("e1", "2026-11-26"), ("e2", "2026-11-26")]


def _database() -> LakeDatabase:
    record = load_event("dynamodb_recorded_clicks")["Records"][0]
    click = {**to_row(DynamoDBRecord(record), "7", 5), "dt": "2026-11-26"}
    db = LakeDatabase()
    db.load(LakeRows(clicks=[click, {**click, "event_id": "other", "action": "Search"}], raw_events=_raw("dynamodb_recorded_ttl_remove")))
    return db


def test_sql_over_the_loaded_tables() -> None:
    db = _database()
    assert db.counts()["clicks"] == 2
    result = db.query("SELECT action, count(*) AS n FROM clicks GROUP BY 1 ORDER BY 1")
    assert result.columns == ["action", "n"] and len(result.rows) == 2
    deleted = db.query("SELECT count(*), bool_and(ttl) FROM deleted").rows
    assert deleted[0][0] >= 1 and deleted[0][1] is True
    assert db.query("SELECT typeof(approximate_creation_time), typeof(keys) FROM raw_events LIMIT 1").rows == [("TIMESTAMP", "JSON")]


def test_athena_functions_are_there_too() -> None:
    rows = _database().query(
        "SELECT json_extract_scalar(keys, '$.uuid.S') = uuid, from_unixtime(0) FROM raw_events LIMIT 1"
    ).rows
    assert rows[0][0] is True and str(rows[0][1]) == "1970-01-01 00:00:00"


def test_a_reload_replaces_the_rows() -> None:
    db = _database()
    db.load(LakeRows())
    assert db.counts() == {"clicks": 0, "raw_events": 0, "deleted": 0}


def test_bad_sql_is_one_line_without_duckdbs_echo_of_the_statement() -> None:
    with pytest.raises(QueryError) as caught:
        _database().query("SELECT nope FROM clicks")
    line = caught.value.line()
    assert "\n" not in line and "LINE 1" not in line and 'column "nope"' in line.lower()
    assert caught.value.exit_code == 2


def test_docs_hold_the_athena_ddl_of_the_default_deployment() -> None:
    ddl = athena_ddl(Topology.from_settings(Settings()))
    assert ddl.strip() in DOC.read_text(), "docs/athena.md is stale: paste sandbox.lakeschema.athena_ddl() output"
    for table, columns in TABLES.items():
        for column in columns:
            assert f"{column.name}" in ddl, (table, column.name)


def test_the_docs_example_queries_run_locally() -> None:
    text = DOC.read_text()
    block = text.split("the same text on both:", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    statements = [line.strip().rstrip(";") for line in block.splitlines() if line.strip()]
    db = _database()
    assert len(statements) == 4
    for sql in statements:
        assert db.query(sql).columns, sql


@pytest.mark.parametrize(
    ("sql", "sources"),
    [
        ("SELECT action, count(*) FROM clicks GROUP BY 1", {"clicks"}),
        ("select * from DELETED", {"raw"}),
        ("SELECT * FROM clicks JOIN raw_events USING (event_id)", {"clicks", "raw"}),
        ("SELECT 1", {"clicks", "raw"}),
    ],
)
def test_a_statement_loads_only_the_sinks_it_names(sql: str, sources: set[str]) -> None:
    assert referenced(sql) == sources


class FakeReader:
    """LakeReader's face: 25 consumer A objects of one row each."""

    topology = Topology.from_settings(Settings())

    def __init__(self) -> None:
        self.advanced: list[tuple[int, int]] = []

    def plan(self, sources: object) -> tuple[list[str], list[str]]:
        return [f"clicks/dt=2026-11-26/o{i}.jsonl" for i in range(25)], []

    def read(self, clicks: list[str], raw: list[str], advance: object = None) -> LakeRows:
        for done in range(1, len(clicks) + 1):
            if callable(advance):
                advance(done, len(clicks))
            self.advanced.append((done, len(clicks)))
        return LakeRows(clicks=[{"event_id": key, "dt": "2026-11-26"} for key in clicks])


@pytest.mark.parametrize("tty", [True, False])
def test_many_objects_load_with_progress(tty: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: tty)
    reader, db = FakeReader(), LakeDatabase()
    rows = _load(reader, db)  # type: ignore[arg-type]
    assert len(rows.clicks) == 25 and db.counts()["clicks"] == 25 and reader.advanced[-1] == (25, 25)
    assert "loaded 25 click rows (25 objects)" in capsys.readouterr().err
