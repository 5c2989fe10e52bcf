"""What a test needs from a running sandbox, whichever way it runs: URLs, clients, deliveries."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import Topology

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


@dataclass(frozen=True)
class SandboxEndpoint:
    """A running sandbox seen from the test process."""

    url: str  # the AWS endpoint (boto3's endpoint_url)
    sink_url: str | None  # the HTTP sink's base URL, when one runs
    region: str = "us-east-1"

    def environ(self) -> dict[str, str]:
        """Environment for code under test that reads AWS_ENDPOINT_URL & co."""
        env = {"AWS_ENDPOINT_URL": self.url, "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region,
               **CREDENTIALS}
        if self.sink_url:
            env["SANDBOX_HTTP_SINK_URL"] = f"{self.sink_url}/deliveries"
        return env

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.environ())

    def client(self, service: str) -> Any:
        """A boto3 client aimed at the sandbox (`sandbox.client("dynamodb")`)."""
        return client(service, self.settings)

    @property
    def topology(self) -> Topology:
        """The pipeline's resource names (table, buckets, stream, functions)."""
        return Topology.from_settings(self.settings)

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery the HTTP sink recorded (consumer B's posts), in arrival order."""
        if not self.sink_url:
            raise RuntimeError("no HTTP sink runs with this sandbox (start it with pipeline=True)")
        with urllib.request.urlopen(f"{self.sink_url}/deliveries", timeout=10) as response:
            found = json.load(response)
        assert isinstance(found, list)
        return found


@contextmanager
def embedded_sandbox(*, pipeline: bool = True, region: str = "us-east-1") -> Iterator[SandboxEndpoint]:
    """The emulator and the sink in this process on free ports; the pipeline deployed when asked."""
    from bootstrap import api
    from emulator import Emulator
    from emulator.config import EmulatorConfig
    from sandbox.httpsink import HttpSink

    with HttpSink(port=0) as sink:
        emulator = Emulator(EmulatorConfig.from_env({}, port=0, region=region)).start()
        try:
            found = SandboxEndpoint(emulator.endpoint_url, sink.base_url, region)
            if pipeline:
                api.apply(found.settings)
            yield found
        finally:
            emulator.stop()
