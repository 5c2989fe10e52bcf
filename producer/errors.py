"""The producer's error hierarchy and the one place botocore errors are translated.

Callers (the CLI, ``sandbox produce``) catch :class:`ProducerError` once and
print ``error: <str(error)>``: one line in the documented shape ``… (fix: …)``,
never a traceback.
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

from bootstrap.settings import DEFAULT_PREFIX, ENV_ENDPOINT, Settings

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
    """A failure the user can act on: ``message`` says what, ``fix`` what to do.

    ``str(error)`` is the one line to show: ``message (fix: fix)``.
    """

    exit_code = 1

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} (fix: {self.fix})" if self.fix else self.message


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


class RunIdTaken(OptionsError):
    """The run id already names a stored run: reusing it would overwrite that run's manifest."""


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


def bootstrap_command(settings: Settings, command: str = "apply") -> str:
    """How to run ``bootstrap <command>`` for these settings, as a fix names it.

    ``sandbox bootstrap`` finds the running sandbox by itself; ``python -m bootstrap``
    needs the endpoint spelled out (it refuses to guess, since no endpoint means AWS).
    The prefix is named only when it is not the default.
    """
    prefix = f" --prefix {settings.prefix}" if settings.prefix != DEFAULT_PREFIX else ""
    standalone = f"python -m bootstrap {command}{prefix}"
    if settings.endpoint_url:
        standalone = f"{ENV_ENDPOINT}={settings.endpoint_url} {standalone}"
    return f"`sandbox bootstrap {command}{prefix}` (or `{standalone}`)"


def translate(
    error: BaseException, settings: Settings, *, table: str = "", bucket: str = ""
) -> ProducerError | None:
    """Map a botocore error to a ProducerError with a fix, or None if it is not one we know."""
    if isinstance(error, ProducerError):
        return error
    if is_connect_failure(error) or is_transport_failure(error):
        if settings.endpoint_url:
            return EndpointUnreachable(
                f"cannot reach {settings.endpoint_url}",
                f"start the sandbox with `make up`, or point {ENV_ENDPOINT} / --endpoint-url at a running one",
            )
        return EndpointUnreachable(f"cannot reach {_where(settings)}", "check your network")
    if isinstance(error, NoCredentialsError):
        return AccessProblem(
            "no AWS credentials found",
            f'for the sandbox: eval "$(sandbox env)" (or set {ENV_ENDPOINT}); for AWS: aws configure',
        )
    code = error_code(error)
    if code == "ResourceNotFoundException" and table:
        return TableNotFound(
            f"table {table} not found at {_where(settings)}", f"run {bootstrap_command(settings)}"
        )
    if code in _BUCKET_MISSING_CODES and bucket:
        return BucketNotFound(
            f"bucket {bucket} not found at {_where(settings)}", f"run {bootstrap_command(settings)}"
        )
    if code in _CREDENTIAL_CODES:
        return AccessProblem(
            f"{_where(settings)} refused the credentials ({code}): {error}",
            'check your AWS credentials (the sandbox accepts the ones `eval "$(sandbox env)"` sets)',
        )
    if isinstance(error, (BotoCoreError, ClientError)):
        return ProducerError(
            f"{_where(settings)} answered with an error: {error}",
            "fix the cause it names, then run the producer again (a new run)",
        )
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
