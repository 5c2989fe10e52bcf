"""One client factory: endpoint, region, credentials and retries filled in one place.

Clients are cached per (service, endpoint, region, retry and timeout settings) and
share one boto3 session per credential source: building a session and a client
costs 0.1-0.2 s of model loading, which a CLI pays once instead of per call.
boto3 clients are thread-safe; creating them is not, hence the lock.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from bootstrap.settings import Settings

#: Credentials LocalStack and the embedded emulator accept; never used for real AWS.
LOCAL_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}

_lock = threading.Lock()


@lru_cache(maxsize=4)
def _session(local: bool, region: str) -> boto3.session.Session:
    if local:
        return boto3.session.Session(**LOCAL_CREDENTIALS, region_name=region)
    return boto3.session.Session(region_name=region)


@lru_cache(maxsize=128)
def _cached_client(service: str, endpoint_url: str | None, region: str, max_attempts: int, timeout: float) -> Any:
    config = Config(
        region_name=region,
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
        connect_timeout=timeout,
        read_timeout=max(timeout, 30.0),
        max_pool_connections=20,
    )
    kwargs: dict[str, Any] = {"config": config, "region_name": region}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    return _session(bool(endpoint_url), region).client(service, **kwargs)


def client(service: str, settings: Settings, *, max_attempts: int = 3, timeout: float = 10.0) -> Any:
    """A boto3 client for ``service`` aimed at the settings' endpoint (or real AWS).

    ``max_attempts=1`` where a retried write would duplicate data on the emulator
    (FACTS: moto answers some errors with HTTP 500, which botocore retries).
    """
    with _lock:
        return _cached_client(service, settings.endpoint_url, settings.region, max_attempts, timeout)
