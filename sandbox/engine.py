"""Small questions to the Docker engine, through the Docker SDK, each bounded in time.

Is an image here, could it be pulled, which containers does a compose project have
and in what state: what the backend choice, `sandbox compose` and the error
messages need. A missing engine or SDK is an answer (None / False), not a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROBE_TIMEOUT_S = 5.0


def client(timeout: float = PROBE_TIMEOUT_S) -> Any | None:
    """A connected Docker client, or None when no engine answers."""
    try:
        import docker

        found = docker.from_env(timeout=timeout)
        found.ping()
        return found
    except Exception:  # noqa: BLE001 - no SDK, no socket, refused, timeout: all mean "no engine"
        return None


def image_present(docker: Any, image: str) -> bool:
    import docker as docker_sdk

    try:
        docker.images.get(image)
        return True
    except docker_sdk.errors.ImageNotFound:
        return False


def pullable(docker: Any, image: str) -> tuple[bool, str]:
    """Whether a registry answers for ``image`` (its manifest, no download), and what it said if not."""
    try:
        docker.images.get_registry_data(image)
        return True, f"{image} can be pulled"
    except Exception as error:  # noqa: BLE001 - DNS, auth, timeout, not found: said as is
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return False, _short_registry_error(text)


def _short_registry_error(text: str) -> str:
    if "no such host" in text or "dial tcp" in text or "lookup" in text:
        return "no registry answers (offline or DNS)"
    if "pull access denied" in text or "unauthorized" in text or "denied" in text:
        return "the registry refuses it (login needed?)"
    return text[:160]


@dataclass(frozen=True)
class ContainerState:
    name: str
    service: str
    status: str  # created | running | exited | dead | ...
    exit_code: int | None
    health: str | None
    oom_killed: bool = False

    def describe(self) -> str:
        if self.status == "running":
            return f"{self.name} running" + (f" ({self.health})" if self.health else "")
        how = "killed (SIGKILL or out of memory)" if self.exit_code == 137 else f"exit {self.exit_code}"
        if self.oom_killed:
            how = "killed: out of memory"
        return f"{self.name} {self.status}, {how}"


def project_containers(docker: Any, project: str) -> list[ContainerState]:
    """Every container of a compose project (by compose's labels, both CLI generations set them)."""
    found = docker.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
    return [_state(container) for container in found]


def _state(container: Any) -> ContainerState:
    attrs = container.attrs
    state = attrs.get("State", {})
    labels = attrs.get("Config", {}).get("Labels") or {}
    return ContainerState(
        name=container.name,
        service=labels.get("com.docker.compose.service", ""),
        status=state.get("Status", container.status),
        exit_code=state.get("ExitCode") if state.get("Status") in ("exited", "dead") else None,
        health=(state.get("Health") or {}).get("Status"),
        oom_killed=bool(state.get("OOMKilled")),
    )


def project_leftovers(docker: Any, project: str, network: str) -> list[str]:
    """What of a compose project still exists: containers, its network, its volumes (empty after `down -v`)."""
    left = [f"container {c.name}" for c in project_containers(docker, project)]
    left += [f"network {n.name}" for n in docker.networks.list(names=[network]) if n.name == network]
    volumes = docker.volumes.list(filters={"label": f"com.docker.compose.project={project}"})
    left += [f"volume {v.name}" for v in volumes]
    return left
