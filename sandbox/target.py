"""Which endpoint the CLI talks to: the running sandbox unless the user says otherwise.

Order: an explicit ``AWS_ENDPOINT_URL``; else the stack `sandbox up` recorded in the
state dir; else the default local endpoint. Real AWS only with an explicit
``SANDBOX_ALLOW_REAL_AWS=1`` and no endpoint (``Settings.require_target``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from bootstrap.settings import DEFAULT_ENDPOINT, ENV_HTTP_SINK_URL, Settings
from sandbox import ports, state
from sandbox.errors import BackendNotRunning


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings aimed at the sandbox (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    settings = Settings.from_env(env)
    if settings.endpoint_url is not None or settings.allow_real_aws:
        return settings
    running = state.read(settings)
    if running is None or not running.endpoint_url:
        return settings.with_overrides(endpoint_url=DEFAULT_ENDPOINT)
    sink = None if env.get(ENV_HTTP_SINK_URL) else (running.http_sink_url or None)
    return settings.with_overrides(endpoint_url=running.endpoint_url, http_sink_url=sink)


def require_running(settings: Settings) -> None:
    """Fail fast with the fix when nothing listens at a local endpoint."""
    settings.require_target()
    if settings.endpoint_url and ports.is_local(settings.endpoint_url):
        host, port = ports.host_port(settings.endpoint_url, 4566)
        if not ports.answers(host, port):
            raise BackendNotRunning(settings.endpoint_url)
