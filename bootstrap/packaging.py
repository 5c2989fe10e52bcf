"""The one deployment package: ``functions/`` plus its third-party code, byte-for-byte reproducible.

Built from the installed environment (importlib.metadata), never from the network.
Fixed timestamps and permissions and sorted entries make the same content give
the same bytes, hence the same CodeSha256 as AWS reports it (base64 of the
zip's sha256), so bootstrap skips code updates when nothing changed.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import importlib.util
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bootstrap.errors import BootstrapError

#: What the functions import beyond the standard library and boto3 (add to this list, not ad hoc).
FUNCTION_REQUIREMENTS: tuple[str, ...] = ("aws-lambda-powertools",)
#: The Lambda Python runtime ships these; packaging them would only shadow the runtime's.
RUNTIME_PROVIDED: frozenset[str] = frozenset({"boto3", "botocore", "s3transfer"})
#: Markers are evaluated for the Lambda runtime, not for the interpreter running bootstrap.
TARGET_PYTHON = "3.12"

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
_FILE_MODE = 0o100644  # regular file, rw-r--r--
_COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
_SKIPPED_METADATA = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


@dataclass(frozen=True)
class Package:
    data: bytes
    files: tuple[str, ...]
    distributions: tuple[str, ...]  # "name==version" of the bundled third-party code

    @property
    def sha256(self) -> str:
        """Base64 sha256 of the zip: what Lambda reports as ``CodeSha256``."""
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode("ascii")

    @property
    def size(self) -> int:
        return len(self.data)


def functions_dir() -> Path:
    """Where the ``functions`` package lives (the source tree or the installed package)."""
    spec = importlib.util.find_spec("functions")
    if spec is None or not spec.submodule_search_locations:
        raise BootstrapError("the functions package is not importable", "run `pip install -e .`")
    return Path(next(iter(spec.submodule_search_locations)))


def _target_environment() -> dict[str, str]:
    env = default_environment()
    env.update(python_version=TARGET_PYTHON, python_full_version=f"{TARGET_PYTHON}.0", extra="")
    return env


def dependency_closure(
    roots: Iterable[str], exclude: frozenset[str] = RUNTIME_PROVIDED
) -> list[metadata.Distribution]:
    """Installed distributions ``roots`` need at run time (no extras), minus ``exclude``."""
    env = _target_environment()
    excluded = {canonicalize_name(name) for name in exclude}
    found: dict[str, metadata.Distribution] = {}
    todo = [canonicalize_name(name) for name in roots]
    while todo:
        name = todo.pop()
        if name in found or name in excluded:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise BootstrapError(
                f"the functions need {name}, which is not installed", "run `pip install -e .`"
            ) from None
        found[name] = dist
        for line in dist.requires or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(env):
                todo.append(canonicalize_name(requirement.name))
    return [found[name] for name in sorted(found)]


def _distribution_files(dist: metadata.Distribution) -> Iterator[tuple[str, Path]]:
    """(archive name, installed path) of one distribution's importable files and metadata."""
    name = dist.metadata["Name"]
    if dist.files is None:
        raise BootstrapError(
            f"{name} has no file list (RECORD)", f"reinstall it: pip install --force-reinstall {name}"
        )
    for entry in dist.files:
        parts = entry.parts
        if not parts or parts[0] == ".." or "__pycache__" in parts or entry.suffix == ".pyc":
            continue
        if parts[0].endswith(".dist-info") and parts[-1] in _SKIPPED_METADATA:
            continue
        if entry.name.endswith(_COMPILED_SUFFIXES):
            raise BootstrapError(
                f"{name} ships compiled code ({entry}); the Lambda package must be pure Python",
                "use a pure-Python alternative in functions/",
            )
        yield "/".join(parts), Path(dist.locate_file(entry))


def _source_files(root: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or path.suffix == ".pyc":
            continue
        if any(part == "__pycache__" or part.startswith(".") for part in relative.parts):
            continue
        yield f"{root.name}/{relative.as_posix()}", path


def _deterministic_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.create_system = 3  # unix, so external_attr means file mode everywhere
            info.external_attr = _FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name], compresslevel=9)
    return buffer.getvalue()


def build_package(
    source: Path | None = None, requirements: Iterable[str] = FUNCTION_REQUIREMENTS
) -> Package:
    """Zip ``functions/`` (or ``source``) and its third-party dependencies deterministically."""
    source = source or functions_dir()
    if not source.is_dir():
        raise BootstrapError(f"{source} is not a directory", "run from the project checkout")
    entries: dict[str, bytes] = {}
    dists = dependency_closure(requirements)
    for dist in dists:
        for name, path in _distribution_files(dist):
            data = path.read_bytes()
            if entries.setdefault(name, data) != data:
                raise BootstrapError(
                    f"two distributions ship {name} with different content", "uninstall one of them"
                )
    for name, path in _source_files(source):
        entries[name] = path.read_bytes()
    return Package(
        data=_deterministic_zip(entries),
        files=tuple(sorted(entries)),
        distributions=tuple(f"{d.metadata['Name']}=={d.version}" for d in dists),
    )


_CACHE: dict[tuple[object, ...], Package] = {}


def _fingerprint(source: Path) -> tuple[object, ...]:
    """Cheap identity of the inputs: every source file's size and mtime, every bundled version."""
    files = tuple((name, path.stat().st_size, path.stat().st_mtime_ns) for name, path in _source_files(source))
    versions = tuple(f"{d.metadata['Name']}=={d.version}" for d in dependency_closure(FUNCTION_REQUIREMENTS))
    return (str(source), files, versions)


def cached_package(source: Path | None = None) -> Package:
    """``build_package`` memoised per process on the inputs' fingerprint (the bytes are the same anyway)."""
    source = source or functions_dir()
    key = _fingerprint(source)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = build_package(source)
    return _CACHE[key]


def runtime_closure() -> list[metadata.Distribution]:
    """boto3 and what it needs: what the Lambda runtime provides (tests rebuild it to import-check)."""
    return dependency_closure(sorted(RUNTIME_PROVIDED), exclude=frozenset())


__all__ = ["Package", "build_package", "cached_package", "dependency_closure", "functions_dir", "runtime_closure"]
