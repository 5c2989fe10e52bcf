"""docker-compose.yml is complete and wired the way LocalStack needs it (no engine needed)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.unit.docker_static.compose import (
    COMPOSE_FILE,
    EMULATOR_FILE,
    SERVICES_FILE,
    STACK_FILES,
    command,
    environment,
    interpolate,
    load,
    load_plain,
    option,
    variables,
)

PINNED_LOCALSTACK = "localstack/localstack:4.14.0"


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return load(COMPOSE_FILE)


@pytest.fixture(scope="module")
def spec(raw: dict[str, Any]) -> dict[str, Any]:
    """The file as a user who sets no variable gets it."""
    return interpolate(raw)


@pytest.fixture(scope="module")
def services(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["services"]


def test_the_services_exist(services: dict[str, Any]) -> None:
    assert set(services) == {"localstack", "lambda-runtime", "bootstrap", "httpsink", "producer"}


def test_the_prepulled_runtime_is_the_one_localstack_runs_our_functions_in(services: dict[str, Any]) -> None:
    from bootstrap.topology import LAMBDA_RUNTIME

    language, version = re.fullmatch(r"([a-z]+)(\d+\.\d+)", LAMBDA_RUNTIME).groups()  # type: ignore[union-attr]
    # LocalStack's naming: public.ecr.aws/lambda/<language>:<version>.
    assert services["lambda-runtime"]["image"] == f"public.ecr.aws/lambda/{language}:{version}"
    assert _condition(services["bootstrap"], "lambda-runtime") == "service_completed_successfully"
    assert services["lambda-runtime"]["network_mode"] == "none"


def test_localstack_image_is_pinned_and_overridable(raw: dict[str, Any], services: dict[str, Any]) -> None:
    assert services["localstack"]["image"] == PINNED_LOCALSTACK
    assert variables(raw["services"]["localstack"]["image"]) == {"LOCALSTACK_IMAGE"}
    assert interpolate(raw["services"]["localstack"]["image"], {"LOCALSTACK_IMAGE": "x/y:1"}) == "x/y:1"


def test_no_image_floats(services: dict[str, Any]) -> None:
    for name, service in services.items():
        image = service["image"]
        assert ":" in image.rsplit("/", 1)[-1], f"{name}: {image} has no tag"
        assert not image.endswith(":latest"), f"{name}: {image} is not pinned"


def test_auth_token_is_passed_through_not_set(raw: dict[str, Any]) -> None:
    env = environment(raw["services"]["localstack"])
    assert "LOCALSTACK_AUTH_TOKEN" in env
    # No value: compose passes the shell's value when set, and nothing otherwise.
    assert env["LOCALSTACK_AUTH_TOKEN"] in (None, "${LOCALSTACK_AUTH_TOKEN}", "${LOCALSTACK_AUTH_TOKEN:-}")


def test_every_published_port_is_bound_to_loopback(services: dict[str, Any]) -> None:
    published = [(name, port) for name, s in services.items() for port in s.get("ports", [])]
    assert published, "nothing is published"
    for name, port in published:
        assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{name}: {port!r}"
    ports = {name: port for name, port in published}
    assert ports["localstack"] == "127.0.0.1:4566:4566"
    assert ports["httpsink"] == "127.0.0.1:8088:8088"


def test_localstack_mounts_the_docker_socket_and_a_state_volume(spec: dict[str, Any]) -> None:
    volumes = spec["services"]["localstack"]["volumes"]
    sources = {volume.split(":")[1]: volume.split(":")[0] for volume in volumes}  # target -> source
    assert sources["/var/run/docker.sock"] == "/var/run/docker.sock"
    state = sources["/var/lib/localstack"]
    assert state in spec["volumes"], f"/var/lib/localstack should be a named volume, got {state!r}"


def test_localstack_gets_the_warm_up_hook(spec: dict[str, Any]) -> None:
    hooks = [v for v in spec["services"]["localstack"]["volumes"] if ":/etc/localstack/init/ready.d/" in v]
    assert len(hooks) == 1, hooks
    source, target, mode = hooks[0].split(":")
    assert (COMPOSE_FILE.parent / source).is_file(), f"{source} does not exist"
    assert target.endswith(".py") and mode == "ro"


def test_lambda_network_is_the_networks_real_name(raw: dict[str, Any], spec: dict[str, Any]) -> None:
    lambda_network = environment(spec["services"]["localstack"])["LAMBDA_DOCKER_NETWORK"]
    named = {key: net.get("name") for key, net in spec["networks"].items()}
    assert lambda_network in named.values(), f"{lambda_network!r} is none of {named}"
    key = next(key for key, name in named.items() if name == lambda_network)
    # Both derive from one variable, so overriding it keeps them equal.
    raw_network = raw["networks"][key]["name"]
    raw_lambda = environment(raw["services"]["localstack"])["LAMBDA_DOCKER_NETWORK"]
    env = {name: "renamed-net" for name in variables(raw_network)}
    assert interpolate(raw_network, env) == interpolate(raw_lambda, env) == "renamed-net"
    # LocalStack and the sink the Lambdas POST to are on it.
    for service in ("localstack", "httpsink"):
        assert key in spec["services"][service]["networks"], f"{service} is not on {key}"


def test_localstack_settings_the_pipeline_relies_on(services: dict[str, Any]) -> None:
    env = environment(services["localstack"])
    assert env["DYNAMODB_REMOVE_EXPIRED_ITEMS"] == "1"
    assert env["DOCKER_HOST"] == "unix:///var/run/docker.sock"


def test_localstack_healthcheck_waits_for_init_ready(services: dict[str, Any]) -> None:
    check = services["localstack"]["healthcheck"]
    code = check["test"][-1]
    assert "/_localstack/init/ready" in code and "completed" in code and "SUCCESSFUL" in code
    assert "start_period" in check and "retries" in check


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name in ("localstack", "httpsink"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def _condition(service: dict[str, Any], dependency: str) -> str:
    depends_on = service["depends_on"]
    assert isinstance(depends_on, dict), "depends_on needs the long form to carry conditions"
    return str(depends_on[dependency]["condition"])


def test_start_order_waits_for_readiness_and_bootstrap_success(services: dict[str, Any]) -> None:
    assert _condition(services["bootstrap"], "localstack") == "service_healthy"
    assert _condition(services["producer"], "bootstrap") == "service_completed_successfully"
    assert _condition(services["producer"], "httpsink") == "service_healthy"
    assert services["bootstrap"].get("restart", "no") == "no", "bootstrap is one-shot"


def test_commands_match_the_module_clis(services: dict[str, Any]) -> None:
    assert command(services["bootstrap"]) == ["python", "-m", "bootstrap", "apply"]
    assert command(services["httpsink"])[:3] == ["python", "-m", "sandbox.httpsink"]
    assert option(command(services["httpsink"]), "--host") == "0.0.0.0"
    assert command(services["producer"])[:3] == ["python", "-m", "producer"]


def test_producer_knobs_come_from_the_environment(raw: dict[str, Any], services: dict[str, Any]) -> None:
    argv_raw = command(raw["services"]["producer"])
    for flag in ("--rate", "--count", "--seed"):
        assert variables(option(argv_raw, flag)), f"{flag} is not taken from an environment variable"
        assert option(command(services["producer"]), flag), f"{flag} has no demo default"


def test_bootstrap_gives_the_lambdas_the_sinks_service_url(services: dict[str, Any]) -> None:
    env = environment(services["bootstrap"])
    port = option(command(services["httpsink"]), "--port")
    assert env["SANDBOX_HTTP_SINK_URL"] == f"http://httpsink:{port}/deliveries"
    assert env["AWS_ENDPOINT_URL"] == "http://localstack:4566"


def test_python_services_share_one_image_built_here(services: dict[str, Any]) -> None:
    images = {services[name]["image"] for name in ("bootstrap", "httpsink", "producer")}
    assert len(images) == 1
    for name in ("bootstrap", "httpsink", "producer"):
        build = services[name]["build"]
        assert build["context"] == "." and build["dockerfile"] == "Dockerfile"
        assert services[name].get("init") is True, f"{name}: no init, so SIGTERM waits for the kill"
    for name in ("bootstrap", "producer"):
        assert environment(services[name])["AWS_ENDPOINT_URL"] == "http://localstack:4566"


# --- the emulator variant (a stack of its own, sharing docker-compose.services.yml) ---------


@pytest.fixture(scope="module")
def emulator_services() -> dict[str, Any]:
    return interpolate(load(EMULATOR_FILE))["services"]


def test_emulator_stack_has_the_same_services_with_our_endpoint(emulator_services: dict[str, Any]) -> None:
    assert set(emulator_services) == {"emulator", "bootstrap", "httpsink", "producer"}


def test_emulator_runs_our_image_on_the_same_port(
    emulator_services: dict[str, Any], services: dict[str, Any]
) -> None:
    service = emulator_services["emulator"]
    argv = command(service)
    assert argv[:3] == ["python", "-m", "emulator"]
    assert option(argv, "--host") == "0.0.0.0"
    port = option(argv, "--port")
    assert service["ports"] == services["localstack"]["ports"] == [f"127.0.0.1:4566:{port}"]
    assert service["image"] == services["bootstrap"]["image"]
    assert service.get("init") is True


def test_emulator_gets_neither_the_docker_socket_nor_localstack_settings(emulator_services: dict[str, Any]) -> None:
    service = emulator_services["emulator"]
    assert not any("docker.sock" in volume for volume in service.get("volumes", [])), "no Docker socket for the emulator"
    assert not {"LAMBDA_DOCKER_NETWORK", "DOCKER_HOST", "LOCALSTACK_AUTH_TOKEN"} & set(environment(service))
    assert "/_emulator/health" in service["healthcheck"]["test"][-1]


def test_emulator_stack_keeps_its_state_on_a_volume(emulator_services: dict[str, Any]) -> None:
    """The snapshot and the sink's journal on one named volume: a container stopped or killed and
    started again resumes (the restart and endpoint-kill chaos scenarios on Docker rely on it)."""
    spec = interpolate(load(EMULATOR_FILE))
    mounts = {name: dict(reversed(v.split(":")[:2]) for v in emulator_services[name]["volumes"])
              for name in ("emulator", "httpsink")}  # target -> source
    state_dir = "/home/sandbox/.sandbox"
    assert mounts["emulator"][state_dir] == mounts["httpsink"][state_dir] in spec["volumes"]
    assert option(command(emulator_services["emulator"]), "--snapshot").startswith(state_dir + "/")
    assert environment(emulator_services["httpsink"])["SANDBOX_HTTP_SINK_JOURNAL"].startswith(state_dir + "/")


def test_emulator_stack_points_the_services_at_its_endpoint(emulator_services: dict[str, Any]) -> None:
    for name in ("bootstrap", "producer"):
        assert environment(emulator_services[name])["AWS_ENDPOINT_URL"] == "http://emulator:4566", name
    assert _condition(emulator_services["bootstrap"], "emulator") == "service_healthy"
    assert _condition(emulator_services["producer"], "bootstrap") == "service_completed_successfully"


def test_the_sandbox_services_are_defined_once(services: dict[str, Any], emulator_services: dict[str, Any]) -> None:
    shared = load_plain(SERVICES_FILE)["services"]
    for path in STACK_FILES:
        for name in ("httpsink", "bootstrap", "producer"):
            service = load_plain(path)["services"][name]
            assert service["extends"] == {"file": SERVICES_FILE.name, "service": name}, f"{path.name}: {name}"
            assert "command" not in service and "image" not in service, f"{path.name}: {name} redefines it"
    for name in ("httpsink", "bootstrap", "producer"):
        assert command(services[name]) == command(emulator_services[name]) == command(interpolate(shared[name]))


def test_files_load_in_compose_v1_too() -> None:
    """What Docker Compose v1.29 refuses: a top-level `name`, `!reset`/`!override`, extending a `depends_on`."""
    for path in (*STACK_FILES, SERVICES_FILE):
        tags = re.findall(r"^[^#\n]*:\s*(!reset|!override)\b", path.read_text(), re.M)
        assert not tags, f"{path.name}: {tags}"
        assert "name" not in load_plain(path), f"{path.name}: top-level name (v1 rejects it; `make` passes -p)"
    for name, service in load_plain(SERVICES_FILE)["services"].items():
        assert "depends_on" not in service, f"{name}: v1 cannot extend a service with depends_on"
