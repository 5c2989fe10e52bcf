"""The AWS endpoint killed under the producer, then brought back.

The endpoint's listening server is shut down mid-run (the data behind it stays, as
when a LocalStack container's port goes away and comes back; on Docker the endpoint
container is stopped, taking its final snapshot onto its volume, and started again
on it, see tests/chaos/docker_stack.py): the producer's writes
fail to connect and, past its retries, the run aborts; its manifest (in S3 behind the
same endpoint) cannot be saved either. Checked: the producer's message names a file
listing exactly the writes the stored manifest cannot tell about (in flight, and
acknowledged since the last save); the stored manifest is consistent (every click it
lists is in the table); every write, listed or in that file, reaches every sink once;
and `sandbox verify`, which knows only the stored manifest, answers as that manifest
warrants: "partial" (exit 3) for a header the abort could not update from "running",
"not reconciled" (exit 1, naming the unlisted clicks) for a saved one that lacks ids.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

from tests.chaos import census
from tests.chaos.harness import Pipeline, Row, finish, started

KILL_AFTER_S = 2.0
_EVENT = {"clicks": "INSERT", "updated": "MODIFY", "deleted": "REMOVE"}


def _table(pipeline: Pipeline, run_id: str) -> dict[str, dict[str, Any]]:
    """The table's items of the run (a scan, not the producer's word)."""
    topology, ddb = pipeline.topology, pipeline.client("dynamodb")
    found = {}
    for page in ddb.get_paginator("scan").paginate(TableName=topology.table_name):
        for item in page["Items"]:
            if item.get("run_id", {}).get("S") == run_id:
                found[item[topology.table_key]["S"]] = item
    return found


def _unsaved(message: str) -> dict[str, Any]:
    """The file the producer's message names (empty when it names none)."""
    match = re.search(r"listed in (\S+\.json)", message)
    return json.loads(Path(match.group(1)).read_text()) if match else {}


def _whole_plan(stored: dict[str, list[str]], unsaved: dict[str, Any], table: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """What the run really wrote: the stored manifest, the acknowledged writes it lacks, and
    the in-flight writes the table shows were applied."""
    plan = {uuid: list(names) for uuid, names in stored.items()}
    for kind, uuids in unsaved.get("acknowledged", {}).items():
        for uuid in uuids:
            plan.setdefault(uuid, []).append(_EVENT[kind])
    for op in unsaved.get("unknown", []):
        item = table.get(op["uuid"])
        applied = item is not None and (op["op"] != "update" or "updated" in item)
        if applied:
            plan.setdefault(op["uuid"], []).append(_EVENT["clicks" if op["op"] == "put" else "updated"])
    return {uuid: sorted(set(names), key=list(_EVENT.values()).index) for uuid, names in plan.items()}


def run(small: bool, backend: str = "embedded") -> Row:
    # Both outages outlast the producer's own retries (8 attempts, backoff capped at 2 s: ~5 s).
    clicks, rate, down_s = (400, 150.0, 10.0) if small else (3000, 300.0, 20.0)
    row = Row("endpoint-kill" + (" (small)" if small else ""), backend=backend)
    run_id = f"chaos-endpoint-{int(time.time())}"
    outcome: dict[str, Any] = {}
    with started(backend) as pipeline:

        def producer() -> None:
            try:
                outcome["summary"] = pipeline.produce(clicks, rate=rate, delete_ratio=0.0, run_id=run_id)
            except Exception as error:  # noqa: BLE001 - the user-visible failure is the point
                outcome["error"] = error

        thread = threading.Thread(target=producer)
        thread.start()
        time.sleep(1.0 if small else KILL_AFTER_S)
        outage = pipeline.stack.endpoint_outage(down_s)
        thread.join()
        said = str(outcome["error"]) if "error" in outcome else f"completed: {outcome['summary'].written} clicks"
        s3, bucket = pipeline.client("s3"), pipeline.topology.data_lake_bucket
        stored = census.planned(s3, bucket, run_id)
        status = json.loads(s3.get_object(Bucket=bucket, Key=f"manifests/{run_id}.json")["Body"].read())["status"]
        unsaved = _unsaved(said)
        table = _table(pipeline, run_id)
        plan = _whole_plan(stored, unsaved, table)
        short = set(plan) - set(stored)
        # Batches whose retries ran out while the endpoint was down wait in the failure queue.
        queued, redrive = pipeline.retries_then_redrive(plan, 60 if small else 120)
        # verify knows only the stored manifest: a header left "running" (the abort could not be
        # saved) is a partial run (exit 3); a complete or aborted one lacking ids is not reconciled (1).
        expected = 3 if status == "running" else (1 if short else 0)
        finish(row, pipeline, plan, [run_id], timeout=180, expect_verify=expected)
    row.failed_batches = queued
    consistent = set(stored) <= set(table)
    exact = set(table) <= set(plan)
    row.ok = row.ok and consistent and exact
    row.message = (f"{outage}; producer said: {said!r}; stored manifest ({status}) lists "
                   f"{len(stored)} clicks, all in the table: {'yes' if consistent else 'NO'}; the table holds "
                   f"{len(table) - len(set(table) & set(stored))} more, all named by the producer: "
                   f"{'yes' if exact else 'NO'}; {queued} batch(es) exhausted their retries during the outage"
                   f"{'; ' + redrive if redrive else ''}; {row.message}")
    return row
