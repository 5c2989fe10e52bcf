"""`make images`: base, wheelhouse, project image, each step timed and cached.

Two routes to the same image, from the one Dockerfile: ``offline`` (the base made
here with debootstrap, the wheelhouse downloaded on the host, no network in the
build) whenever the base can be made or is cached, else ``online`` (the pinned
Python image and PyPI) when a registry answers. Neither: an error with the fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sandbox import engine
from sandbox.images import base, project, wheelhouse
from sandbox.images.errors import ImageBuildError
from sandbox.images.names import BASE_IMAGE, PROJECT_IMAGE, USER_BASE_IMAGE

Say = Callable[[str], None]
REPO_ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path("docker") / "wheelhouse"


class Route(StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"


@dataclass
class BuildReport:
    """What `make images` did: seconds per step, and the images' sizes."""

    route: Route = Route.OFFLINE
    seconds: dict[str, float] = field(default_factory=dict)
    sizes_mb: dict[str, float] = field(default_factory=dict)
    wheels: int = 0
    steps_run: int = 0
    steps_cached: int = 0

    def summary(self) -> str:
        parts = ", ".join(f"{name} {secs:.1f} s" for name, secs in self.seconds.items())
        sizes = ", ".join(f"{tag} {size:.0f} MB" for tag, size in self.sizes_mb.items())
        return (f"images ready ({self.route} build) in {sum(self.seconds.values()):.1f} s ({parts}); {sizes}; "
                f"{self.steps_run} Dockerfile steps ran, {self.steps_cached} from cache")


def docker_client() -> Any:
    """The engine, or an ImageBuildError saying it does not answer."""
    found = engine.client(timeout=600)
    if found is None:
        raise ImageBuildError("no Docker engine answers (`docker info` fails)",
                              "start Docker; without Docker use `make up BACKEND=embedded`")
    return found


def route(docker: Any) -> tuple[Route | None, str]:
    """How the project image can be built here, and why (the reason names the fix when neither works)."""
    offline, why_offline = base.can_make(docker)
    if offline:
        return Route.OFFLINE, why_offline
    online, why_online = engine.pullable(docker, USER_BASE_IMAGE)
    if online:
        return Route.ONLINE, f"{why_offline}, but {why_online}"
    return None, f"{why_offline}, and {USER_BASE_IMAGE}: {why_online}"


def build_images(say: Say, *, force: bool = False, root: Path = REPO_ROOT) -> BuildReport:
    """Make the base, fill the wheelhouse for its Python, build the project image on it."""
    if not (root / "Dockerfile").is_file():
        raise ImageBuildError(f"no Dockerfile in {root}", "run `make images` from the repository")
    client = docker_client()
    chosen, why = route(client)
    if chosen is None:
        raise ImageBuildError(f"the project image {PROJECT_IMAGE} cannot be built here: {why}",
                              "apt-get install debootstrap and run `sudo make images`, or give Docker a registry")
    report = BuildReport(route=chosen)
    if chosen is Route.OFFLINE:
        started = time.monotonic()
        base.ensure_base(client, say, force=force)
        report.seconds["base"] = time.monotonic() - started
        python = base.base_python(client)
        started = time.monotonic()
        report.wheels = wheelhouse.ensure_wheelhouse(root / WHEELHOUSE, root / "pyproject.toml", python, say,
                                                     force=force)
        report.seconds["wheelhouse"] = time.monotonic() - started
    else:
        say(f"project image: online build ({why})")
    started = time.monotonic()
    report.steps_run, report.steps_cached = project.build_project(
        client, root, say, offline=chosen is Route.OFFLINE, no_cache=force)
    report.seconds["project"] = time.monotonic() - started
    for tag in (BASE_IMAGE, PROJECT_IMAGE) if chosen is Route.OFFLINE else (PROJECT_IMAGE,):
        report.sizes_mb[tag] = project.image_size_mb(client, tag)
    return report


def ensure_project_image(docker: Any, say: Say, *, update: bool) -> str:
    """The project image's tag, built when missing (``update``: also brought up to date with the source).

    One rule for `make up`, ``SandboxContainer`` and the Docker tests: an image that is
    here is used as it is when it cannot be rebuilt; one that is missing and cannot be
    built is an ImageBuildError naming both fixes.
    """
    present = engine.image_present(docker, PROJECT_IMAGE)
    if present and not update:
        return PROJECT_IMAGE
    if present:
        chosen, why = route(docker)
        if chosen is None:
            say(f"image: using the {PROJECT_IMAGE} that is here (it cannot be rebuilt: {why})")
            return PROJECT_IMAGE
    say(build_images(say).summary())
    return PROJECT_IMAGE


def project_image_status(docker: Any) -> tuple[bool, str]:
    """Whether the project image is here or can be built, and why (not)."""
    if engine.image_present(docker, PROJECT_IMAGE):
        return True, f"{PROJECT_IMAGE} is built"
    chosen, why = route(docker)
    if chosen is None:
        return False, f"{PROJECT_IMAGE} is not built and cannot be: {why}"
    return True, f"{PROJECT_IMAGE} will be built ({chosen}: {why})"
