"""The image names, once: the compose files default to the same ``PROJECT_IMAGE`` (a static test checks)."""

from __future__ import annotations

import os

#: The project image every compose service and the testcontainers class run.
PROJECT_IMAGE = "clickstream-sandbox:local"
#: The Dockerfile's default base (a user with a registry builds on it); keep equal to its ARG BASE_IMAGE.
USER_BASE_IMAGE = "python:3.12.12-slim-bookworm"
#: The locally made Debian base of the offline build.
BASE_IMAGE = "clickstream-sandbox-base:bookworm"
#: Where the debootstrapped root file system is cached between builds (survives `make clean` and fresh clones).
ENV_CACHE_DIR = "SANDBOX_CACHE_DIR"


def cache_dir() -> str:
    """``$SANDBOX_CACHE_DIR``, else ``$XDG_CACHE_HOME/clickstream-sandbox``, else ``~/.cache/clickstream-sandbox``."""
    explicit = os.environ.get(ENV_CACHE_DIR)
    if explicit:
        return explicit
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "clickstream-sandbox")
