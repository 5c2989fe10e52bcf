"""LocalStack in Docker as an end-to-end backend (testcontainers), with the HTTP sink beside it.

``with localstack_backend() as backend:`` yields the same Backend interface as the
embedded backend in tests/e2e/backends.py, so one e2e test body runs on both.

Layout: one throwaway Docker network (its real name is LAMBDA_DOCKER_NETWORK),
LocalStack on it (alias ``localstack``, the Docker socket mounted so it can start
the Lambda containers), and the HTTP sink from our own image on it (alias
``httpsink``). The Lambda containers join that network, so consumer B posts to
``http://httpsink:8088/deliveries`` and reaches LocalStack through the
AWS_ENDPOINT_URL LocalStack injects. The test process reaches both through
their mapped ports. Nothing depends on how the host is reached from a container
(docker0 gateway on Linux, host.docker.internal on Docker Desktop, firewalls),
so it works the same on Linux, Docker Desktop and remote engines.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.backend import DEFAULT_LOCALSTACK_IMAGE
from tests.docker.engine import require_engine, require_localstack, require_project_image

LOCALSTACK_ALIAS = "localstack"
SINK_ALIAS = "httpsink"
SINK_PORT = 8088
EDGE_PORT = 4566
REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_SOCKET = "/var/run/docker.sock"
#: The READY hook the compose file mounts; copied in here (works with remote engines too).
WARM_UP_HOOK = REPO_ROOT / "docker" / "localstack" / "ready.d" / "warm_services.py"
#: What LocalStack runs python3.12 functions in (pulled up front, as compose's lambda-runtime does).
LAMBDA_RUNTIME_IMAGE = "public.ecr.aws/lambda/python:3.12"

#: First start downloads DynamoDB Local and kinesis-mock inside LocalStack: be patient, but bounded.
READY_TIMEOUT_S = 300.0
SINK_TIMEOUT_S = 60.0


class BackendError(RuntimeError):
    """The Docker backend did not come up; the message says which part and what it last saw."""


@dataclass
class LocalStackBackend:
    """What an e2e test needs from a running backend (the Backend interface of tests/e2e)."""

    endpoint_url: str  # the test process's URL for LocalStack (mapped port)
    http_sink_url: str  # what the Lambda containers POST to (service alias on the shared network)
    sink_base_url: str  # the test process's URL for the same sink (mapped port)
    region: str = "us-east-1"
    name: str = "localstack"
    network_name: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery the HTTP sink recorded, in arrival order."""
        result = _http_json("GET", f"{self.sink_base_url}/deliveries")
        assert isinstance(result, list), f"GET /deliveries returned {result!r}"
        return result

    def reset_deliveries(self) -> None:
        _http_json("DELETE", f"{self.sink_base_url}/deliveries")

    def expire_ttl_now(self) -> int:
        """Have LocalStack delete expired items now (its TTL worker runs hourly otherwise).

        Returns LocalStack's count of deleted items. Their REMOVE stream records
        carry no ``userIdentity`` (unlike AWS and the embedded emulator).
        """
        result = _http_json("DELETE", f"{self.endpoint_url}/_aws/dynamodb/expired")
        return int(result["ExpiredItems"])

    def environ(self) -> dict[str, str]:
        """Environment for bootstrap/producer run from the test process against this backend."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "SANDBOX_HTTP_SINK_URL": self.http_sink_url,
            **self.extra_env,
        }


@contextmanager
def localstack_backend(
    image: str | None = None,
    region: str = "us-east-1",
    ready_timeout: float = READY_TIMEOUT_S,
) -> Iterator[LocalStackBackend]:
    """Start the sink and LocalStack on a fresh network; tear everything down afterwards.

    Skips the calling test (with the reason) when no Docker engine answers.
    """
    require_engine()
    image = image or os.environ.get("LOCALSTACK_IMAGE") or DEFAULT_LOCALSTACK_IMAGE
    require_localstack(image)  # one skip reason, naming the image and how to provide it
    sandbox_image = require_project_image()  # built offline by `make images`; a failure if it cannot be
    # Imported here: the module stays importable (and collectable) without testcontainers.
    from testcontainers.community.localstack import LocalStackContainer
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.labels import LABEL_SESSION_ID, SESSION_ID
    from testcontainers.core.network import Network

    with ExitStack() as stack:
        network = Network().create()
        stack.callback(_remove_network, network)

        _pull(LAMBDA_RUNTIME_IMAGE)
        sink = (
            DockerContainer(sandbox_image)
            .with_command(
                ["python", "-m", "sandbox.httpsink", "--host", "0.0.0.0", "--port", str(SINK_PORT)]
            )
            .with_network(network)
            .with_network_aliases(SINK_ALIAS)
            .with_exposed_ports(SINK_PORT)
        )
        stack.enter_context(sink)

        localstack = (
            LocalStackContainer(image=image, region_name=region)
            .with_network(network)
            .with_network_aliases(LOCALSTACK_ALIAS)
            # The host side may differ (rootless Docker): DOCKER_SOCKET, as in docker-compose.yml.
            .with_volume_mapping(os.environ.get("DOCKER_SOCKET", DOCKER_SOCKET), DOCKER_SOCKET, "rw")
            .with_env("DOCKER_HOST", f"unix://{DOCKER_SOCKET}")
            .with_env("LAMBDA_DOCKER_NETWORK", network.name)
            # Label the Lambda containers like testcontainers' own, so its reaper (Ryuk)
            # removes them even if this process dies before the graceful stop below.
            .with_env("LAMBDA_DOCKER_FLAGS", f"-l {LABEL_SESSION_ID}={SESSION_ID}")
            .with_env("LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT", "120")
            .with_env("DYNAMODB_REMOVE_EXPIRED_ITEMS", "1")
            .with_copy_into_container(
                WARM_UP_HOOK.read_bytes(), f"/etc/localstack/init/ready.d/{WARM_UP_HOOK.name}"
            )
        )
        token = os.environ.get("LOCALSTACK_AUTH_TOKEN")
        if token:
            localstack.with_env("LOCALSTACK_AUTH_TOKEN", token)
        stack.callback(_stop_gracefully, localstack)
        localstack.start(timeout=ready_timeout)  # waits for the "Ready." log line

        endpoint_url = localstack.get_url()
        sink_base_url = (
            f"http://{sink.get_container_host_ip()}:{sink.get_exposed_port(SINK_PORT)}"
        )
        _wait_until(
            lambda: _init_ready(endpoint_url),
            what=f"LocalStack init/ready at {endpoint_url}",
            timeout=ready_timeout,
        )
        _wait_until(
            lambda: _answers(f"{sink_base_url}/health"),
            what=f"the HTTP sink at {sink_base_url}",
            timeout=SINK_TIMEOUT_S,
        )
        yield LocalStackBackend(
            endpoint_url=endpoint_url,
            http_sink_url=f"http://{SINK_ALIAS}:{SINK_PORT}/deliveries",
            sink_base_url=sink_base_url,
            region=region,
            network_name=network.name,
        )


def _pull(image: str) -> None:
    """Pull unless present: LocalStack pulls it on create_function, which bootstrap waits for."""
    import docker

    client = docker.from_env()
    try:
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            client.images.pull(image)
    finally:
        client.close()


def _stop_gracefully(localstack: Any) -> None:
    """SIGTERM first, so LocalStack removes its Lambda containers; then testcontainers removes it."""
    try:
        localstack.get_wrapped_container().stop(timeout=30)
    except Exception:  # noqa: BLE001 - never started, or already gone: removal below still runs
        pass
    localstack.stop()


def _remove_network(network: Any) -> None:
    """Remove the network, first removing anything still on it (left-over Lambda containers).

    Everything on this throwaway network was started by this backend (or by its
    LocalStack), so nothing else can be hit.
    """
    import docker

    docker_network = network._unwrap_network  # the docker SDK's Network model behind testcontainers'
    try:
        docker_network.reload()
        for container in docker_network.containers:
            container.remove(force=True)
        docker_network.remove()
    except docker.errors.NotFound:
        pass


def _init_ready(endpoint_url: str) -> tuple[bool, str]:
    """The compose healthcheck's rule: READY stage completed and every init script SUCCESSFUL."""
    try:
        body = _http_json("GET", f"{endpoint_url}/_localstack/init/ready")
    except (OSError, ValueError, BackendError) as error:
        return False, str(error)
    scripts = body.get("scripts") or []
    ok = body.get("completed") is True and all(s.get("state") == "SUCCESSFUL" for s in scripts)
    return ok, json.dumps(body)[:300]


def _answers(url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200, f"HTTP {response.status}"
    except (OSError, ValueError) as error:
        return False, str(error)


def _wait_until(check: Callable[[], tuple[bool, str]], *, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    seen = "nothing yet"
    while time.monotonic() < deadline:
        done, seen = check()
        if done:
            return
        time.sleep(0.5)
    raise BackendError(f"timed out after {timeout:g} s waiting for {what} (last seen: {seen})")


def _http_json(method: str, url: str) -> Any:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            data = response.read()
    except urllib.error.HTTPError as error:
        raise BackendError(f"{method} {url} answered HTTP {error.code}: {error.read()[:200]!r}") from None
    return json.loads(data) if data.strip() else None
