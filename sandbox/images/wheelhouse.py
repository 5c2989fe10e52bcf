"""The Python dependencies as wheels, downloaded on the host into the build context.

The offline build installs them with ``pip install --no-index --find-links``: the
image build needs no network, only this directory. Wheels are fetched for the
base image's Python and architecture (not the host's), binary only, so nothing is
compiled inside the image. A key file records what the wheelhouse was made for,
so a second `make images` reuses it without asking PyPI.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

from sandbox.images.errors import ImageBuildError

#: Build tools the Dockerfile installs next to the runtime dependencies (the source layer needs them).
BUILD_REQUIREMENTS = ("setuptools>=77",)
KEY_FILE = ".key"
DOWNLOAD_TIMEOUT_S = 600

Say = Callable[[str], None]


def requirements(pyproject: Path) -> list[str]:
    """[project].dependencies (the runtime ones: no test tools in the image) plus the build tools."""
    with pyproject.open("rb") as handle:
        return [*tomllib.load(handle)["project"]["dependencies"], *BUILD_REQUIREMENTS]


def platform_tags(machine: str | None = None) -> list[str]:
    """manylinux tags a bookworm (glibc 2.36) image accepts, newest first."""
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get((machine or platform.machine()).lower(),
                                                      (machine or platform.machine()).lower())
    return [f"manylinux_2_{minor}_{arch}" for minor in (36, 34, 28, 17)] + [f"manylinux2014_{arch}"]


def wheelhouse_key(reqs: list[str], python: str, tags: list[str]) -> str:
    return hashlib.sha256("|".join([python, *tags, *reqs]).encode()).hexdigest()[:16]


def ensure_wheelhouse(target: Path, pyproject: Path, python: str, say: Say, *, force: bool = False) -> int:
    """Fill ``target`` with wheels for ``python`` (``3.11``); returns how many wheels it holds."""
    reqs = requirements(pyproject)
    tags = platform_tags()
    key = wheelhouse_key(reqs, python, tags)
    stamp = target / KEY_FILE
    wheels = sorted(target.glob("*.whl"))
    if not force and wheels and stamp.is_file() and stamp.read_text().strip() == key:
        say(f"wheelhouse: {len(wheels)} wheels for Python {python} present in {target}")
        return len(wheels)
    for old in wheels:
        old.unlink()
    target.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--implementation", "cp", "--python-version", python,
        *[arg for tag in tags for arg in ("--platform", tag)],
        "--dest", str(target), *reqs,
    ]
    say(f"wheelhouse: downloading {len(reqs)} requirements and their dependencies for Python {python} "
        f"into {target}")
    env = {**os.environ, "PIP_NO_INPUT": "1"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S, env=env,
                              check=False)
    except subprocess.TimeoutExpired:
        raise ImageBuildError(f"pip download did not finish within {DOWNLOAD_TIMEOUT_S} s",
                              "check that PyPI (or your PIP_INDEX_URL mirror) answers from this host") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise ImageBuildError(
            f"pip download failed: {(lines[-1] if lines else f'exit {done.returncode}')[:300]}",
            "check that PyPI (or your PIP_INDEX_URL mirror) answers from this host",
        )
    stamp.write_text(key + "\n")
    count = len(list(target.glob("*.whl")))
    say(f"wheelhouse: {count} wheels, {_size_mb(target):.0f} MB")
    return count


def _size_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.glob("*.whl")) / 1e6

