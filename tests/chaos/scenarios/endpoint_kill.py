"""The AWS endpoint killed under the producer, then brought back.

The endpoint's listening server is shut down mid-run (the data behind it stays, as
when a LocalStack container's port goes away and returns): the producer's next write
fails to connect and the run aborts. Then: does the producer's message say which
writes are unknown, is the manifest it managed to store consistent with the table
(every id it lists was written), and does every listed write reach every sink?
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from emulator.server import EndpointServer
from tests.chaos import census
from tests.chaos.harness import Pipeline, Row, embedded, finish

KILL_AFTER_S = 2.0


def _restart_endpoint(pipeline: Pipeline, down_s: float) -> None:
    """Stop the emulator's HTTP server and serve the same app again on the same port."""
    emulator = pipeline.stack.emulator
    old = emulator.server
    app, (host, port) = old._server.app, old._server.server_address[:2]
    old.stop()
    time.sleep(down_s)
    emulator.server = EndpointServer(app, host, port)
    emulator.server.start()


def _items_of_run(pipeline: Pipeline, run_id: str) -> set[str]:
    """The table's items of the run (a scan, not the producer's word)."""
    topology, ddb = pipeline.topology, pipeline.client("dynamodb")
    found: set[str] = set()
    for page in ddb.get_paginator("scan").paginate(TableName=topology.table_name):
        for item in page["Items"]:
            if item.get("run_id", {}).get("S") == run_id:
                found.add(item[topology.table_key]["S"])
    return found


def run(small: bool) -> Row:
    # Small: a 3 s outage the producer's own retries ride out; full: 20 s, past them.
    clicks, rate, down_s = (400, 150.0, 3.0) if small else (3000, 300.0, 20.0)
    row = Row("endpoint-kill" + (" (small)" if small else ""))
    with embedded() as pipeline:
        outcome: dict[str, Any] = {}
        run_id = f"chaos-endpoint-{int(time.time())}"

        def producer() -> None:
            try:
                outcome["summary"] = pipeline.produce(clicks, rate=rate, delete_ratio=0.0, run_id=run_id)
            except Exception as error:  # noqa: BLE001 - the user-visible failure is the point
                outcome["error"] = error

        thread = threading.Thread(target=producer)
        thread.start()
        time.sleep(KILL_AFTER_S if not small else 1.0)
        _restart_endpoint(pipeline, down_s)
        thread.join()
        s3 = pipeline.client("s3")
        header_status = "?"
        try:
            plan = census.planned(s3, pipeline.topology.data_lake_bucket, run_id)
            header = json.loads(s3.get_object(Bucket=pipeline.topology.data_lake_bucket, Key=f"manifests/{run_id}.json")["Body"].read())
            header_status = header["status"]
        except Exception as error:  # noqa: BLE001
            row.message = f"no manifest readable after the endpoint came back: {error}"
            return row
        table = _items_of_run(pipeline, run_id)
        listed = set(plan)
        finish(row, pipeline, plan, [run_id], timeout=120)
    said = str(outcome.get("error") or f"completed: {outcome['summary'].written} clicks")
    unknown = table - listed
    consistent = listed <= table
    row.ok = row.ok and consistent and not unknown
    row.message = (f"endpoint down {down_s:.0f} s mid-run; producer said: {said!r}; manifest status {header_status}, lists {len(listed)} clicks, all in the "
                   f"table: {'yes' if consistent else 'NO'}; {len(unknown)} click(s) in the table the manifest does not "
                   f"list (writes the producer's message does not name); {row.message}")
    return row
