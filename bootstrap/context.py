"""What every resource module gets: the topology, the target, clients, the package, progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bootstrap.clients import client
from bootstrap.packaging import Package, cached_package
from bootstrap.settings import Settings
from bootstrap.target import Target
from bootstrap.topology import Topology
from bootstrap.waiters import Timeouts

#: Receives one human-readable line per step ("creating table clicks-events").
Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class Wiring:
    """ARNs one resource needs from another: read after apply, predicted for a plan.

    ``table_stream_arn`` is None when the table's stream does not exist yet or this
    apply replaces it (a new stream view type means a new stream ARN).
    """

    role_arn: str
    failure_queue_arn: str
    kinesis_stream_arn: str
    table_stream_arn: str | None = None

    @classmethod
    def from_topology(cls, topology: Topology) -> Wiring:
        return cls(
            role_arn=topology.role_arn,
            failure_queue_arn=topology.failure_queue_arn,
            kinesis_stream_arn=topology.kinesis_stream_arn,
        )


@dataclass
class Context:
    settings: Settings
    topology: Topology
    target: Target
    progress: Progress = _silent
    timeouts: Timeouts = field(default_factory=Timeouts)
    package_builder: Callable[[], Package] = cached_package
    current_step: str = ""
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """The shared client for ``service`` (tests put fakes into ``_clients`` first)."""
        if service not in self._clients:
            self._clients[service] = client(service, self.settings)  # cached per endpoint and region
        return self._clients[service]

    @cached_property
    def package(self) -> Package:
        """The function zip, built once per run and only when a function needs comparing."""
        self.step("building the function package")
        return self.package_builder()

    def step(self, message: str) -> None:
        """Record what we are doing (error messages name it) and report it."""
        self.current_step = message
        self.progress(message)
