"""A function log stream's older events packed (emulator/log_store.py): CloudWatch Logs answers
exactly as moto's own list does, in a fraction of the heap."""

from __future__ import annotations

import gc
import pickle
import time
import tracemalloc
import uuid
from typing import Any

import boto3
import pytest
from moto.logs.models import LogEvent, logs_backends

from emulator import log_store
from emulator.log_store import CHUNK_EVENTS, PackedLogEvents
from emulator.moto_adapter import MotoAdapter

ACCOUNT, REGION, GROUP = "123456789012", "us-east-1", "/aws/lambda/clicks-archive"
START_MS = int(time.time() * 1000) - 3_600_000  # CloudWatch refuses events over 14 days old


def _lines(count: int, first: int = 0) -> list[tuple[int, str]]:
    """An invocation's four lines at a time, 10 ms apart, as a function writes them."""
    lines = []
    for n in range(first, first + count):
        request = uuid.UUID(int=n // 4)
        kind = ("START RequestId: {} Version: $LATEST", '{{"level":"INFO","message":"archived batch","id":"{}"}}',
                "END RequestId: {}", "REPORT RequestId: {}\tDuration: 2.10 ms")[n % 4]
        lines.append((START_MS + 10 * n, kind.format(request)))
    return lines


def _events(count: int) -> list[LogEvent]:
    return [LogEvent(START_MS, {"timestamp": ts, "message": message}) for ts, message in _lines(count)]


def _rows(events: Any) -> list[tuple[int, int, str, int]]:
    return [(e.ingestion_time, e.timestamp, e.message, e.event_id) for e in events]


def test_packed_events_read_back_in_order_with_their_ids(moto_aws: None) -> None:
    events = _events(5 * CHUNK_EVENTS + 17)
    packed = PackedLogEvents(events[:100])
    packed += events[100:]
    assert len(packed) == len(events) and packed
    assert _rows(packed) == _rows(events)
    assert _rows(pickle.loads(pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL))) == _rows(events)
    assert not PackedLogEvents()
    assert packed.time_range() == (events[0].timestamp, events[-1].timestamp)


@pytest.mark.parametrize("count", [0, 1, CHUNK_EVENTS - 1, CHUNK_EVENTS, CHUNK_EVENTS + 5, 3 * CHUNK_EVENTS + 3, 700])
def test_dropping_the_oldest_keeps_exactly_the_newest(count: int) -> None:
    events = _events(4 * CHUNK_EVENTS + 40)
    packed = PackedLogEvents(events)
    dropped = packed.drop_oldest(count)
    assert _rows(packed) == _rows(events[count:])
    assert dropped == sum(len(e.message) for e in events[:count])
    packed += _events(CHUNK_EVENTS)  # still takes new events after a partial chunk
    assert len(packed) == len(events) - count + CHUNK_EVENTS


def test_a_window_unpacks_only_the_chunks_that_overlap_it() -> None:
    events = _events(6 * CHUNK_EVENTS)
    packed = PackedLogEvents(events)
    newest = events[-1].timestamp
    window = packed.window(newest, None)
    assert len(window) < 2 * CHUNK_EVENTS  # the live events only
    assert [e for e in _rows(packed) if e[1] >= newest] == [e for e in _rows(window) if e[1] >= newest]
    middle = events[2 * CHUNK_EVENTS + 3].timestamp, events[3 * CHUNK_EVENTS + 9].timestamp
    window = packed.window(*middle)
    inside = [e for e in _rows(window) if middle[0] <= e[1] <= middle[1]]
    assert inside == [e for e in _rows(events) if middle[0] <= e[1] <= middle[1]]
    assert len(window) < len(events) and len(packed.window(None, None)) == len(events)


def _query(client: Any, stream: str, call: str, **window: int) -> list[tuple[int, str]]:
    if call == "filter":
        answer = client.filter_log_events(logGroupName=GROUP, logStreamNames=[stream], limit=10_000, **window)
    else:
        answer = client.get_log_events(logGroupName=GROUP, logStreamName=stream, limit=10_000, startFromHead=True,
                                       **window)
    return [(event["timestamp"], event["message"]) for event in answer["events"]]


def test_cloudwatch_answers_a_packed_stream_as_moto_s_own_list(moto_aws: None) -> None:
    lines = _lines(9 * CHUNK_EVENTS + 11)
    client = boto3.client("logs", region_name=REGION)
    client.create_log_group(logGroupName=GROUP)
    client.create_log_stream(logGroupName=GROUP, logStreamName="moto")
    client.put_log_events(logGroupName=GROUP, logStreamName="moto",
                          logEvents=[{"timestamp": ts, "message": message} for ts, message in lines])
    adapter = MotoAdapter(ACCOUNT)
    for at in range(0, len(lines), 300):  # in flushes, as the log hub writes
        adapter.put_logs(REGION, GROUP, "packed", lines[at:at + 300], keep=20_000)
    assert isinstance(logs_backends[ACCOUNT][REGION].groups[GROUP].streams["packed"].events, PackedLogEvents)
    ts = [t for t, _ in lines]
    windows: list[dict[str, int]] = [{}, {"startTime": ts[-1]}, {"startTime": ts[1000], "endTime": ts[1400]},
                                     {"endTime": ts[300]}, {"startTime": ts[-1] + 1}]
    for window in windows:
        for call in ("filter", "get"):
            assert _query(client, "packed", call, **window) == _query(client, "moto", call, **window), (call, window)
    streams = {s["logStreamName"]: s for s in client.describe_log_streams(logGroupName=GROUP)["logStreams"]}
    for field in ("firstEventTimestamp", "lastEventTimestamp", "storedBytes"):
        assert streams["packed"][field] == streams["moto"][field], field
    ids = [int(e["eventId"]) for e in client.filter_log_events(logGroupName=GROUP, logStreamNames=["packed"],
                                                                limit=10_000)["events"]]
    assert ids == list(range(ids[0], ids[0] + len(lines)))  # each its own, in the order they were put
    for head in (True, False):
        assert _pages(client, "packed", head) == _pages(client, "moto", head)


def _pages(client: Any, stream: str, from_head: bool) -> list[list[tuple[int, str]]]:
    """GetLogEvents page by page (97 events each), following the tokens until they stop moving."""
    pages, token_name, kwargs = [], "nextForwardToken" if from_head else "nextBackwardToken", {}
    while True:
        answer = client.get_log_events(logGroupName=GROUP, logStreamName=stream, limit=97, startFromHead=from_head,
                                       **kwargs)
        pages.append([(e["timestamp"], e["message"]) for e in answer["events"]])
        if not answer["events"] or answer[token_name] == kwargs.get("nextToken"):
            return pages
        kwargs = {"nextToken": answer[token_name]}


def test_a_query_for_the_newest_lines_unpacks_no_chunk(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _lines(6 * CHUNK_EVENTS)
    MotoAdapter(ACCOUNT).put_logs(REGION, GROUP, "packed", lines, keep=20_000)
    unpacked: list[int] = []
    rows = log_store._Chunk.rows
    monkeypatch.setattr(log_store._Chunk, "rows", lambda chunk: unpacked.append(chunk.count) or rows(chunk))
    client = boto3.client("logs", region_name=REGION)
    newest = client.filter_log_events(logGroupName=GROUP, startTime=lines[-1][0])["events"]
    assert [(e["timestamp"], e["message"]) for e in newest] == lines[-1:] and unpacked == []
    client.describe_log_streams(logGroupName=GROUP)
    assert unpacked == []
    assert len(client.filter_log_events(logGroupName=GROUP, limit=10_000)["events"]) == len(lines) and unpacked


def test_trimming_a_packed_stream_keeps_the_newest_and_its_stored_bytes(moto_aws: None) -> None:
    adapter = MotoAdapter(ACCOUNT)
    lines = _lines(5_000)
    for at in range(0, len(lines), 250):
        adapter.put_logs(REGION, GROUP, "trimmed", lines[at:at + 250], keep=1_000)
    stream = logs_backends[ACCOUNT][REGION].groups[GROUP].streams["trimmed"]
    kept = [(e.timestamp, e.message) for e in stream.events]
    assert 1_000 <= len(kept) <= 1_100
    assert kept == lines[-len(kept):]
    assert stream.stored_bytes == sum(len(message) for _, message in kept)


def _heap_of(build: Any) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        held = build()
        gc.collect()
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del held
    return size


def test_packed_events_take_under_a_third_of_moto_s_heap(moto_aws: None) -> None:  # moto_aws: untracked models
    lines = _lines(20_000)
    plain = _heap_of(lambda: [LogEvent(START_MS, {"timestamp": ts, "message": m}) for ts, m in lines])
    packed = _heap_of(lambda: PackedLogEvents(LogEvent(START_MS, {"timestamp": ts, "message": m}) for ts, m in lines))
    assert packed * 3 < plain, (packed, plain)


def test_events_after_a_restore_are_numbered_after_the_restored_ones(moto_aws: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator import moto_state

    adapter = MotoAdapter(ACCOUNT)
    adapter.put_logs(REGION, GROUP, "packed", _lines(3 * CHUNK_EVENTS), keep=20_000)
    snapshot = moto_state.dumps(moto_state.capture(ACCOUNT))
    monkeypatch.setattr(LogEvent, "_event_id", 0)  # a new process: moto counts from 0 again
    moto_state.install(ACCOUNT, pickle.loads(snapshot))
    adapter.put_logs(REGION, GROUP, "packed", _lines(10, first=3 * CHUNK_EVENTS), keep=20_000)
    client = boto3.client("logs", region_name=REGION)
    ids = [e["eventId"] for e in client.filter_log_events(logGroupName=GROUP, limit=10_000)["events"]]
    assert len(ids) == 3 * CHUNK_EVENTS + 10 and len(set(ids)) == len(ids)
