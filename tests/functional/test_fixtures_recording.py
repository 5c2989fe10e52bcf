"""`sandbox.fixtures` on the session emulator: the recorded events are real and small.

Marked slow (about 8 s: every mapping of the recording deployment has a 1 s batching
window); `make fixtures` runs the same code on its own emulator.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from bootstrap import api
from sandbox import fixtures
from sandbox.lake import stream_records
from tests.fixtures import event_names


@pytest.mark.slow
def test_record_saves_small_real_events_of_each_kind(emulator: Any, tmp_path: Path) -> None:
    prefix = f"fx{uuid.uuid4().hex[:8]}"
    lines: list[str] = []
    try:
        paths = fixtures.record(tmp_path, endpoint=emulator, prefix=prefix, say=lines.append)
    finally:
        settings, functions = fixtures._deployment(emulator, prefix, "http://127.0.0.1:9/deliveries")
        api.destroy(settings, functions=functions)
    assert sorted(p.stem for p in paths) == [n for n in event_names() if "_recorded_" in n]
    events = {p.stem: json.loads(p.read_text()) for p in paths}
    assert all(1 <= len(e["Records"]) <= fixtures.MAX_RECORDS for e in events.values())
    ttl = [r for r in stream_records(events["dynamodb_recorded_ttl_remove"]) if r.get("userIdentity")]
    assert [r["userIdentity"]["principalId"] for r in ttl] == ["dynamodb.amazonaws.com"]
    assert ttl[0] in stream_records(events["kinesis_recorded_ttl_remove"])
    kinesis = events["kinesis_recorded_clicks"]["Records"][0]
    assert kinesis["eventSourceARN"].endswith(f":stream/{prefix}-fanout")
    assert kinesis["invokeIdentityArn"].endswith(f":role/{prefix}-lambda-role")
    assert {r["eventName"] for r in stream_records(events["dynamodb_recorded_clicks"])} >= {"INSERT", "MODIFY"}
