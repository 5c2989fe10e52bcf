"""The project image, from the repository's one Dockerfile, on the local base, offline.

Built through the Docker SDK (the engine's build API, the legacy builder: no
buildx needed) so each Dockerfile step is reported as it starts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox.images.errors import ImageBuildError
from sandbox.images.names import BASE_IMAGE, PROJECT_IMAGE

Say = Callable[[str], None]
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")


def build_project(docker: Any, context: Path, say: Say, *, offline: bool = True, tag: str = PROJECT_IMAGE,
                  no_cache: bool = False) -> tuple[int, int]:
    """Build ``tag``; returns (steps that ran, steps taken from the cache).

    ``offline``: on the local base with the wheelhouse (no network); else the
    Dockerfile's defaults (the pinned Python image, PyPI), as a user with a registry builds it.
    """
    ran = cached = 0
    started = time.monotonic()
    previous = _image_id(docker, tag)
    stream = docker.api.build(
        path=str(context), tag=tag, rm=True, forcerm=True, decode=True, nocache=no_cache, pull=False,
        buildargs={"BASE_IMAGE": BASE_IMAGE, "PIP_OFFLINE": "1"} if offline else {},
    )
    last_lines: list[str] = []
    step = ""
    pending = ""  # a step's line, said only once it turns out not to come from the cache
    for chunk in stream:
        if "error" in chunk:
            detail = (chunk.get("errorDetail") or {}).get("message") or chunk["error"]
            tail = " | ".join(line for line in last_lines[-3:] if line)
            raise ImageBuildError(
                f"docker build of {tag} failed at {step or 'the start'}: {detail.strip()[:300]}"
                + (f" (last output: {tail[:300]})" if tail else ""),
                "run `make images` again after fixing that; `make images FORCE=1` rebuilds everything",
            )
        text = chunk.get("stream", "")
        for line in text.splitlines():
            line = line.strip()
            found = _STEP.match(line)
            if found:
                step = f"step {found.group(1)}/{found.group(2)}"
                # Only steps that do work are said (FROM/ENV/… take no time, cached steps none either).
                doing = found.group(3).split()[0].upper() in ("RUN", "COPY", "ADD")
                pending = f"project image: {step} {found.group(3)[:90]}" if doing else ""
            elif line.startswith("---> Using cache"):
                cached += 1
                pending = ""
            elif line.startswith("---> Running in"):
                ran += 1
            if pending and line and not found and not line.startswith("---> Using cache"):
                say(f"{pending}  [{time.monotonic() - started:.0f} s]")
                pending = ""
            if line and not found and not line.startswith("--->"):
                last_lines.append(line)
                del last_lines[:-5]
    _drop_replaced(docker, previous, _image_id(docker, tag))
    return ran, cached


def _image_id(docker: Any, tag: str) -> str | None:
    import docker as docker_sdk

    try:
        return str(docker.images.get(tag).id)
    except docker_sdk.errors.ImageNotFound:
        return None


def _drop_replaced(docker: Any, previous: str | None, current: str | None) -> None:
    """Remove the image a rebuild replaced (and its layers no other image uses), so rebuilds do not pile up.

    Only that image: the untagged image of the dependencies stage is the layer cache
    that keeps a code change from reinstalling the dependencies, and stays.
    """
    if previous is None or previous == current:
        return
    try:
        docker.images.remove(previous, noprune=False)
    except Exception:  # noqa: BLE001 - still used by a container, or gone: nothing to clean
        pass


def image_size_mb(docker: Any, tag: str) -> float:
    return float(docker.images.get(tag).attrs["Size"]) / 1e6
