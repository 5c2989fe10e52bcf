"""Cached boto3 clients for the handlers.

Created on first use (``client``): the endpoint (``AWS_ENDPOINT_URL``, injected by
LocalStack and the embedded emulator) and the region come from the environment at that
moment, and unit tests can put a stubbed client into ``_clients`` first. A handler
module also calls ``warm`` at import, so the client exists after the init phase, as
AWS advises (SDK clients outside the handler): the first invocation then does not pay
for loading the service's model (a few hundred ms of CPU). Cached per process so warm
invocations reuse connections.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import NoRegionError

_clients: dict[str, Any] = {}

#: Kinesis gets one attempt per call: fanout retries only the failed subset itself,
#: and a botocore retry of a call that did land would duplicate the whole chunk.
_TOTAL_ATTEMPTS = {"kinesis": 1}
_DEFAULT_TOTAL_ATTEMPTS = 3


def client(service: str) -> Any:
    """The process-wide client for ``service`` (``s3``, ``kinesis``)."""
    existing = _clients.get(service)
    if existing is not None:
        return existing
    config = Config(
        connect_timeout=5,
        read_timeout=20,
        retries={
            "mode": "standard",
            "total_max_attempts": _TOTAL_ATTEMPTS.get(service, _DEFAULT_TOTAL_ATTEMPTS),
        },
    )
    created = boto3.client(service, config=config)
    _clients[service] = created
    return created


def warm(service: str) -> None:
    """Create ``service``'s client now (the init phase); nothing where no region is set yet
    (a handler module imported bare, as unit tests do: ``client`` creates it on first use)."""
    try:
        client(service)
    except NoRegionError:
        pass


def reset() -> None:
    """Forget cached clients (tests; a changed endpoint)."""
    _clients.clear()
