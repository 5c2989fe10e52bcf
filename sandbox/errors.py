"""The one boundary where failures a user can cause become one line with the fix.

Commands raise ``SandboxError`` subclasses for what they detect themselves; everything
else (botocore, settings, the producer's and bootstrap's own errors) is translated
here by ``translate``. The CLI catches ``SandboxError`` once, prints its line and exits
with its code: no traceback for a mistake a user can fix.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from botocore import exceptions as boto_errors

#: Exit codes: 1 = something to fix in the environment, 2 = bad usage/config (click's too).
EXIT_FAILURE = 1
EXIT_USAGE = 2


class SandboxError(Exception):
    """A failure the user can act on: ``message`` says what, ``fix`` says what to do."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def line(self) -> str:
        """The one line the CLI prints."""
        return f"error: {self.message}" + (f" (fix: {self.fix})" if self.fix else "")

    def __str__(self) -> str:
        return self.line()


class ConfigError(SandboxError):
    """A setting or argument is unusable."""

    exit_code = EXIT_USAGE


class PortInUse(SandboxError):
    def __init__(self, host: str, port: int, what: str, choose: str = "AWS_ENDPOINT_URL/SANDBOX_HTTP_SINK_URL") -> None:
        """``choose``: where the user picks another port."""
        super().__init__(
            f"port {port} on {host} ({what}) is already in use",
            "stop what holds it (`make down` if it is a sandbox; `ss -ltnp | grep :"
            f"{port}` shows who) or pick another port via {choose}",
        )
        self.port = port


class BackendNotRunning(SandboxError):
    def __init__(self, endpoint: str, detail: str = "") -> None:
        super().__init__(
            f"nothing answers at {endpoint}{f' ({detail})' if detail else ''}",
            "start the sandbox with `make up` (or `sandbox up`), or point AWS_ENDPOINT_URL at a running one",
        )
        self.endpoint = endpoint


class NotBootstrapped(SandboxError):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} does not exist on this endpoint",
            "create the pipeline with `sandbox bootstrap apply` (`make up` does it for you)",
        )


class DockerUnavailable(SandboxError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"BACKEND=docker was asked for, but no Docker engine answers ({detail})",
            "start Docker (check with `docker info`), or run without Docker: `make up BACKEND=embedded`",
        )


class UnknownFunction(SandboxError):
    exit_code = EXIT_USAGE

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no function {name!r}", f"use one of: {', '.join(known)}")


class AlreadyRunning(SandboxError):
    def __init__(self, pid: int, endpoint: str) -> None:
        super().__init__(
            f"a sandbox is already running (pid {pid}, {endpoint})",
            "use it (`sandbox status`), or stop it first with `make down`",
        )


_MISSING_RESOURCE_CODES = {
    "ResourceNotFoundException": "a pipeline resource",
    "NoSuchBucket": "a pipeline bucket",
    "AWS.SimpleQueueService.NonExistentQueue": "the failed-batches queue",
    "QueueDoesNotExist": "the failed-batches queue",
}


def _is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in {"127.0.0.1", "localhost", "::1", "0.0.0.0"} or "." not in host


def translate(exc: BaseException) -> SandboxError | None:
    """The ``SandboxError`` a known failure maps to; None for a bug (let it surface)."""
    if isinstance(exc, SandboxError):
        return exc
    # Configuration errors of the shared core (imported here so the mapping stays in one place).
    from bootstrap.settings import SettingsError
    from bootstrap.topology import TopologyError

    if isinstance(exc, (SettingsError, TopologyError)):
        return ConfigError(str(exc))
    if isinstance(exc, (boto_errors.EndpointConnectionError, boto_errors.ConnectTimeoutError)):
        url = str(exc.kwargs.get("endpoint_url", "the endpoint"))
        if _is_local(url):
            return BackendNotRunning(url)
        return SandboxError(f"cannot reach {url}", "check the network, AWS_REGION and AWS_ENDPOINT_URL")
    if isinstance(exc, boto_errors.NoCredentialsError):
        return ConfigError(
            "no AWS credentials found",
            'for the sandbox: eval "$(sandbox env)"; for real AWS: configure a profile',
        )
    if isinstance(exc, boto_errors.ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _MISSING_RESOURCE_CODES:
            what = exc.response.get("Error", {}).get("Message") or _MISSING_RESOURCE_CODES[code]
            return NotBootstrapped(f"{_MISSING_RESOURCE_CODES[code]} ({what})")
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return SandboxError(str(exc), "stop what holds the port (`make down` if it is a sandbox)")
    return _translate_component_error(exc)


def _translate_component_error(exc: BaseException) -> SandboxError | None:
    """Errors the producer, bootstrap and emulator already word for users: pass their text through."""
    emulator_config = sys.modules.get("emulator.config")  # loaded only if the emulator ran
    if emulator_config is not None and isinstance(exc, emulator_config.ConfigError):
        return ConfigError(str(exc))
    for module, name in (("producer.errors", "ProducerError"), ("bootstrap.errors", "BootstrapError")):
        try:
            base = getattr(__import__(module, fromlist=[name]), name)
        except (ImportError, AttributeError):
            continue
        if isinstance(exc, base):
            error = SandboxError(str(exc))
            error.exit_code = int(getattr(exc, "exit_code", EXIT_FAILURE))
            return error
    return None


@contextmanager
def boundary() -> Iterator[None]:
    """Re-raise known failures as ``SandboxError`` (with the original chained for -v debugging)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - translated or re-raised unchanged
        mapped = translate(exc)
        if mapped is None or mapped is exc:
            raise
        raise mapped from exc
