"""One settings object for bootstrap, producer and the sandbox CLI.

Every knob is an environment variable with a named default; explicit arguments
win over the environment. Nothing is read at import time: call
``Settings.from_env()`` where the value is needed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

# Environment variable names (the README's configuration table lists these).
ENV_ENDPOINT = "AWS_ENDPOINT_URL"
ENV_REGION = "AWS_REGION"
ENV_DEFAULT_REGION = "AWS_DEFAULT_REGION"
ENV_PREFIX = "SANDBOX_PREFIX"
ENV_STREAM_VIEW_TYPE = "SANDBOX_STREAM_VIEW_TYPE"
ENV_KINESIS_SHARDS = "SANDBOX_KINESIS_SHARDS"
ENV_HTTP_SINK_URL = "SANDBOX_HTTP_SINK_URL"
ENV_ALLOW_REAL_AWS = "SANDBOX_ALLOW_REAL_AWS"
ENV_STATE_DIR = "SANDBOX_STATE_DIR"
ENV_HTTP_TIMEOUT_SECONDS = "SANDBOX_HTTP_TIMEOUT_SECONDS"
ENV_HTTP_MAX_ATTEMPTS = "SANDBOX_HTTP_MAX_ATTEMPTS"
ENV_HTTP_LANES = "SANDBOX_HTTP_LANES"
ENV_HTTP_BATCH_SIZE = "SANDBOX_HTTP_BATCH_SIZE"

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
DEFAULT_REGION = "us-east-1"
DEFAULT_PREFIX = "clicks"
DEFAULT_STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"
DEFAULT_KINESIS_SHARDS = 2
DEFAULT_HTTP_SINK_URL = "http://127.0.0.1:8088/deliveries"
DEFAULT_STATE_DIR = ".sandbox"
#: Consumer B's per-POST timeout and attempts (bootstrap sets them in its Lambda environment).
DEFAULT_HTTP_TIMEOUT_SECONDS = 5
DEFAULT_HTTP_MAX_ATTEMPTS = 4
#: Consumer B's parallel lanes (records split by partition key; functions/_batch.py says why).
DEFAULT_HTTP_LANES = 8
#: Rows consumer B posts per request to the sink's batch endpoint against a local endpoint,
#: where the sink is the sandbox's own (functions/_http_batch.py says why batches). Against
#: real AWS the sink is the user's, so the default there is one row per POST, which any
#: webhook takes.
DEFAULT_HTTP_BATCH_SIZE = 50
DEFAULT_HTTP_BATCH_SIZE_REAL_AWS = 1
MAX_HTTP_BATCH_SIZE = 500

STREAM_VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
LOCAL_ACCOUNT_ID = "000000000000"

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_TRUTHY = frozenset({"1", "true", "yes", "on"})
_FALSY = frozenset({"", "0", "false", "no", "off"})


class SettingsError(ValueError):
    """A configuration value a user set is not usable: ``message`` says which and why, ``fix`` what to do.

    ``str(error)`` is the documented one-line shape ``… (fix: …)``, so every CLI that
    prints it (bootstrap, producer, sandbox) shows the fix.
    """

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(f"{message} (fix: {fix})" if fix else message)
        self.message = message
        self.fix = fix


def _url_example(name: str) -> str:
    """The example URL a fix shows for ``name`` (the sink's own for the sink's variable)."""
    return DEFAULT_HTTP_SINK_URL if name == ENV_HTTP_SINK_URL else DEFAULT_ENDPOINT


def _check_url(name: str, value: str) -> None:
    """An http(s) URL with a host, or a clear error naming the setting."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    fix = f"use a URL like {_url_example(name)}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name}={value!r} is not an http(s) URL", fix)
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise SettingsError(f"{name}={value!r} has a malformed port", fix) from None


def parse_bool(name: str, raw: str | None) -> bool:
    """Parse a boolean from a fixed list of spellings (``bool("false")`` is True: don't)."""
    value = (raw or "").strip().lower()
    if value in _TRUTHY:
        return True
    if value in _FALSY:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean", "use 1/0, true/false or yes/no")


def _parse_optional_int(name: str, raw: str | None, minimum: int, maximum: int) -> int | None:
    """As ``_parse_int``, with None for unset (the caller's default depends on other settings)."""
    return None if raw is None or raw.strip() == "" else _parse_int(name, raw, minimum, minimum, maximum)


def _parse_int(name: str, raw: str | None, default: int, minimum: int, maximum: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    fix = f"use a whole number from {minimum} to {maximum}"
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number", fix) from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name}={value} is out of range ({minimum}..{maximum})", fix)
    return value


@dataclass(frozen=True)
class Settings:
    """Where the sandbox talks to and how its resources are named and sized."""

    endpoint_url: str | None = None
    region: str = DEFAULT_REGION
    prefix: str = DEFAULT_PREFIX
    stream_view_type: str = DEFAULT_STREAM_VIEW_TYPE
    kinesis_shards: int = DEFAULT_KINESIS_SHARDS
    http_sink_url: str = DEFAULT_HTTP_SINK_URL
    allow_real_aws: bool = False
    state_dir: str = DEFAULT_STATE_DIR
    http_timeout_seconds: int = DEFAULT_HTTP_TIMEOUT_SECONDS
    http_max_attempts: int = DEFAULT_HTTP_MAX_ATTEMPTS
    http_lanes: int = DEFAULT_HTTP_LANES
    #: None: DEFAULT_HTTP_BATCH_SIZE locally, DEFAULT_HTTP_BATCH_SIZE_REAL_AWS on AWS (``consumer_b_batch_size``).
    http_batch_size: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Checked here, so explicit overrides (--endpoint-url, ...) are validated too.
        if self.endpoint_url is not None:
            _check_url(ENV_ENDPOINT, self.endpoint_url)
        _check_url(ENV_HTTP_SINK_URL, self.http_sink_url)
        if not _REGION.match(self.region):
            raise SettingsError(
                f"{ENV_REGION}={self.region!r} is not an AWS region name", f"use a region like {DEFAULT_REGION}"
            )

    @property
    def consumer_b_batch_size(self) -> int:
        """Rows per POST for consumer B: the setting, else batches for the sandbox's own sink
        (a local endpoint) and one row per POST for the user's sink on real AWS."""
        if self.http_batch_size is not None:
            return self.http_batch_size
        return DEFAULT_HTTP_BATCH_SIZE if self.is_local else DEFAULT_HTTP_BATCH_SIZE_REAL_AWS

    @property
    def is_local(self) -> bool:
        """True when an endpoint is set: LocalStack or the embedded emulator, not AWS."""
        return bool(self.endpoint_url)

    def require_target(self) -> None:
        """Refuse to touch real AWS unless the user asked for it explicitly."""
        if self.endpoint_url is None and not self.allow_real_aws:
            raise SettingsError(
                f"{ENV_ENDPOINT} is not set, so this would talk to real AWS",
                f'for the sandbox: eval "$(sandbox env)" (or export {ENV_ENDPOINT}={DEFAULT_ENDPOINT}); '
                f"for your AWS account on purpose: export {ENV_ALLOW_REAL_AWS}=1",
            )

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with explicit arguments applied (None means: keep the current value)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read settings from the environment; ``overrides`` (not None) win."""
        env = os.environ if environ is None else environ
        view_type = env.get(ENV_STREAM_VIEW_TYPE, DEFAULT_STREAM_VIEW_TYPE).strip().upper()
        if view_type not in STREAM_VIEW_TYPES:
            raise SettingsError(
                f"{ENV_STREAM_VIEW_TYPE}={view_type!r} is not a stream view type",
                f"use one of {', '.join(STREAM_VIEW_TYPES)}",
            )
        prefix = env.get(ENV_PREFIX, DEFAULT_PREFIX).strip() or DEFAULT_PREFIX
        if not prefix.replace("-", "").isalnum() or prefix != prefix.lower() or len(prefix) > 20:
            raise SettingsError(
                f"{ENV_PREFIX}={prefix!r} is not a valid prefix", "use at most 20 lowercase letters, digits and dashes"
            )
        # No (or an empty) AWS_ENDPOINT_URL means real AWS, as in botocore.
        endpoint = (env.get(ENV_ENDPOINT) or "").strip() or None
        settings = cls(
            endpoint_url=endpoint,
            region=(env.get(ENV_REGION) or env.get(ENV_DEFAULT_REGION) or DEFAULT_REGION).strip(),
            prefix=prefix,
            stream_view_type=view_type,
            kinesis_shards=_parse_int(
                ENV_KINESIS_SHARDS, env.get(ENV_KINESIS_SHARDS), DEFAULT_KINESIS_SHARDS, 1, 16
            ),
            http_sink_url=env.get(ENV_HTTP_SINK_URL, DEFAULT_HTTP_SINK_URL).strip()
            or DEFAULT_HTTP_SINK_URL,
            allow_real_aws=parse_bool(ENV_ALLOW_REAL_AWS, env.get(ENV_ALLOW_REAL_AWS)),
            state_dir=env.get(ENV_STATE_DIR, DEFAULT_STATE_DIR).strip() or DEFAULT_STATE_DIR,
            http_timeout_seconds=_parse_int(
                ENV_HTTP_TIMEOUT_SECONDS, env.get(ENV_HTTP_TIMEOUT_SECONDS), DEFAULT_HTTP_TIMEOUT_SECONDS, 1, 60
            ),
            http_max_attempts=_parse_int(
                ENV_HTTP_MAX_ATTEMPTS, env.get(ENV_HTTP_MAX_ATTEMPTS), DEFAULT_HTTP_MAX_ATTEMPTS, 1, 10
            ),
            http_lanes=_parse_int(ENV_HTTP_LANES, env.get(ENV_HTTP_LANES), DEFAULT_HTTP_LANES, 1, 64),
            http_batch_size=_parse_optional_int(ENV_HTTP_BATCH_SIZE, env.get(ENV_HTTP_BATCH_SIZE), 1, MAX_HTTP_BATCH_SIZE),
        )
        return settings.with_overrides(**overrides)
