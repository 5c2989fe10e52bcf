"""`sandbox produce`: the producer's own command, aimed at the running sandbox by default."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bootstrap.settings import ENV_ENDPOINT, ENV_HTTP_SINK_URL
from producer.cli import produce_command
from sandbox import target


@contextmanager
def sandbox_environment() -> Iterator[None]:
    """Fill AWS_ENDPOINT_URL from ``sandbox.target`` for the wrapped command, then restore it."""
    settings = target.load()
    saved = {name: os.environ.get(name) for name in (ENV_ENDPOINT, ENV_HTTP_SINK_URL)}
    if settings.endpoint_url:
        os.environ[ENV_ENDPOINT] = settings.endpoint_url
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@functools.wraps(produce_command)
def produce(*args: Any, **kwargs: Any) -> None:
    with sandbox_environment():
        produce_command(*args, **kwargs)
