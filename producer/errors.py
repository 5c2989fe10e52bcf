"""The producer's error hierarchy and the one place botocore errors are translated.

Callers (the CLI, ``sandbox produce``) catch :class:`ProducerError` once and
print its message: one line that names the fix, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from bootstrap.settings import ENV_ENDPOINT, Settings

#: Error codes that mean "not applied, try again later" (safe to retry any write).
THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "Throttling",
        "SlowDown",
    }
)
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "AccessDeniedException",
        "AccessDenied",
    }
)
_BUCKET_MISSING_CODES = frozenset({"NoSuchBucket", "404", "NotFound"})


class ProducerError(Exception):
    """A failure the user can act on; ``str(error)`` is the one line to show."""

    exit_code = 1


class OptionsError(ProducerError, ValueError):
    """Bad producer options (a usage error: exit code 2)."""

    exit_code = 2


class EndpointUnreachable(ProducerError):
    """Nothing answers at the configured endpoint."""


class TableNotFound(ProducerError):
    """The clicks table does not exist (bootstrap has not run)."""


class BucketNotFound(ProducerError):
    """The data-lake bucket (home of run manifests) does not exist."""


class ManifestNotFound(ProducerError):
    """No manifest is stored for the requested run id."""


class AccessProblem(ProducerError):
    """Credentials are missing or refused."""


class WriteError(ProducerError):
    """A write failed in a way the producer cannot retry safely."""


def error_code(error: BaseException) -> str:
    """The AWS error code of a ClientError ('' for anything else)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def is_throttle(error: BaseException) -> bool:
    """True when AWS promises the request was not applied and asks us to slow down."""
    return error_code(error) in THROTTLE_CODES


def is_connect_failure(error: BaseException) -> bool:
    """True when the request never reached the server (so it cannot have been applied)."""
    return isinstance(error, (EndpointConnectionError, ConnectTimeoutError))


def is_transport_failure(error: BaseException) -> bool:
    """Connection lost or timed out after sending: the request may or may not have applied."""
    return isinstance(error, (ConnectionClosedError, ReadTimeoutError))


def _where(settings: Settings) -> str:
    return settings.endpoint_url or f"AWS ({settings.region})"


def translate(
    error: BaseException, settings: Settings, *, table: str = "", bucket: str = ""
) -> ProducerError | None:
    """Map a botocore error to a ProducerError with a fix, or None if it is not one we know."""
    if isinstance(error, ProducerError):
        return error
    if is_connect_failure(error) or is_transport_failure(error):
        if settings.endpoint_url:
            return EndpointUnreachable(
                f"cannot reach {settings.endpoint_url}: start the sandbox with `make up` "
                f"(or point {ENV_ENDPOINT} / --endpoint-url at a running one)"
            )
        return EndpointUnreachable(f"cannot reach {_where(settings)}: check your network")
    if isinstance(error, NoCredentialsError):
        return AccessProblem(
            "no AWS credentials found: configure them (aws configure) or set "
            f"{ENV_ENDPOINT} to use the sandbox"
        )
    code = error_code(error)
    if code == "ResourceNotFoundException" and table:
        return TableNotFound(
            f"table {table} not found at {_where(settings)}: run `python -m bootstrap apply`"
        )
    if code in _BUCKET_MISSING_CODES and bucket:
        return BucketNotFound(
            f"bucket {bucket} not found at {_where(settings)}: run `python -m bootstrap apply`"
        )
    if code in _CREDENTIAL_CODES:
        return AccessProblem(f"{_where(settings)} refused the credentials ({code}): {error}")
    if isinstance(error, (BotoCoreError, ClientError)):
        return ProducerError(f"{_where(settings)} answered with an error: {error}")
    return None


@contextmanager
def boundary(settings: Settings, *, table: str = "", bucket: str = "") -> Iterator[None]:
    """Re-raise botocore errors inside the block as ProducerErrors with a fix."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        mapped = translate(error, settings, table=table, bucket=bucket)
        if mapped is None:  # pragma: no cover - translate maps every botocore error
            raise
        raise mapped from error
