"""Where an end-to-end test runs: one small interface, one implementation per backend.

The e2e test body is written once against ``Backend``; ``embedded`` runs the
pipeline on the in-process emulator with the HTTP sink in a thread, ``localstack``
(tests/docker/localstack_backend.py) on LocalStack in Docker with the sink in a
container. Whatever differs between them stays behind these five members.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from emulator import Emulator
from sandbox.httpsink import HttpSink


class Backend(Protocol):
    name: str
    endpoint_url: str  # what boto3 in the test process uses
    http_sink_url: str  # what the functions POST to (may differ from the test's view of the sink)
    region: str

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery the HTTP sink recorded, in arrival order: ``{"key", "received_at", "body", ...}``."""
        ...

    def expire_ttl_now(self) -> int:
        """Delete expired items now instead of waiting for the backend's TTL sweeper."""
        ...


@dataclass
class EmbeddedBackend:
    """The emulator in this process; functions run as local worker processes, so loopback works."""

    emulator: Emulator
    sink: HttpSink
    name: str = "embedded"
    region: str = "us-east-1"

    @property
    def endpoint_url(self) -> str:
        return self.emulator.endpoint_url

    @property
    def http_sink_url(self) -> str:
        return self.sink.url

    def deliveries(self) -> list[dict[str, Any]]:
        return self.sink.deliveries()

    def expire_ttl_now(self) -> int:
        return self.emulator.sweep_ttl_now()


@contextmanager
def embedded_backend(emulator: Emulator) -> Iterator[EmbeddedBackend]:
    with HttpSink(port=0) as sink:
        yield EmbeddedBackend(emulator=emulator, sink=sink)
