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
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from bootstrap.settings import ENV_ENDPOINT, ENV_PREFIX, SettingsError
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
_DEFAULT_FIX = "re-run the command (apply resumes where it stopped); if it persists, fix the cause above"


def translate(error: BaseException, step: str) -> BootstrapError:
    """Map a botocore/connection error raised during ``step`` to a BootstrapError."""
    where = f"while {step}: " if step else ""
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        url = getattr(error, "kwargs", {}).get("endpoint_url", "the endpoint")
        return BootstrapError(
            f"{where}cannot reach {url}",
            f"start the emulator (`python -m emulator`) or LocalStack (`make up`), "
            f"or point {ENV_ENDPOINT} at a running one",
        )
    if isinstance(error, ReadTimeoutError):
        return BootstrapError(f"{where}the endpoint did not answer in time", _DEFAULT_FIX)
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return BootstrapError(
            f"{where}no usable AWS credentials",
            "configure a profile (AWS_PROFILE) or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        )
    if isinstance(error, NoRegionError):
        return ConfigurationError(f"{where}no AWS region", "export AWS_REGION=us-east-1")
    if isinstance(error, ClientError):
        code = error_code(error)
        message = " ".join(error_message(error).split())
        return BootstrapError(f"{where}{code}: {message}", _FIXES.get(code, _DEFAULT_FIX))
    return BootstrapError(f"{where}{type(error).__name__}: {error}", _DEFAULT_FIX)


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
