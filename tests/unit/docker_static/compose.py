"""Reading the compose files without an engine: YAML, ``extends`` and compose's ``${VAR:-default}`` rules.

PyYAML reads what compose reads (anchors and ``<<`` merge keys included);
:func:`load` resolves ``extends`` the way both Compose generations do for what
our files use (mappings such as ``environment`` merged key by key, everything else
replaced). :func:`interpolate` resolves variables the way compose does, so tests
see the values a user who sets nothing gets; test_compose_cli.py cross-checks
both against compose's own ``config`` output.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
EMULATOR_FILE = REPO_ROOT / "docker-compose.emulator.yml"
SERVICES_FILE = REPO_ROOT / "docker-compose.services.yml"
#: Every compose file a user or `make up` may load (the services file only through `extends`).
STACK_FILES = (COMPOSE_FILE, EMULATOR_FILE)
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"


#: Keys compose merges key by key when a service extends another; the rest is replaced.
_MERGED = ("environment", "healthcheck", "build", "labels", "depends_on", "deploy")


def load_plain(path: Path) -> dict[str, Any]:
    """The YAML document as written (no ``extends`` resolved)."""
    with path.open() as handle:
        document = yaml.safe_load(handle)
    assert isinstance(document, dict), f"{path.name} is not a YAML mapping"
    return document


def _merge(base: dict[str, Any], local: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in local.items():
        if key == "extends":
            continue
        if key in _MERGED and isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = {**base[key], **value}
        else:
            merged[key] = value
    return merged


def load(path: Path) -> dict[str, Any]:
    """The document with every service's ``extends`` resolved (the file is relative to ``path``)."""
    document = load_plain(path)
    for name, service in list((document.get("services") or {}).items()):
        extends = service.get("extends")
        if extends:
            other = load(path.parent / extends["file"])
            document["services"][name] = _merge(other["services"][extends["service"]], service)
    return document


_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?|:\+|\+)(?P<arg>[^}]*))?\}"
)


def interpolate(value: Any, env: Mapping[str, str] | None = None) -> Any:
    """Resolve ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}`` and ``$$`` like compose."""
    env = env or {}
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
            current = env.get(name)
            if op == ":-":
                return current if current else arg
            if op == "-":
                return arg if current is None else current
            if op in (":?", "?"):
                if not current:
                    raise ValueError(f"required variable {name} is not set: {arg}")
                return current
            if op in (":+", "+"):
                return arg if current else ""
            return current or ""

        return _VARIABLE.sub(substitute, value)
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    return value


def variables(value: Any) -> set[str]:
    """Names of the variables a value interpolates."""
    if isinstance(value, str):
        return {m.group("name") for m in _VARIABLE.finditer(value) if m.group("name")}
    if isinstance(value, dict):
        return set().union(*(variables(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(variables(v) for v in value)) if value else set()
    return set()


def environment(service: Mapping[str, Any]) -> dict[str, Any]:
    """A service's environment as a mapping (compose accepts a list of KEY=VALUE too)."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = (item.split("=", 1) if "=" in item else (item, None) for item in raw)
        return {key: val for key, val in pairs}
    return dict(raw)


def command(service: Mapping[str, Any]) -> list[str]:
    raw = service.get("command")
    assert isinstance(raw, list), f"command should be an exec-form list, got {raw!r}"
    return [str(part) for part in raw]


def option(argv: list[str], name: str) -> str:
    """The value after ``name`` in an argument list."""
    assert name in argv, f"{name} missing from {argv}"
    return argv[argv.index(name) + 1]


def healthcheck_code(service: Mapping[str, Any]) -> str:
    """The Python source a ``CMD python -c <code>`` healthcheck runs."""
    check = service["healthcheck"]
    test = check["test"]
    assert test[0] == "CMD" and test[1] in ("python", "python3") and test[2] == "-c", test
    return str(test[3])
