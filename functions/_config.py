"""Function settings from the Lambda environment, read when a handler needs them.

Nothing is read at import time: the emulator's warm workers, LocalStack and the unit
tests all set the environment after (or independently of) importing the module.
bootstrap's ``Topology.environment`` sets the names below for every function.
"""

from __future__ import annotations

import os

DATA_LAKE_BUCKET = "DATA_LAKE_BUCKET"
ANALYTICS_BUCKET = "ANALYTICS_BUCKET"
KINESIS_STREAM_NAME = "KINESIS_STREAM_NAME"
HTTP_SINK_URL = "HTTP_SINK_URL"
#: Optional tuning knobs for consumer B (defaults below suit a 30 s function timeout).
HTTP_TIMEOUT_SECONDS = "HTTP_TIMEOUT_SECONDS"
HTTP_MAX_ATTEMPTS = "HTTP_MAX_ATTEMPTS"

DEFAULT_HTTP_TIMEOUT_SECONDS = 5.0
DEFAULT_HTTP_MAX_ATTEMPTS = 4


class ConfigurationError(RuntimeError):
    """The function's environment lacks or garbles a setting; bootstrap sets them all."""


def required(name: str) -> str:
    """The non-empty value of ``name``; a missing one fails the invocation loudly."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(
            f"environment variable {name} is not set; deploy the function with "
            "`python -m bootstrap apply`, which sets it from the topology"
        )
    return value


def number(name: str, default: float, minimum: float, maximum: float) -> float:
    """An optional numeric setting, bounded so a typo cannot disable timeouts or retries."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from None
    if not minimum <= value <= maximum:
        raise ConfigurationError(f"{name}={raw} is out of range ({minimum}..{maximum})")
    return value
