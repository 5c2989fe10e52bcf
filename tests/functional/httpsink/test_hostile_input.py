"""Regression tests for what the fuzzer (tests/functional/test_fuzz_api.py) found in the HTTP sink:
each once dropped the connection unanswered, answered in HTML, recorded junk, or held a thread forever."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from sandbox.httpsink import HttpSink
from tests.rawhttp import exchange, split_response


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    with HttpSink() as running:
        yield running


def _post(path: str, body: bytes, key: str | None = "k") -> bytes:
    headers = f"Idempotency-Key: {key}\r\n" if key else ""
    return f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body


@pytest.mark.parametrize("path", ["/deliveries", "/faults"])
def test_json_nested_past_the_parser_is_a_400(sink: HttpSink, path: str) -> None:
    # a RecursionError once killed the handler thread: the connection closed with no answer
    status, headers, body = split_response(exchange(sink.port, _post(path, b"[" * 100_000)))
    assert (status, headers["content-type"]) == (400, "application/json")
    assert "not JSON" in body.decode()
    assert sink.deliveries() == []


def test_a_body_cut_short_is_not_recorded(sink: HttpSink) -> None:
    # the client promises 100 bytes, sends '{}' and stops sending: '{}' was once recorded as a delivery
    raw = b"POST /deliveries HTTP/1.1\r\nHost: x\r\nIdempotency-Key: cut\r\nContent-Length: 100\r\n\r\n{}"
    status, _, body = split_response(exchange(sink.port, raw, half_close=True))
    assert status == 400 and "body ended after 2 of its 100 bytes" in body.decode()
    assert sink.deliveries() == []


@pytest.mark.parametrize(
    ("raw", "status"),
    [(b"GARBAGE\r\n\r\n", 400), (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
     (b"GET /health HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n", 431)],
    ids=["no method", "line too long", "too many headers"],
)
def test_malformed_requests_get_json_not_html(sink: HttpSink, raw: bytes, status: int) -> None:
    answer_status, headers, body = split_response(exchange(sink.port, raw))
    assert (answer_status, headers["content-type"]) == (status, "application/json")
    assert json.loads(body)["error"]


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "TRACE", "BREW"])
def test_any_method_gets_a_json_405_or_404(sink: HttpSink, method: str) -> None:
    # these once got http.server's 501 HTML page
    status, headers, body = split_response(exchange(sink.port, f"{method} /health HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
    assert (status, headers["content-type"]) == (405, "application/json")
    if method != "HEAD":
        assert json.loads(body) == {"error": f"{method} not allowed on /health"}
    status, _, _ = split_response(exchange(sink.port, f"{method} /nowhere HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
    assert status == 404


def test_a_fault_status_must_be_a_whole_number(sink: HttpSink) -> None:
    status, _, body = split_response(exchange(sink.port, _post("/faults", b'{"status": 503.0}', key=None)))
    assert status == 400 and "status must be one of" in body.decode()
    assert sink.state.faults.status == 503 and isinstance(sink.state.faults.status, int)


def test_a_stalled_half_request_is_closed_after_the_request_timeout() -> None:
    with HttpSink(request_timeout=0.5) as sink, socket.create_connection(("127.0.0.1", sink.port), timeout=10) as sock:
        sock.sendall(b"POST /deliveries HTTP/1.1\r\nIdempotency-Key: k\r\nContent-Length: 50\r\n\r\n{\"a\"")
        assert sock.recv(1024) == b""  # closed by the sink, well before our 10 s
        assert sink.deliveries() == []
