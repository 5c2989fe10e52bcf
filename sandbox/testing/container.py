"""``SandboxContainer``: the sandbox's endpoint (and pipeline, and sink) as a testcontainers container.

Runs ``python -m sandbox.serve`` from the project image: one container, a mapped
port for AWS and one for the HTTP sink. The image is built when it is missing
(offline where it must be: ``sandbox images``); a machine that cannot pull the
Ryuk reaper image gets Ryuk switched off, and the container is removed by
``stop()`` / the ``with`` block instead.
"""

from __future__ import annotations

import logging
from typing import Any

from sandbox.images.names import PROJECT_IMAGE
from sandbox.serve import READY_LINE
from sandbox.testing.endpoint import SandboxEndpoint

try:
    from testcontainers.core.config import testcontainers_config
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy
except ImportError as missing:  # pragma: no cover - a clear line instead of a bare ImportError
    raise ImportError(
        "sandbox.testing.SandboxContainer needs testcontainers: pip install 'clickstream-sandbox[testing]'"
    ) from missing

EDGE_PORT = 4566
SINK_PORT = 8088
START_TIMEOUT_S = 120.0
log = logging.getLogger(__name__)


class ImageMissing(RuntimeError):
    """The project image is not here and cannot be built from this installation."""


class SandboxContainer(DockerContainer):
    """The sandbox in Docker for a test suite (like testcontainers' ``LocalStackContainer``).

    ``pipeline=True`` deploys the click pipeline and runs the HTTP sink inside the
    container before ``start()`` returns.
    """

    def __init__(self, image: str = PROJECT_IMAGE, *, pipeline: bool = False, region: str = "us-east-1",
                 build: bool = True, start_timeout: float = START_TIMEOUT_S, **kwargs: Any) -> None:
        super().__init__(image, **kwargs)
        self.pipeline = pipeline
        self.region = region
        self._build = build
        command = ["python", "-m", "sandbox.serve", "--host", "0.0.0.0", "--port", str(EDGE_PORT),
                   "--sink-port", str(SINK_PORT), "--region", region]
        self.with_command(command + (["--pipeline"] if pipeline else []))
        self.with_exposed_ports(EDGE_PORT, SINK_PORT)
        self.with_env("AWS_REGION", region)
        self.waiting_for(LogMessageWaitStrategy(READY_LINE).with_startup_timeout(int(start_timeout)))

    def start(self) -> SandboxContainer:
        docker = self.get_docker_client().client
        _ensure_image(docker, self.image, self._build)
        _reaper_or_none(docker)
        super().start()
        return self

    # --- what a test uses -----------------------------------------------------------
    def get_url(self) -> str:
        """The AWS endpoint as the test process reaches it (``endpoint_url`` for boto3)."""
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(EDGE_PORT)}"

    def get_sink_url(self) -> str:
        """The HTTP sink's base URL as the test process reaches it (``/deliveries``, ``/stats``, ``/faults``)."""
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(SINK_PORT)}"

    @property
    def endpoint(self) -> SandboxEndpoint:
        return SandboxEndpoint(self.get_url(), self.get_sink_url(), self.region)

    def get_client(self, service: str) -> Any:
        """A boto3 client aimed at the container."""
        return self.endpoint.client(service)


def _ensure_image(docker: Any, image: str, build: bool) -> None:
    from sandbox import engine
    from sandbox.images.build import ensure_project_image
    from sandbox.images.errors import ImageBuildError

    if engine.image_present(docker, image):
        return
    if not build or image != PROJECT_IMAGE:
        raise ImageMissing(f"the image {image} is not here (fix: `make images`, or docker build -t {image} .)")
    try:
        ensure_project_image(docker, log.info, update=False)
    except ImageBuildError as error:
        raise ImageMissing(f"the image {image} is not here and cannot be built: {error.line()}") from error


def _reaper_or_none(docker: Any) -> None:
    """Keep testcontainers' Ryuk where its image can be had; switch it off where no registry answers."""
    from sandbox import engine

    if testcontainers_config.ryuk_disabled:
        return
    image = testcontainers_config.ryuk_image
    if engine.image_present(docker, image) or engine.pullable(docker, image)[0]:
        return
    log.warning("testcontainers' reaper image %s cannot be had here: Ryuk disabled, containers are removed on stop()",
                image)
    testcontainers_config.ryuk_disabled = True
