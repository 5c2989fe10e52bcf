"""The click pipeline end to end, once per backend (issue 3's acceptance scenario).

bootstrap apply -> producer: 500 clicks, 100 updates, 50 deletes -> wait until
delivered -> the data lake holds exactly those 650 stream records, consumer A's
rows are 650, the HTTP sink recorded 650 distinct deliveries in per-item order
-> an expired click is backed up under deleted/ -> a second apply changes
nothing -> destroy removes everything. Run with ``-s`` to see progress and the
measured times.
"""

from __future__ import annotations

import time
import uuid as uuids
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import bootstrap
from bootstrap.clients import client
from bootstrap.plan import Action
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from bootstrap.waiters import wait_until
from producer.manifest import load
from producer.options import ProduceOptions, new_run_id
from producer.run import produce
from tests.e2e.backends import Backend
from tests.e2e.observe import (
    BucketReader,
    Latency,
    analytics_rows,
    event_names_in_order,
    json_lines,
    single_record,
    lake_records,
    sink_deliveries,
)

CLICKS, UPDATES, DELETES = 500, 100, 50
EXPECTED = CLICKS + UPDATES + DELETES
#: How long delivery may take: seconds on the emulator, Lambda cold starts on LocalStack.
DEADLINE_S = {"embedded": 60.0, "docker-emulator": 120.0, "localstack": 600.0}


def reporter() -> Callable[[str], None]:
    started, last = time.monotonic(), [""]

    def say(line: str) -> None:
        if line != last[0]:
            print(f"  [{time.monotonic() - started:6.2f}s] {line}", flush=True)
            last[0] = line

    return say


def test_clicks_flow_to_every_sink_exactly_once(backend: Backend) -> None:
    say = reporter()
    settings = Settings(
        endpoint_url=backend.endpoint_url,
        region=backend.region,
        prefix=f"e2e{uuids.uuid4().hex[:6]}",
        http_sink_url=backend.http_sink_url,
    )
    deadline = DEADLINE_S.get(backend.name, 600.0)
    applied = bootstrap.apply(settings, progress=say)
    topology = Topology.from_settings(settings, applied.target.account_id)
    try:
        s3 = client("s3", settings)
        lake = BucketReader(s3, topology.data_lake_bucket, "raw/")
        analytics = BucketReader(s3, topology.analytics_bucket, "clicks/", parse=json_lines)

        # WHEN the producer writes 500 clicks, updates 100 and deletes 50 (observed while it runs)
        run_id = new_run_id()
        options = ProduceOptions(
            count=CLICKS, update_ratio=UPDATES / CLICKS, delete_ratio=DELETES / CLICKS, seed=3, run_id=run_id
        )
        done_at: dict[str, float] = {}
        with ThreadPoolExecutor(max_workers=1) as pool:
            started = time.time()
            producing = pool.submit(produce, settings, options)

            def delivered() -> tuple[bool, str]:
                if producing.done() and producing.exception() is not None:
                    raise producing.exception()  # type: ignore[misc]
                lake.refresh()
                analytics.refresh()
                counts = {
                    "data lake": len(lake_records(lake, run_id)),
                    "consumer A": len(analytics_rows(analytics, run_id)),
                    "HTTP sink": len(sink_deliveries(backend.deliveries(), run_id)),
                }
                now = time.time()
                for sink, count in counts.items():
                    if count >= EXPECTED:
                        done_at.setdefault(sink, now)
                state = ", ".join(f"{sink} {count}/{EXPECTED}" for sink, count in counts.items())
                say(f"{'producer done; ' if producing.done() else ''}{state}")
                return producing.done() and len(done_at) == len(counts), state

            wait_until(
                delivered, what=f"{EXPECTED} records in every sink", timeout=deadline, interval=0.2, max_interval=0.2
            )
            summary = producing.result()
        manifest = load(settings, run_id)
        assert (len(manifest.clicks), len(manifest.updated), len(manifest.deleted)) == (CLICKS, UPDATES, DELETES)
        assert not manifest.failed and manifest.expected_stream_records == EXPECTED
        expected_order = manifest.expected_events()

        # THEN the data lake holds exactly those 650 stream records, each once, in stream order per item
        records = lake_records(lake, run_id)
        event_ids = [r["eventID"] for r, _ in records]
        assert len(event_ids) == len(set(event_ids)) == EXPECTED
        by_sequence = sorted(records, key=lambda pair: int(pair[0]["dynamodb"]["SequenceNumber"]))
        assert event_names_in_order(
            [(r["dynamodb"]["Keys"]["uuid"]["S"], r["eventName"]) for r, _ in by_sequence]
        ) == expected_order

        # AND consumer A wrote 650 rows, the same events
        rows = analytics_rows(analytics, run_id)
        assert len(rows) == EXPECTED and {row["event_id"] for row in rows} == set(event_ids)

        # AND the HTTP sink recorded 650 distinct deliveries, keyed by event id, in per-item order
        deliveries = sink_deliveries(backend.deliveries(), run_id)
        assert len({d["key"] for d in deliveries}) == len(deliveries) == EXPECTED
        assert all(d["key"] == d["body"]["event_id"] for d in deliveries)
        arrival = [(d["body"]["uuid"], d["body"]["event_name"]) for d in deliveries]
        assert event_names_in_order(arrival) == expected_order

        # Measured: ts is the write's own time for INSERT and MODIFY (a REMOVE carries the previous ts)
        latency = {
            "data lake": Latency.of(
                [
                    seen * 1000 - int(r["dynamodb"]["NewImage"]["ts"]["N"])
                    for r, seen in records
                    if r["eventName"] != "REMOVE"
                ]
            ),
            "consumer A": Latency.of([r["processed_at"] - r["ts"] for r in rows if r["event_name"] != "REMOVE"]),
            "HTTP sink": Latency.of(
                [d["received_at"] - d["body"]["ts"] for d in deliveries if d["body"]["event_name"] != "REMOVE"]
            ),
        }
        print(
            f"\n[{backend.name}] {EXPECTED} records end to end in {max(done_at.values()) - started:.2f}s "
            f"(producer {summary.elapsed_s:.2f}s)"
        )
        for sink in ("data lake", "consumer A", "HTTP sink"):
            print(
                f"[{backend.name}]   {sink:<10} all {EXPECTED} after {done_at[sink] - started:5.2f}s; "
                f"write-to-sink latency {latency[sink]}"
            )
        print(f"[{backend.name}]   (data lake latency observed by polling every 0.2 s: an upper bound)")

        # AND an expired click ends up under deleted/ (the backup of expired documents)
        short = produce(settings, ProduceOptions(count=1, ttl_seconds=1, seed=4))
        (expired,) = load(settings, short.run_id).clicks
        table = client("dynamodb", settings)

        def swept() -> tuple[bool, str]:
            removed = backend.expire_ttl_now()
            gone = "Item" not in table.get_item(TableName=topology.table_name, Key={"uuid": {"S": expired}})
            return gone, f"item present, last sweep removed {removed}"

        wait_until(swept, what=f"TTL to delete click {expired}", timeout=30.0, interval=0.25, max_interval=1.0)
        backup = BucketReader(s3, topology.data_lake_bucket, "deleted/", parse=single_record)

        def backed_up() -> tuple[bool, str]:
            backup.refresh()
            keys = [k for k in backup.bodies if f"/{expired}/" in k]
            return bool(keys), f"{len(backup.bodies)} objects under deleted/, none for {expired}"

        wait_until(backed_up, what=f"deleted/ backup of {expired}", timeout=deadline, interval=0.2, max_interval=1.0)
        say(f"expired click {expired} backed up under deleted/")
        (key,) = [k for k in backup.items if f"/{expired}/" in k]
        (document,) = backup.items[key]
        assert document["eventName"] == "REMOVE" and document["dynamodb"]["OldImage"]["uuid"]["S"] == expired

        # AND a second apply changes nothing
        again = bootstrap.apply(settings)
        assert again.is_noop, again.pending
    finally:
        destroyed = bootstrap.destroy(settings, progress=say)

    # AND destroy removed everything: a fresh plan would create all of it again
    assert {c.action for c in destroyed.changes} == {Action.DELETE}
    assert {c.action for c in bootstrap.plan(settings).changes} == {Action.CREATE}
