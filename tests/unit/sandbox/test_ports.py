"""Port checks before starting servers: a taken port is a user error with the fix."""

from __future__ import annotations

import socket

import pytest

from sandbox import ports
from sandbox.errors import ConfigError, PortInUse


def test_a_listening_port_is_taken_and_freed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert not ports.port_free("127.0.0.1", port)
        assert ports.answers("127.0.0.1", port)
        with pytest.raises(PortInUse, match=f"port {port}"):
            ports.require_free("127.0.0.1", port, "the AWS endpoint")
    assert ports.wait_free("127.0.0.1", port, timeout=2)
    assert not ports.answers("127.0.0.1", port, timeout=0.2)


def test_urls() -> None:
    assert ports.host_port("http://127.0.0.1:4566", 1) == ("127.0.0.1", 4566)
    assert ports.host_port("http://localhost/deliveries", 8088) == ("localhost", 8088)
    assert ports.is_local("http://localhost:1") and not ports.is_local("https://dynamodb.us-east-1.amazonaws.com")
    with pytest.raises(ConfigError):
        ports.host_port("not a url", 1)
