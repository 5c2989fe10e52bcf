"""Shared helpers of the sandbox CLI's functional tests."""

from __future__ import annotations

from pathlib import Path

from bootstrap.settings import Settings


def cli_env(settings: Settings, state_dir: Path, **extra: str) -> dict[str, str | None]:
    """The environment that aims the `sandbox` CLI (CliRunner) at one test pipeline."""
    return {
        "AWS_ENDPOINT_URL": settings.endpoint_url,
        "SANDBOX_PREFIX": settings.prefix,
        "SANDBOX_HTTP_SINK_URL": settings.http_sink_url,
        "SANDBOX_STATE_DIR": str(state_dir),
        "SANDBOX_ALLOW_REAL_AWS": None,
        **extra,
    }
