"""One client factory: endpoint, region, credentials and retries filled in one place."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from bootstrap.settings import Settings

#: Credentials LocalStack and the embedded emulator accept; never used for real AWS.
LOCAL_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def client(service: str, settings: Settings, *, max_attempts: int = 3, timeout: float = 10.0) -> Any:
    """A boto3 client for ``service`` aimed at the settings' endpoint (or real AWS).

    ``max_attempts=1`` where a retried write would duplicate data on the emulator
    (FACTS: moto answers some errors with HTTP 500, which botocore retries).
    """
    config = Config(
        region_name=settings.region,
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
        connect_timeout=timeout,
        read_timeout=max(timeout, 30.0),
        max_pool_connections=20,
    )
    kwargs: dict[str, Any] = {"config": config, "region_name": settings.region}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
        session = boto3.session.Session(**LOCAL_CREDENTIALS, region_name=settings.region)
    else:
        session = boto3.session.Session(region_name=settings.region)
    return session.client(service, **kwargs)
