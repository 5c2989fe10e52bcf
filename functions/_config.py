"""Function settings from the Lambda environment, read when a handler needs them.

The settings below are read per call, never at import: the unit tests set the
environment after importing the handlers, and nothing here needs to be cached.
bootstrap's ``Topology.environment`` sets these names (the HTTP_* ones for consumer B
only); the optional ones fall back to the defaults below, which a unit test ties to
bootstrap/topology.py and bootstrap/settings.py.

One deliberate exception: each handler module creates powertools' ``Logger()`` at
import, and it reads ``POWERTOOLS_SERVICE_NAME``/``POWERTOOLS_LOG_LEVEL`` then. That is
right wherever the functions really run: Lambda, LocalStack and the emulator's workers
start the process with the function's environment before importing the handler.
"""

from __future__ import annotations

import os

DATA_LAKE_BUCKET = "DATA_LAKE_BUCKET"
ANALYTICS_BUCKET = "ANALYTICS_BUCKET"
KINESIS_STREAM_NAME = "KINESIS_STREAM_NAME"
HTTP_SINK_URL = "HTTP_SINK_URL"
#: The table's key and TTL attribute names (bootstrap/topology.py: TABLE_KEY, TTL_ATTRIBUTE).
TABLE_KEY = "TABLE_KEY"
TTL_ATTRIBUTE = "TTL_ATTRIBUTE"
#: Optional tuning knobs for consumer B (defaults below suit a 30 s function timeout).
HTTP_TIMEOUT_SECONDS = "HTTP_TIMEOUT_SECONDS"
HTTP_MAX_ATTEMPTS = "HTTP_MAX_ATTEMPTS"
#: Consumer B's lanes: records split by partition key, posted side by side (``_batch``).
HTTP_LANES = "HTTP_LANES"
#: Rows per POST: 1 posts each row to HTTP_SINK_URL (any webhook takes that); more posts a
#: lane's rows together to HTTP_SINK_URL + "/batch" (our sink's batch endpoint, docs/http-sink.md).
HTTP_BATCH_SIZE = "HTTP_BATCH_SIZE"

DEFAULT_TABLE_KEY = "uuid"
DEFAULT_TTL_ATTRIBUTE = "expires_at"
DEFAULT_HTTP_TIMEOUT_SECONDS = 5.0
DEFAULT_HTTP_MAX_ATTEMPTS = 4
DEFAULT_HTTP_LANES = 8
DEFAULT_HTTP_BATCH_SIZE = 1
#: The most rows one batch POST carries (the sink refuses more).
MAX_HTTP_BATCH_SIZE = 500


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


def text(name: str, default: str) -> str:
    """An optional text setting: its non-empty value, else ``default``."""
    return os.environ.get(name, "").strip() or default


def table_key() -> str:
    """The table's partition key attribute (the item id every sink reports)."""
    return text(TABLE_KEY, DEFAULT_TABLE_KEY)


def ttl_attribute() -> str:
    """The attribute holding an item's expiry (epoch seconds) for DynamoDB TTL."""
    return text(TTL_ATTRIBUTE, DEFAULT_TTL_ATTRIBUTE)
