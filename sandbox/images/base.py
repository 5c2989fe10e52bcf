"""A small Debian base with Python 3, made locally: debootstrap, prune, `docker import`.

Why not `FROM debian`: no registry answers on an offline machine or behind a
mirror that lacks Docker Hub. debootstrap needs only Debian's package mirror,
which apt already reaches. The root file system is cached as a tarball keyed by
what went into it, so a second build is an import (seconds), and an image that
already carries the key is reused as it is (milliseconds).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox import debian
from sandbox.images.errors import ImageBuildError
from sandbox.images.names import BASE_IMAGE, cache_dir

SUITE = "bookworm"
#: python3-venv: the Dockerfile makes a virtualenv (Debian's python3 is externally managed).
PACKAGES = ("python3", "python3-venv", "ca-certificates")
#: Removed after debootstrap: package caches and lists, docs; nothing a Python service needs.
PRUNE = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info",
         "usr/share/locale")
ENV_MIRROR = "DEBIAN_MIRROR"
#: Bump when the recipe changes in a way the inputs above do not show.
RECIPE_VERSION = "1"
KEY_LABEL = "org.clickstream-sandbox.base-key"
PYTHON_LABEL = "org.clickstream-sandbox.python"
DEBOOTSTRAP_TIMEOUT_S = 900

Say = Callable[[str], None]


def base_key(arch: str) -> str:
    """What the base is made of, hashed: suite, packages, architecture, recipe."""
    text = "|".join((RECIPE_VERSION, SUITE, ",".join(PACKAGES), arch))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def debian_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def host_mirror(suite: str = SUITE, sources: Path = Path("/etc/apt")) -> str | None:
    """``$DEBIAN_MIRROR``, else the mirror the host's apt uses for ``suite``, else None (debootstrap's default)."""
    explicit = os.environ.get(ENV_MIRROR)
    if explicit:
        return explicit
    for path in sorted([*sources.glob("sources.list.d/*.sources"), *sources.glob("sources.list.d/*.list"),
                        sources / "sources.list"]):
        try:
            text = path.read_text()
        except OSError:
            continue
        mirror = _mirror_in(text, suite)
        if mirror:
            return mirror
    return None


def _mirror_in(text: str, suite: str) -> str | None:
    """The URI of a main-archive entry for ``suite`` in a deb822 ``.sources`` or a one-line ``.list`` file."""
    for stanza in re.split(r"\n\s*\n", text):
        fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.+)$", stanza, re.M))
        if "deb" in fields.get("Types", "").split() and suite in fields.get("Suites", "").split():
            return fields.get("URIs", "").split()[0] if fields.get("URIs") else None
    for line in text.splitlines():
        parts = re.sub(r"\[[^]]*\]", "", line).split()
        if len(parts) >= 3 and parts[0] == "deb" and parts[2] == suite:
            return parts[1]
    return None


def ensure_base(docker: Any, say: Say, *, force: bool = False) -> str:
    """The base image's tag, made if missing: reused image, else cached tarball, else debootstrap."""
    arch = debian_arch()
    key = base_key(arch)
    if not force and _image_key(docker, BASE_IMAGE) == key:
        say(f"base image {BASE_IMAGE}: present (key {key})")
        return BASE_IMAGE
    tarball = _cached_tarball(key)
    if force or not tarball.is_file():
        _debootstrap_to(tarball, arch, say)
    else:
        say(f"base image: importing the cached root file system {tarball}")
    python = _python_version_in(tarball)
    _import(docker, tarball, key, python)
    return BASE_IMAGE


def can_make(docker: Any) -> tuple[bool, str]:
    """Whether ``ensure_base`` can succeed here without a registry, and why (not)."""
    key = base_key(debian_arch())
    if _image_key(docker, BASE_IMAGE) == key:
        return True, f"the base image {BASE_IMAGE} is here"
    if _cached_tarball(key).is_file():
        return True, "the base's root file system is cached"
    if _debootstrap() is None:
        if debian.can_install():
            return True, "debootstrap will be installed with apt-get, then make the base from Debian's packages"
        return False, "debootstrap is not installed (apt-get install debootstrap)"
    if os.geteuid() != 0:
        return False, "debootstrap needs root (sudo make images)"
    return True, "debootstrap can make the base from Debian's packages"


def _cached_tarball(key: str) -> Path:
    return Path(cache_dir()) / f"base-{SUITE}-{debian_arch()}-{key}.tar"


def _debootstrap() -> str | None:
    return shutil.which("debootstrap") or next(
        (p for p in ("/usr/sbin/debootstrap", "/sbin/debootstrap") if os.access(p, os.X_OK)), None
    )


def _installed_debootstrap(say: Say) -> str | None:
    """debootstrap's path, installed from Debian's packages first when it is missing and can be.

    A machine whose Docker engine starts empty may lack it too; without it no image is made,
    and every Docker test fails: ``make test`` and CI install it here, the one place that needs it."""
    tool = _debootstrap()
    if tool is not None or not debian.can_install():
        return tool
    say("base image: installing debootstrap with apt-get (once; it makes the base from Debian's packages)")
    debian.apt_install("debootstrap")
    return _debootstrap()


def _image_key(docker: Any, tag: str) -> str | None:
    import docker as docker_sdk

    try:
        labels = docker.images.get(tag).labels or {}
    except docker_sdk.errors.ImageNotFound:
        return None
    return labels.get(KEY_LABEL)


def _debootstrap_to(tarball: Path, arch: str, say: Say) -> None:
    tool = _installed_debootstrap(say)
    if tool is None:
        raise ImageBuildError(
            "debootstrap is not installed (it makes the offline base image from Debian's packages)",
            "apt-get install debootstrap, then `make images` again",
        )
    if os.geteuid() != 0:
        raise ImageBuildError(
            "debootstrap needs root to make the base image's file system",
            "run `sudo make images` once (later builds reuse the cached base), or build with a registry: "
            "`docker build -t clickstream-sandbox:local .`",
        )
    mirror = host_mirror()
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix="rootfs-") as work:
        rootfs = Path(work) / "rootfs"
        command = [tool, "--variant=minbase", f"--arch={arch}", f"--include={','.join(PACKAGES)}", SUITE, str(rootfs)]
        if mirror:
            command.append(mirror)
        say(f"base image: debootstrap {SUITE} ({arch}, {' '.join(PACKAGES)}) from "
            f"{mirror or 'debootstrap default mirror'} (about a minute)")
        try:
            # debootstrap runs chroot, mount, ... from the sbin directories, which a user's PATH may lack.
            path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
            done = subprocess.run(command, capture_output=True, text=True, timeout=DEBOOTSTRAP_TIMEOUT_S, check=False,
                                  env={**os.environ, "PATH": path})
        except subprocess.TimeoutExpired:
            raise ImageBuildError(
                f"debootstrap did not finish within {DEBOOTSTRAP_TIMEOUT_S} s",
                f"check that the Debian mirror answers (`apt-get update`), or set {ENV_MIRROR}",
            ) from None
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
            raise ImageBuildError(
                f"debootstrap failed: {last[0][:300]}",
                f"check that the Debian mirror answers (`apt-get update`), or set {ENV_MIRROR}=<mirror URL>",
            )
        for relative in PRUNE:
            target = rootfs / relative
            if target.is_dir():
                shutil.rmtree(target)
                target.mkdir()
        partial = tarball.with_suffix(".tar.partial")
        with tarfile.open(partial, "w") as archive:
            archive.add(rootfs, arcname=".")
        os.replace(partial, tarball)  # a cut-short build never leaves a tarball that looks complete


def _python_version_in(tarball: Path) -> str:
    """``3.11`` from the root file system's ``usr/bin/python3.X``."""
    with tarfile.open(tarball) as archive:
        for name in archive.getnames():
            found = re.fullmatch(r"\./usr/bin/python(3\.\d+)", name)
            if found:
                return found.group(1)
    raise ImageBuildError(f"{tarball} holds no usr/bin/python3.X", f"delete {tarball} and run `make images` again")


def _import(docker: Any, tarball: Path, key: str, python: str) -> None:
    repository, tag = BASE_IMAGE.rsplit(":", 1)
    changes = [
        "ENV LANG=C.UTF-8",
        'CMD ["python3"]',
        f"LABEL {KEY_LABEL}={key} {PYTHON_LABEL}={python}",
    ]
    docker.api.import_image_from_file(str(tarball), repository=repository, tag=tag, changes=changes)


def base_python(docker: Any) -> str:
    """The base image's Python version (``3.11``), from the label the import put on it."""
    labels = docker.images.get(BASE_IMAGE).labels or {}
    version = labels.get(PYTHON_LABEL)
    if not version:
        raise ImageBuildError(f"{BASE_IMAGE} has no {PYTHON_LABEL} label", "run `make images FORCE=1`")
    return version
