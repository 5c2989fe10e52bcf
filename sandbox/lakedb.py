"""An in-memory DuckDB holding the lake's tables (``sandbox.lakeschema``), and SQL run on it.

Rows are handed to DuckDB as newline-delimited JSON in a temporary file read with
``read_json`` and the declared column types (much faster than row-by-row inserts: 10,000
rows load in well under a second). Two Athena functions the docs' queries use are
defined as macros, so the same SQL text runs here and on Athena.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from sandbox.errors import SandboxError
from sandbox.lakeload import LakeRows
from sandbox.lakeschema import TABLES, VIEWS, duckdb_ddl, quoted

#: Athena (Presto/Trino) spellings mapped onto DuckDB's.
_ATHENA_MACROS = (
    "CREATE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)",
    "CREATE MACRO from_unixtime(s) AS make_timestamp(CAST(s * 1000000 AS BIGINT))",
)


class QueryError(SandboxError):
    """SQL DuckDB refused: the message is DuckDB's, on one line."""

    exit_code = 2

    def __init__(self, detail: str) -> None:
        lines = [line.strip() for line in detail.splitlines() if line.strip()]
        # DuckDB follows the message with "LINE 1: <the SQL>" and a caret line: the message is enough.
        text = " ".join(lines[: next((i for i, line in enumerate(lines) if line.startswith("LINE ")), len(lines))])
        super().__init__(
            f"SQL: {text[:400]}",
            f"the tables are {', '.join([*TABLES, *VIEWS])}; `sandbox query --schema` lists their columns",
        )


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    seconds: float


class LakeDatabase:
    """The tables of one load, queried as often as wanted (``--shell``)."""

    def __init__(self) -> None:
        self.conn = duckdb.connect(":memory:")
        for table in TABLES:
            self.conn.execute(duckdb_ddl(table))
        for view, select in VIEWS.items():
            self.conn.execute(f"CREATE VIEW {view} AS {select}")
        for macro in _ATHENA_MACROS:
            self.conn.execute(macro)

    def load(self, rows: LakeRows) -> None:
        """Replace the tables' contents with ``rows``."""
        with tempfile.TemporaryDirectory(prefix="sandbox-query-") as tmp:
            for table, records in (("clicks", rows.clicks), ("raw_events", rows.raw_events)):
                self.conn.execute(f"DELETE FROM {table}")
                if not records:
                    continue
                path = Path(tmp) / f"{table}.jsonl"
                with path.open("w", encoding="utf-8") as out:
                    for record in records:
                        out.write(json.dumps(record, separators=(",", ":")))
                        out.write("\n")
                types = ", ".join(f"'{c.name}': '{c.duckdb}'" for c in TABLES[table])
                names = ", ".join(quoted(c.name) for c in TABLES[table])
                self.conn.execute(
                    f"INSERT INTO {table} SELECT {names} FROM read_json(?, format='newline_delimited', "
                    f"columns={{{types}}})",
                    [str(path)],
                )

    def counts(self) -> dict[str, int]:
        return {name: int(self.conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]) for name in [*TABLES, *VIEWS]}

    def query(self, sql: str) -> Result:
        started = time.perf_counter()
        try:
            cursor = self.conn.execute(sql)
            columns = [d[0] for d in cursor.description] if cursor.description else []
            rows = cursor.fetchall() if cursor.description else []
        except duckdb.Error as error:
            raise QueryError(str(error)) from None
        return Result(columns, rows, time.perf_counter() - started)
