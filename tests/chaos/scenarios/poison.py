"""Poison input: items the pipeline does not expect, written straight to the table with
boto3 in the middle of a normal run.

Expected: no shard blocks (every normal record arrives), and each poison item is kept
in the data lake (the archive stores raw stream records, whatever they hold) and named:
each consumer either turned it into a row or rejected it by its key.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from tests.chaos import census
from tests.chaos.harness import Row, finish, started


def poison_items() -> dict[str, dict[str, Any]]:
    """Key -> item (DynamoDB JSON): one per kind of surprise."""
    return {
        "poison-missing-attributes": {},
        "poison-wrong-types": {"ts": {"S": "yesterday"}, "action": {"N": "42"}, "user": {"BOOL": True},
                               "expires_at": {"S": "never"}, "run_id": {"N": "7"}},
        "poison-350kb": {"action": {"S": "ClickOnLogo"}, "blob": {"S": "x" * 350_000}},
        "poison-sets": {"tags": {"SS": ["a", "b"]}, "scores": {"NS": ["1", "2.5"]}, "raw": {"BS": [b"\x00", b"\xff"]}},
        "poison-binary": {"payload": {"B": bytes(range(256))}, "empty": {"NULL": True}},
        "poison-ключ-✓-键-🙂": {"страница": {"S": "главная"}, "页面": {"S": "首页"}},
        "poison-nested": {"doc": {"M": {"list": {"L": [{"N": "1"}, {"M": {"deep": {"BOOL": False}}}]}}}},
    }


def run(small: bool, backend: str = "embedded") -> Row:
    clicks = 200 if small else 1000
    row = Row("poison" + (" (small)" if small else ""), backend=backend)
    items = poison_items()
    with started(backend) as pipeline:
        topology, ddb = pipeline.topology, pipeline.client("dynamodb")
        summaries: list[Any] = []
        producer = threading.Thread(target=lambda: summaries.append(pipeline.produce(clicks, rate=200)))
        producer.start()
        for key, item in items.items():
            time.sleep(0.1)
            ddb.put_item(TableName=topology.table_name, Item={topology.table_key: {"S": key}, **item})
        producer.join()
        (summary,) = summaries
        finish(row, pipeline, pipeline.plan(summary.run_id), [summary.run_id], timeout=120)
        s3 = pipeline.client("s3")
        lake = {e.uuid for e in census.lake(s3, topology.data_lake_bucket, topology.table_key)}
        rows_a = {e.uuid for e in census.analytics(s3, topology.analytics_bucket)}
        rejected_a = len(census.rejected(s3, topology.analytics_bucket))
        rows_b = {e.uuid for e in census.deliveries(pipeline.sink_url)}
    kept = [k for k in items if k in lake]
    unnamed = [k for k in items if k not in rows_a and k not in rows_b and rejected_a == 0]
    row.ok = row.ok and len(kept) == len(items)
    row.message = (f"{len(items)} poison items mid-run: {len(kept)} kept in the data lake; consumer A: "
                   f"{len(set(items) & rows_a)} as rows, {rejected_a} rejected/ object(s); HTTP sink: "
                   f"{len(set(items) & rows_b)} delivered" + (f"; not named anywhere: {', '.join(unnamed)}" if unnamed else "")
                   + f"; {row.message}")
    return row
