"""The HTTP sink over real sockets: routes, status codes, faults, latency, lifecycle."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sandbox.httpsink import HttpSink


def request(
    url: str, method: str = "GET", data: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    raw = data if isinstance(data, bytes) or data is None else json.dumps(data).encode()
    req = urllib.request.Request(url, data=raw, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def post(sink: HttpSink, key: str | None, data: Any) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return request(sink.url, "POST", data, headers)


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    with HttpSink() as running:
        yield running


def test_url_and_health(sink: HttpSink) -> None:
    assert sink.url == f"http://127.0.0.1:{sink.port}/deliveries"
    status, headers, answer = request(f"{sink.base_url}/health")
    assert (status, answer) == (200, {"status": "ok"})
    assert headers["Content-Type"] == "application/json"


def test_idempotent_delivery(sink: HttpSink) -> None:
    row = {"event_id": "e1", "uuid": "u1", "ts": int(time.time() * 1000)}
    status, _, first = post(sink, "e1", row)
    assert (status, first["status"], first["attempts"]) == (201, "created", 1)
    status, _, second = post(sink, "e1", row)
    assert (status, second["status"], second["attempts"]) == (200, "duplicate", 2)

    status, _, deliveries = request(sink.url)
    assert status == 200
    assert [(d["key"], d["attempts"], d["body"]) for d in deliveries] == [("e1", 2, row)]
    assert isinstance(deliveries[0]["received_at"], int)
    _, _, stats = request(f"{sink.base_url}/stats")
    assert (stats["deliveries"], stats["requests"], stats["duplicates"]) == (1, 2, 1)
    assert stats["latency_ms"]["count"] == 1


@pytest.mark.parametrize(
    ("key", "data", "error"),
    [
        (None, {"a": 1}, "missing Idempotency-Key header"),
        ("k", b"{not json", "body is not JSON"),
        ("k", [1, 2], "body must be a JSON object"),
        ("k", b"", "body is not JSON"),
    ],
)
def test_junk_gets_400(sink: HttpSink, key: str | None, data: Any, error: str) -> None:
    status, _, answer = post(sink, key, data)
    assert (status, answer["message"]) == (400, error)
    assert sink.deliveries() == []
    assert sink.stats()["rejected"] == 1


def test_faults_over_http(sink: HttpSink) -> None:
    # GIVEN every delivery set to fail WHEN one is posted THEN 503 with Retry-After, nothing kept
    status, _, faults = request(f"{sink.base_url}/faults", "POST", {"fail_ratio": 1.0})
    assert (status, faults) == (200, {"fail_ratio": 1.0, "latency_ms": 0, "status": 503})
    status, headers, _ = post(sink, "k1", {"n": 1})
    assert status == 503 and headers["Retry-After"] == "0"
    assert sink.deliveries() == []
    # WHEN the fault is lifted and the sender retries THEN recorded once, with both attempts
    request(f"{sink.base_url}/faults", "POST", {"fail_ratio": 0})
    assert post(sink, "k1", {"n": 1})[0] == 201
    assert [d["attempts"] for d in sink.deliveries()] == [2]
    assert request(f"{sink.base_url}/faults", "POST", {"fail_ratio": 7})[0] == 400


def test_latency_is_added(sink: HttpSink) -> None:
    sink.set_faults(latency_ms=300)
    started = time.monotonic()
    assert post(sink, "slow", {})[0] == 201
    assert time.monotonic() - started >= 0.3


def test_delete_resets(sink: HttpSink) -> None:
    post(sink, "k", {})
    assert request(sink.url, "DELETE")[0] == 200
    assert sink.deliveries() == [] and sink.stats()["requests"] == 0


def test_unknown_routes_and_methods_answer_json(sink: HttpSink) -> None:
    assert request(f"{sink.base_url}/nope")[0] == 404
    status, _, answer = request(sink.url, "PUT", {"a": 1})
    assert status == 405 and "PUT not allowed" in answer["error"]


def test_parallel_senders_each_key_once(sink: HttpSink) -> None:
    keys = [f"e{i}" for i in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda k: post(sink, k, {"k": k})[0], keys * 3))
    assert statuses.count(201) == 40 and statuses.count(200) == 80
    assert sorted(d["key"] for d in sink.deliveries()) == sorted(keys)


def test_stop_frees_the_port_and_any_interface_url_uses_loopback() -> None:
    sink = HttpSink("0.0.0.0").start()
    port = sink.port
    assert sink.url == f"http://127.0.0.1:{port}/deliveries"
    assert post(sink, "k", {})[0] == 201
    sink.stop()
    sink.stop()  # idempotent
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    with HttpSink(port=port) as again:  # the port is free again
        assert again.port == port


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_module_serves_until_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.httpsink", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until ready (or the process dies)
        assert line == f"HTTP sink ready at http://127.0.0.1:{port}/deliveries\n"
        assert request(f"http://127.0.0.1:{port}/health")[0] == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_module_reports_a_taken_port() -> None:
    with HttpSink() as taken:
        port = taken.port
        completed = subprocess.run(
            [sys.executable, "-m", "sandbox.httpsink", "--port", str(port)],
            capture_output=True, text=True, timeout=30,
        )
    assert completed.returncode == 1
    assert completed.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in completed.stderr
