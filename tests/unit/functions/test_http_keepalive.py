"""Consumer B's transport keeps connections alive and survives the server closing them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from functions import _http


class _Counting(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0
    closed = threading.Event()  # set when the server closed a connection


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1  # type: ignore[attr-defined]

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers["Content-Length"]))
        close = self.headers.get("X-Close") == "yes"
        silently = self.headers.get("X-Drop") == "yes"  # like an idle timeout: no Connection header
        self.send_response(200)
        self.send_header("Content-Length", "0")
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = close or silently

    def finish(self) -> None:
        super().finish()
        self.server.closed.set()  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Counting]:
    httpd = _Counting(("127.0.0.1", 0), _Handler)
    httpd.closed = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _http._pool().clear()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    _http._pool().clear()


def _post(url: str, **headers: str) -> int:
    return _http.post_json(url, {"n": 1}, headers, timeout=5, attempts=2, deadline=time.monotonic() + 10)


def test_records_share_one_connection(server: _Counting) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}/deliveries"
    assert [_post(url) for _ in range(20)] == [200] * 20
    assert server.connections == 1


def test_a_connection_the_server_closed_is_replaced_without_an_error(server: _Counting) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}/deliveries"
    assert _post(url, **{"X-Close": "yes"}) == 200  # the server closes after answering
    assert _post(url) == 200
    assert server.connections == 2


def test_a_kept_connection_closed_while_idle_is_retried_at_once(server: _Counting, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(_http._retry, "sleep", slept.append)
    url = f"http://127.0.0.1:{server.server_address[1]}/deliveries"
    assert _post(url, **{"X-Drop": "yes"}) == 200
    assert server.closed.wait(5), "the server closed its side"
    assert _post(url) == 200
    assert server.connections == 2
    assert slept == [], "a stale connection is not a failed attempt: no backoff"
