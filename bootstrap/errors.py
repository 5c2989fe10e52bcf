"""Every failure bootstrap can hit, as one exception type with a one-line message and a fix.

botocore/urllib3 errors are translated in exactly one place (:func:`boundary`), so
resource modules call boto3 plainly and the CLI prints ``str(error)`` and exits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from bootstrap.settings import ENV_ENDPOINT, ENV_PREFIX, ENV_REGION, SettingsError
from bootstrap.topology import TopologyError


class BootstrapError(Exception):
    """A failure with what went wrong and what to do about it (both short, one line)."""

    def __init__(self, message: str, fix: str | None = None, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message} (fix: {self.fix})" if self.fix else self.message


class ConfigurationError(BootstrapError):
    """The user's settings or topology are wrong: nothing was changed (exit code 2)."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message, fix, exit_code=2)


def error_code(error: BaseException) -> str:
    """The AWS error code of a ClientError ('' for anything else)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Message", "")) or str(error)
    return str(error)


# AWS error code -> what the user can do about it.
_FIXES: dict[str, str] = {
    "AccessDenied": "use credentials allowed to manage IAM, DynamoDB, S3, Kinesis, SQS and Lambda",
    "AccessDeniedException": "use credentials allowed to manage IAM, DynamoDB, S3, Kinesis, SQS and Lambda",
    "UnrecognizedClientException": "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or your profile)",
    "InvalidClientTokenId": "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or your profile)",
    "ExpiredToken": "refresh your AWS session credentials",
    "ExpiredTokenException": "refresh your AWS session credentials",
    "BucketAlreadyExists": f"bucket names are global: pick another {ENV_PREFIX}",
    "LimitExceededException": "a service quota or rate limit was hit: wait a minute and re-run apply",
    "ResourceInUseException": "the resource is busy (being created, updated or deleted): re-run in a minute",
    "ThrottlingException": "AWS throttled the calls: re-run apply (it resumes where it stopped)",
    "AWS.SimpleQueueService.QueueDeletedRecently": "SQS blocks a deleted queue's name for 60 s: re-run apply then",
}
#: Transient failures: the same command can succeed a moment later, and apply resumes.
_RETRY_FIX = "re-run the command (apply resumes where it stopped); if it persists, fix the cause above"
#: AWS refused the request itself (4xx): running it again sends the same request.
_REFUSED_FIX = "AWS refused the request: fix the cause above (re-running alone will fail the same way)"
#: Failed before any request was sent (a local botocore error): nothing to retry.
_LOCAL_FIX = f"check the settings ({ENV_ENDPOINT}, {ENV_REGION}, credentials); re-running alone will not help"
#: Error codes that mean "try again later" although not all of them come with a 5xx status.
_TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "ServiceUnavailable", "InternalFailure", "InternalError",
     "TooManyRequestsException", "ProvisionedThroughputExceededException", "Throttling", "SlowDown"}
)
#: botocore's message for an endpoint URL it cannot use (a plain ValueError, not a BotoCoreError).
_INVALID_ENDPOINT = "Invalid endpoint"


def _client_error_fix(error: ClientError) -> str:
    code = error_code(error)
    if code in _FIXES:
        return _FIXES[code]
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return _RETRY_FIX if code in _TRANSIENT_CODES or status >= 500 or status == 429 else _REFUSED_FIX


def translate(error: BaseException, step: str) -> BootstrapError:
    """Map a botocore/connection error raised during ``step`` to a BootstrapError."""
    where = f"while {step}: " if step else ""
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        url = getattr(error, "kwargs", {}).get("endpoint_url", "the endpoint")
        return BootstrapError(
            f"{where}cannot reach {url}",
            f"start the sandbox with `make up` (or only the emulator: `make emulator`), "
            f"or point {ENV_ENDPOINT} at a running one",
        )
    if isinstance(error, ReadTimeoutError):
        return BootstrapError(f"{where}the endpoint did not answer in time", _RETRY_FIX)
    if isinstance(error, ConnectionClosedError | HTTPClientError):
        return BootstrapError(f"{where}the connection to the endpoint failed: {error}", _RETRY_FIX)
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return BootstrapError(
            f"{where}no usable AWS credentials",
            "configure a profile (AWS_PROFILE) or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        )
    if isinstance(error, NoRegionError):
        return ConfigurationError(f"{where}no AWS region", "export AWS_REGION=us-east-1")
    if isinstance(error, InvalidRegionError):
        return ConfigurationError(f"{where}{error}", f"set {ENV_REGION} to a region name like us-east-1")
    if _is_invalid_endpoint(error):
        return ConfigurationError(f"{where}{error}", f"set {ENV_ENDPOINT} to a URL like http://127.0.0.1:4566")
    if isinstance(error, ClientError):
        code = error_code(error)
        message = " ".join(error_message(error).split())
        return BootstrapError(f"{where}{code}: {message}", _client_error_fix(error))
    return BootstrapError(f"{where}{type(error).__name__}: {error}", _LOCAL_FIX)


def _is_invalid_endpoint(error: BaseException) -> bool:
    return type(error) is ValueError and str(error).startswith(_INVALID_ENDPOINT)


@contextmanager
def boundary(current_step: Callable[[], str] = lambda: "") -> Iterator[None]:
    """The one place where library errors become BootstrapError (the CLI catches only that)."""
    try:
        yield
    except BootstrapError:
        raise
    except TopologyError as error:
        raise ConfigurationError(
            f"invalid topology: {error}", "edit bootstrap/topology.py (CONSUMERS for Kinesis readers)"
        ) from error
    except SettingsError as error:
        raise ConfigurationError(str(error)) from error
    except (BotoCoreError, ClientError) as error:
        raise translate(error, current_step()) from error
    except ValueError as error:  # botocore refuses an endpoint URL with a plain ValueError
        if not _is_invalid_endpoint(error):
            raise
        raise translate(error, current_step()) from error
