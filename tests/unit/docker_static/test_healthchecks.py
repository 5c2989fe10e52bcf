"""The compose healthchecks' Python one-liners, run for real against real or stub servers.

Docker runs each as ``python -c <code>`` inside the container and reads its exit
code; here the same code runs with the address swapped for a local one.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sandbox.httpsink import HttpSink
from tests.unit.docker_static.compose import (
    COMPOSE_FILE,
    EMULATOR_FILE,
    healthcheck_code,
    load,
)


def run_check(code: str, container_address: str, address: str) -> int:
    assert container_address in code, f"{container_address} not in the healthcheck"
    done = subprocess.run(
        [sys.executable, "-c", code.replace(container_address, address)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return done.returncode


class _InitReady(BaseHTTPRequestHandler):
    body: dict[str, Any] | None = None

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path != "/_localstack/init/ready" or self.server.body is None:  # type: ignore[attr-defined]
            self.send_error(404)
            return
        data = json.dumps(self.server.body).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def fake_localstack() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _InitReady)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


LOCALSTACK_CASES = [
    ({"completed": True, "scripts": []}, 0),
    ({"completed": True, "scripts": [{"stage": "READY", "name": "a.sh", "state": "SUCCESSFUL"}]}, 0),
    ({"completed": False, "scripts": []}, 1),
    ({"completed": True, "scripts": [{"stage": "READY", "name": "a.sh", "state": "ERROR"}]}, 1),
    ({"completed": True, "scripts": [{"stage": "READY", "name": "a.sh", "state": "RUNNING"}]}, 1),
    (None, 1),  # 404: an image without the init endpoint is not ready
]


@pytest.mark.parametrize(("body", "expected"), LOCALSTACK_CASES)
def test_localstack_check_passes_only_when_init_completed(
    fake_localstack: ThreadingHTTPServer, body: dict[str, Any] | None, expected: int
) -> None:
    fake_localstack.body = body  # type: ignore[attr-defined]
    code = healthcheck_code(load(COMPOSE_FILE)["services"]["localstack"])
    port = fake_localstack.server_address[1]
    result = run_check(code, "127.0.0.1:4566", f"127.0.0.1:{port}")
    assert (result == 0) == (expected == 0), f"exit {result} for {body}"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_localstack_check_fails_while_nothing_listens() -> None:
    code = healthcheck_code(load(COMPOSE_FILE)["services"]["localstack"])
    assert run_check(code, "127.0.0.1:4566", f"127.0.0.1:{_closed_port()}") != 0


def test_httpsink_check_against_the_real_sink() -> None:
    code = healthcheck_code(load(COMPOSE_FILE)["services"]["httpsink"])
    with HttpSink(port=0) as sink:
        assert run_check(code, "127.0.0.1:8088", f"127.0.0.1:{sink.port}") == 0
    assert run_check(code, "127.0.0.1:8088", f"127.0.0.1:{_closed_port()}") != 0


def test_emulator_check_against_the_real_emulator(emulator: Any) -> None:
    code = healthcheck_code(load(EMULATOR_FILE)["services"]["emulator"])
    address = emulator.endpoint_url.removeprefix("http://")
    assert run_check(code, "127.0.0.1:4566", address) == 0
