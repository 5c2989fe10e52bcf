"""Debian packages the sandbox's own tooling needs, installed with apt-get when missing.

A machine like the one CI runs on starts without some of them (debootstrap for the offline
base image, chromium for the dashboard's browser test). Root with apt-get can install them:
Debian's packages are reachable (the base image is made from them). Without root nothing is
installed, and the caller says what to run.

``python -m sandbox.debian COMMAND PACKAGE WHY`` is what ``make test`` runs for chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable

INSTALL_TIMEOUT_S = 900


def can_install() -> bool:
    """Root with apt-get."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(package: str) -> bool:
    """Install ``package``; the package lists may be missing or stale, so a failed install
    updates them and tries once more. True once it installed."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]
    for step in (install, ["apt-get", "update", "-qq"], install):
        try:
            done = subprocess.run(step, capture_output=True, text=True, env=env, timeout=INSTALL_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            return False
        if step is install and done.returncode == 0:
            return True
    return False


def ensure(command: str, package: str, why: str, say: Callable[[str], None]) -> str | None:
    """``command``'s path, ``package`` installed first when it is missing and can be."""
    found = shutil.which(command)
    if found is not None or not can_install():
        return found
    say(f"installing {package} with apt-get (once; {why})")
    apt_install(package)
    return shutil.which(command)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m sandbox.debian COMMAND PACKAGE WHY", file=sys.stderr)
        return 2
    command, package, why = argv
    if ensure(command, package, why, print) is None:
        print(f"warning: {command} is missing and could not be installed: {why} will fail "
              f"(fix: apt-get install -y {package})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
