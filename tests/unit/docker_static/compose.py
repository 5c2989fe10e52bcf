"""Reading the compose files without an engine: YAML plus compose's ``${VAR:-default}`` rules.

PyYAML reads what compose reads (anchors and ``<<`` merge keys included); the
``!reset``/``!override`` tags of the emulator override are kept as markers.
:func:`interpolate` resolves variables the way compose does, so tests see the
values a user who sets nothing gets; test_compose_cli.py cross-checks both
against compose's own ``config`` output where a Compose CLI is present.
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
EMULATOR_OVERRIDE = REPO_ROOT / "docker-compose.emulator.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"


@dataclass(frozen=True)
class Tagged:
    """A value carrying compose's ``!reset`` or ``!override`` tag."""

    tag: str
    value: Any


class _Loader(yaml.SafeLoader):
    pass


def _tagged(loader: yaml.SafeLoader, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.MappingNode):
        value: Any = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_scalar(node)  # type: ignore[arg-type]
    return Tagged(node.tag, value)


_Loader.add_constructor("!reset", _tagged)
_Loader.add_constructor("!override", _tagged)


def load(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        document = yaml.load(handle, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    assert isinstance(document, dict), f"{path.name} is not a YAML mapping"
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
    if isinstance(value, Tagged):
        return Tagged(value.tag, interpolate(value.value, env))
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
    if isinstance(raw, Tagged):
        raw = raw.value
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
    if isinstance(check, Tagged):
        check = check.value
    test = check["test"]
    assert test[0] == "CMD" and test[1] in ("python", "python3") and test[2] == "-c", test
    return str(test[3])
