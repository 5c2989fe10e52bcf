"""Is a local TCP port free, and where does an URL listen: checked before starting servers."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from sandbox.errors import ConfigError, PortInUse

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


def host_port(url: str, default_port: int) -> tuple[str, int]:
    """``("127.0.0.1", 4566)`` from ``http://127.0.0.1:4566/...``."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ConfigError(f"{url!r} is not an http://host:port URL")
    return parts.hostname, parts.port or default_port


def is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOCAL_HOSTS


def port_free(host: str, port: int) -> bool:
    """True if nothing listens on ``host:port`` (a bind test, as the server will do)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def require_free(host: str, port: int, what: str, **why: str) -> None:
    """Raise ``PortInUse`` (``why``: its ``choose``) unless the port can be bound."""
    if not port_free(host, port):
        raise PortInUse(host, port, what, **why)


def wait_free(host: str, port: int, timeout: float) -> bool:
    """Wait until the port can be bound again; False at the deadline."""
    deadline = time.monotonic() + timeout
    while not port_free(host, port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True if something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
