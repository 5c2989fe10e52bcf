"""CloudWatch Logs keeps the newest events of each function's stream (moto kept all, and scans all)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from moto.logs.models import logs_backends

from emulator.logs import LogHub
from emulator.moto_adapter import MotoAdapter

REGION = "us-east-1"


def test_a_function_log_keeps_its_newest_events_and_the_file_keeps_all(tmp_path: Path) -> None:
    account = f"{uuid.uuid4().int % 10**12:012d}"  # moto's backends are process-wide: a fresh account
    hub = LogHub(MotoAdapter(account), REGION, str(tmp_path), events_kept=1_000)
    log = hub.open("clicks-archive")
    for flush in range(25):
        for n in range(100):
            log.write(f"line {flush * 100 + n}")
        hub.flush()
    hub.stop()
    events = logs_backends[account][REGION].groups[log.group].streams[log.stream].events
    assert 1_000 <= len(events) <= 1_100
    assert events[-1].message == "line 2499"
    kept = [int(event.message.split()[1]) for event in events]
    assert kept == list(range(2500 - len(events), 2500))  # the newest, in order, none skipped
    assert len((tmp_path / "clicks-archive.log").read_text().splitlines()) == 2_500


def test_zero_keeps_every_event() -> None:
    account = f"{uuid.uuid4().int % 10**12:012d}"
    hub = LogHub(MotoAdapter(account), REGION, None, events_kept=0)
    log = hub.open("clicks-fanout")
    for n in range(3_000):
        log.write(f"line {n} at {time.time()}")
    hub.flush()
    assert len(logs_backends[account][REGION].groups[log.group].streams[log.stream].events) == 3_000
