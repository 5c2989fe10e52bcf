"""The Dockerfile pins its base, runs unprivileged and caches dependencies (no engine needed)."""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass

import pytest

from tests.unit.docker_static.compose import DOCKERFILE, DOCKERIGNORE, REPO_ROOT


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def parse(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse(DOCKERFILE.read_text())


def _index(instructions: list[Instruction], keyword: str, pattern: str) -> int:
    for position, item in enumerate(instructions):
        if item.keyword == keyword and re.search(pattern, item.args):
            return position
    raise AssertionError(f"no {keyword} matching {pattern!r}")


def test_base_is_an_argument_defaulting_to_python_312_slim_by_exact_tag(instructions: list[Instruction]) -> None:
    from sandbox.images.names import USER_BASE_IMAGE

    (default,) = [i.args.split("=", 1)[1] for i in instructions if i.keyword == "ARG" and i.args.startswith("BASE_IMAGE=")]
    assert re.fullmatch(r"python:3\.12\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", default), default
    assert default == USER_BASE_IMAGE, "sandbox.images.names.USER_BASE_IMAGE must name the Dockerfile's default"
    bases = [i.args.split()[0] for i in instructions if i.keyword == "FROM"]
    assert bases and set(bases) == {"${BASE_IMAGE}"}, bases


def test_the_wheelhouse_stays_out_of_the_final_image(instructions: list[Instruction]) -> None:
    stages = [n for n, i in enumerate(instructions) if i.keyword == "FROM"]
    assert len(stages) == 2, "a dependencies stage and the final stage"
    wheelhouse = _index(instructions, "COPY", r"docker/wheelhouse/")
    assert stages[0] < wheelhouse < stages[1], "the wheelhouse is copied only into the dependencies stage"
    venv = _index(instructions, "COPY", r"^--from=dependencies /opt/sandbox ")
    assert venv > stages[1]
    offline = instructions[_index(instructions, "RUN", r"pip install .*-r requirements\.txt")].args
    assert "--no-index --find-links /tmp/wheelhouse" in offline and "PIP_OFFLINE" in offline


def test_runs_as_a_non_root_user_it_creates(instructions: list[Instruction]) -> None:
    users = [i.args for i in instructions if i.keyword == "USER"]
    assert users, "no USER: the services would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]
    created = [i.args for i in instructions if i.keyword == "RUN" and "useradd" in i.args]
    assert any(re.search(rf"\b{re.escape(user)}\b", run) for run in created), f"{user} is never created"
    last_user = max(n for n, i in enumerate(instructions) if i.keyword == "USER")
    later = [i for i in instructions[last_user:] if i.keyword in ("CMD", "ENTRYPOINT")]
    assert later, "the command is not defined after switching user"


def test_dependencies_are_installed_before_the_source_is_copied(instructions: list[Instruction]) -> None:
    copy_manifest = _index(instructions, "COPY", r"^pyproject\.toml\b")
    install_deps = _index(instructions, "RUN", r"pip install .*-r requirements\.txt")
    first_source = _index(instructions, "COPY", r"^(bootstrap|emulator|functions|producer|sandbox)/")
    install_project = _index(instructions, "RUN", r"pip install .*--no-deps .*--no-index .*\.")
    assert copy_manifest < install_deps < first_source < install_project
    between = instructions[copy_manifest + 1 : install_deps]
    assert not any(i.keyword in ("COPY", "ADD") for i in between), "source copied before the dependency layer"


def test_dependency_layer_installs_exactly_the_runtime_dependencies(instructions: list[Instruction]) -> None:
    run = instructions[_index(instructions, "RUN", r"pip install .*-r requirements\.txt")].args
    found = re.search(r'python -c ("[^"]*")\s*>\s*requirements\.txt', run)
    assert found, run
    (code,) = shlex.split(found.group(1))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=True
    )
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    assert done.stdout.split() == project["dependencies"]


def test_every_project_package_is_copied(instructions: list[Instruction]) -> None:
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        include = tomllib.load(handle)["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*").rstrip(".") for pattern in include}
    copied = {i.args.split()[0].rstrip("/") for i in instructions if i.keyword == "COPY"}
    assert packages <= copied, f"not copied into the image: {sorted(packages - copied)}"


def _context() -> set[str]:
    """The build context as the engine receives it (docker-py applies .dockerignore as the CLI does)."""
    from docker.utils.build import exclude_paths

    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return set(exclude_paths(str(REPO_ROOT), patterns, dockerfile="Dockerfile"))


def test_copied_sources_exist_and_are_in_the_context(instructions: list[Instruction]) -> None:
    context = _context()
    for item in (i for i in instructions if i.keyword == "COPY" and not i.args.startswith("--from=")):
        *sources, _destination = item.args.split()
        for source in sources:
            assert (REPO_ROOT / source).exists(), f"COPY {source}: missing from the repository"
            prefix = source.rstrip("/")
            assert any(p == prefix or p.startswith(prefix + "/") for p in context), f"COPY {source}: not in the context"


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    patterns = DOCKERIGNORE.read_text().splitlines()
    for required in (".git", ".venv", ".env", "tests", ".sandbox"):
        assert required in patterns, f".dockerignore should exclude {required}"
    assert "**/__pycache__" in patterns


def test_no_buildkit_only_syntax(instructions: list[Instruction]) -> None:
    # testcontainers builds through docker-py, i.e. the classic builder: no heredocs, no --mount.
    for item in instructions:
        assert "<<" not in item.args and "--mount" not in item.args, f"{item.keyword} {item.args[:60]}"


def test_command_is_exec_form(instructions: list[Instruction]) -> None:
    for item in instructions:
        if item.keyword in ("CMD", "ENTRYPOINT"):
            assert item.args.startswith("["), f"{item.keyword} should be exec form: {item.args}"


def test_build_context_holds_only_what_the_image_needs() -> None:
    paths = _context()
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        include = tomllib.load(handle)["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*").rstrip(".") for pattern in include}
    tops = {path.split("/")[0] for path in paths}
    assert tops == packages | {"Dockerfile", ".dockerignore", "README.md", "pyproject.toml", "docker"}
    assert all(p.startswith("docker/wheelhouse") for p in paths if p.startswith("docker/")), "only the wheelhouse"
    assert not any("__pycache__" in path or path.endswith(".pyc") for path in paths)
