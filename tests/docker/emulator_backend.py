"""Our emulator in Docker as an end-to-end backend: ``SandboxContainer`` from the project image.

The same Backend interface as tests/e2e/backends.py. The endpoint and the HTTP sink
run in one container (``python -m sandbox.serve``); the function workers run in it
too, so consumer B posts to the sink on the container's loopback, while the test
process reaches both through the mapped ports.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.docker.engine import require_engine, require_project_image

#: What the functions inside the container POST to.
IN_CONTAINER_SINK_URL = "http://127.0.0.1:8088/deliveries"


@dataclass
class DockerEmulatorBackend:
    endpoint_url: str
    sink_base_url: str
    http_sink_url: str = IN_CONTAINER_SINK_URL
    region: str = "us-east-1"
    name: str = "docker-emulator"

    def deliveries(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.sink_base_url}/deliveries", timeout=10) as response:
            found = json.load(response)
        assert isinstance(found, list), found
        return found

    def expire_ttl_now(self) -> int:
        request = urllib.request.Request(f"{self.endpoint_url}/_aws/dynamodb/expired", method="DELETE")
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(json.load(response)["ExpiredItems"])


@contextmanager
def docker_emulator_backend() -> Iterator[DockerEmulatorBackend]:
    """Skips where no engine answers; a missing image that cannot be built fails, naming `make images`."""
    require_engine()
    from sandbox.testing import SandboxContainer

    with SandboxContainer(require_project_image()) as container:
        yield DockerEmulatorBackend(endpoint_url=container.get_url(), sink_base_url=container.get_sink_url())
