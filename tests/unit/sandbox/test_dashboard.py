"""The dashboard's state (pure) and its web app (werkzeug's test client, fakes for AWS)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.test import Client

from sandbox.dashboard_app import DashboardApp, FailedBatchPeek
from sandbox.dashboard_state import ClickSeries, DashboardState
from sandbox.stats import Percentiles, Snapshot, Stage
from sandbox.trace import Hit, Trace
from sandbox.trace import Stage as TraceStage

T0 = 1_800_000_000_000  # epoch ms, on a 10 s boundary


def _row(ts_ms: int, action: str = "Search", page: str = "/search", event: str = "INSERT") -> dict[str, Any]:
    return {"event_name": event, "ts": ts_ms, "action": action, "page": page}


def test_clicks_are_bucketed_by_click_time_with_empty_buckets_as_zeros() -> None:
    series = ClickSeries()
    for row in (_row(T0), _row(T0 + 300, "ViewHome", "/"), _row(T0 + 2_500), _row(T0, event="MODIFY")):
        series.add(row)
    data = series.to_json()
    assert data["total"] == 3 and data["bucket_s"] == 1  # the MODIFY is not a click; 3 s fit in 1 s bars
    assert data["t"] == ["2027-01-15T08:00:00Z", "2027-01-15T08:00:01Z", "2027-01-15T08:00:02Z"]
    assert data["actions"] == {"Search": [1, 0, 1], "ViewHome": [1, 0, 0]}
    assert data["pages"] == {"/search": [1, 0, 1], "/": [1, 0, 0]}


def test_wider_spans_get_wider_bars() -> None:
    series = ClickSeries()
    series.add(_row(T0))
    series.add(_row(T0 + 599_000))  # ten minutes: 10 s bars (60 of them), not 600 one-second bars
    data = series.to_json()
    assert data["bucket_s"] == 10 and len(data["t"]) == 60 and data["actions"]["Search"][-1] == 1


def test_pages_beyond_the_top_ones_are_summed_as_other_and_old_seconds_dropped() -> None:
    series = ClickSeries(window_s=2)
    for index in range(12):
        series.add(_row(T0, page=f"/product/{index}"))
    series.add(_row(T0 + 1_000, page="/product/0"))
    data = series.to_json()
    assert len(data["pages"]) == 9 and sum(sum(v) for v in data["pages"].values()) == 13
    assert data["pages"]["other"][0] == 4
    series.add(_row(T0 + 2_000))  # a third second: the oldest goes
    assert len(series.to_json()["t"]) == 2 and series.total == 14


def _snapshot(at: float, p50: float) -> Snapshot:
    counts = {stage: 7 for stage in Stage}
    return Snapshot(
        at=at,
        counts=counts,
        notes={Stage.ARCHIVED: "distinct eventIDs"},
        rates={Stage.ARCHIVED: 1.25},
        latency={"consumer A": Percentiles(p50, p50 * 2, 10)},
        errors=["12:00:00 analytics: boom"],
    )


def test_state_keeps_the_latest_snapshot_and_latency_over_time() -> None:
    state = DashboardState("header")
    assert state.to_json()["ready"] is False
    state.observe(_snapshot(1_800_000_000.0, 10.0))
    state.observe(_snapshot(1_800_000_001.0, 20.0), header="new header")
    data = state.to_json()
    assert data["ready"] and data["header"] == "new header"
    archived = next(s for s in data["stages"] if s["key"] == "archived")
    assert archived == {"key": "archived", "label": Stage.ARCHIVED.value, "count": 7, "rate": 1.2, "note": "distinct eventIDs"}
    assert data["latency_history"]["sinks"]["consumer A"] == {"p50": [10.0, 20.0], "p95": [20.0, 40.0]}
    assert data["latency_history"]["sinks"]["data lake"]["p50"] == [None, None]
    assert data["errors"] == ["12:00:00 analytics: boom"]


class FakeSqs:
    def __init__(self, bodies: list[str]) -> None:
        self.bodies = bodies
        self.receives: list[dict[str, Any]] = []

    def get_queue_url(self, QueueName: str) -> dict[str, str]:  # noqa: N803 - boto3's names
        return {"QueueUrl": f"http://q/{QueueName}"}

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.receives.append(kwargs)
        return {"Messages": [{"MessageId": str(i), "Body": body} for i, body in enumerate(self.bodies)]}


FAILURE = json.dumps({
    "requestContext": {"functionArn": "arn:aws:lambda:us-east-1:0:function:clicks-http", "condition": "RetryAttemptsExhausted"},
    "KinesisBatchInfo": {"shardId": "shardId-000000000000", "startSequenceNumber": "1", "endSequenceNumber": "9",
                         "batchSize": 3, "streamArn": "arn:aws:kinesis:us-east-1:0:stream/clicks-fanout",
                         "approximateArrivalOfFirstRecord": "2026-12-06T19:00:00Z"},
})


class FakeTracer:
    def __init__(self, found: bool) -> None:
        self.found = found

    def trace(self, click: str) -> Trace:
        if click == "boom":
            raise RuntimeError("the tracer broke")
        hits = [Hit("INSERT", "e1", "seq 1")] if self.found else []
        return Trace(click, [TraceStage("consumer A (analytics)", "not found", hits)])


def _client(found: bool = True, bodies: list[str] | None = None) -> tuple[Client, FakeSqs]:
    sqs = FakeSqs(bodies or [])
    state = DashboardState("h")
    state.observe(_snapshot(1_800_000_000.0, 10.0))
    return Client(DashboardApp(state, lambda: FakeTracer(found), FailedBatchPeek(sqs, "clicks-failed-batches"))), sqs


def test_the_page_its_assets_and_plotly_from_the_wheel_are_served() -> None:
    client, _ = _client()
    page = client.get("/")
    assert page.status_code == 200 and b'src="/static/plotly.min.js"' in page.data and b"cdn" not in page.data.lower()
    assert client.get("/static/dashboard.js").status_code == 200
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and plotly.content_type.startswith("text/javascript") and len(plotly.data) > 1_000_000
    assert client.get("/static/nope.js").status_code == 404
    assert client.get("/static/..%2Fdashboard_app.py").status_code == 404
    assert client.get("/nope").status_code == 404


def test_state_includes_failed_batches_read_without_hiding_them() -> None:
    client, sqs = _client(bodies=[FAILURE, "junk"])
    data = client.get("/api/state").get_json()
    assert data["stages"][0]["count"] == 7
    assert data["failed_batches"][0] == {
        "function": "clicks-http", "condition": "RetryAttemptsExhausted",
        "batch": "kinesis shardId-000000000000 1..9 (3 records)", "first_arrival": "2026-12-06T19:00:00Z",
    }
    assert "not a failure document" in data["failed_batches"][1]["error"]
    client.get("/api/state")
    assert len(sqs.receives) == 1 and sqs.receives[0]["VisibilityTimeout"] == 0  # cached; never hidden


def test_trace_answers_json() -> None:
    client, _ = _client()
    data = client.get("/api/trace?click=abc").get_json()
    assert data["found"] is True and data["stages"][0]["hits"][0]["ident"] == "e1"
    assert client.get("/api/trace?click=").status_code == 400
    assert client.get("/api/trace?click=a/b").status_code == 400
    broken = client.get("/api/trace?click=boom")
    assert broken.status_code == 500 and broken.get_json()["error"] == "trace failed: RuntimeError: the tracer broke"
    missing, _ = _client(found=False)
    assert missing.get("/api/trace?click=abc").get_json()["found"] is False
