"""The endpoint keeps HTTP/1.1 connections open when it read the whole request, and closes them
otherwise (an unread body would be taken for the next request line)."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from emulator import Emulator
from emulator.server import EndpointServer

AMZ_JSON = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
                             "SignedHeaders=host, Signature=0"}


@pytest.fixture
def connection(emulator: Emulator) -> Iterator[http.client.HTTPConnection]:
    url = urlsplit(emulator.endpoint_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    yield conn
    conn.close()


def _local_port(conn: http.client.HTTPConnection) -> int:
    assert conn.sock is not None
    return int(conn.sock.getsockname()[1])


def test_moto_calls_share_one_connection(connection: http.client.HTTPConnection) -> None:
    ports = set()
    for _ in range(3):
        connection.request("POST", "/", body=b"{}", headers=AMZ_JSON)
        response = connection.getresponse()
        assert response.status == 200, response.read()
        assert "TableNames" in json.loads(response.read())
        assert response.getheader("Connection") is None
        ports.add(_local_port(connection))
    assert len(ports) == 1, "each call reused the first call's connection"


def test_a_request_without_a_body_keeps_the_connection(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "/_emulator/health")
    first = connection.getresponse()
    first.read()
    port = _local_port(connection)
    connection.request("GET", "/_emulator/health")
    second = connection.getresponse()
    assert second.status == 200 and json.loads(second.read())["edition"] == "embedded"
    assert _local_port(connection) == port


def test_an_unread_body_closes_the_connection(connection: http.client.HTTPConnection) -> None:
    # The Lambda API answers an unknown function without reading the body: the connection must
    # close, or the body's bytes would be parsed as the next request.
    connection.request("POST", "/2015-03-31/functions/no-such-function/invocations", body=b'{"GET / HTTP/1.1": 1}')
    response = connection.getresponse()
    assert response.status == 404
    response.read()
    assert response.getheader("Connection") == "close"


def test_a_client_asking_to_close_gets_a_close(connection: http.client.HTTPConnection) -> None:
    connection.request("POST", "/", body=b"{}", headers={**AMZ_JSON, "Connection": "close"})
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    assert response.getheader("Connection") == "close"


def test_stopping_the_server_closes_its_kept_alive_connections() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    server = EndpointServer(app, "127.0.0.1", 0)  # type: ignore[arg-type]
    server.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"ok"
        assert conn.sock is not None  # kept alive
        server.stop()
        # The stopped server answers nothing more on it: the connection was shut down.
        assert conn.sock.recv(1) == b""
    finally:
        conn.close()


def test_a_request_in_flight_when_the_server_stops_is_answered() -> None:
    entered = threading.Event()

    def slow(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        entered.set()
        time.sleep(0.5)  # the request being carried out while the server stops
        start_response("200 OK", [("Content-Length", "4")])
        return [b"done"]

    server = EndpointServer(slow, "127.0.0.1", 0)  # type: ignore[arg-type]
    server.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    answers: list[tuple[int, bytes, str | None]] = []

    def ask() -> None:
        conn.request("GET", "/")
        response = conn.getresponse()
        answers.append((response.status, response.read(), response.getheader("Connection")))

    asking = threading.Thread(target=ask)
    asking.start()
    try:
        assert entered.wait(5)
        server.stop()
        asking.join(5)
        # Carried out, so answered (a lost answer would make the client retry what was done),
        # and the connection closes after it.
        assert answers == [(200, b"done", "close")]
    finally:
        conn.close()


def _ok(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


def test_an_idle_kept_alive_connection_times_out_quietly_and_a_silent_one_is_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    server = EndpointServer(_ok, "127.0.0.1", 0, request_timeout=0.3)  # type: ignore[arg-type]
    server.start()
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    silent = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        with caplog.at_level(logging.DEBUG, logger="emulator.http"):
            idle.request("GET", "/")
            assert idle.getresponse().read() == b"ok"
            silent.connect()  # never sends a request line
            assert idle.sock is not None and silent.sock is not None
            assert idle.sock.recv(1) == b"" and silent.sock.recv(1) == b""  # both closed at the timeout
        timeouts = [r for r in caplog.records if r.getMessage().startswith("Request timed out")]
        assert sorted(r.levelno for r in timeouts) == [logging.DEBUG, logging.INFO]
    finally:
        idle.close()
        silent.close()
        server.stop()
