"""The one endpoint: routes Lambda API calls to our service and everything else to moto.

``DELETE /_aws/dynamodb/expired`` runs a TTL sweep now, as on LocalStack.
Requests into moto are serialized by the adapter's lock (moto is not thread-safe);
writes to DynamoDB and Kinesis wake the pollers. Health answers on
``/_emulator/health`` and on LocalStack's ``/_localstack/health`` paths, so tools
that probe LocalStack work unchanged.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.exceptions import ClientDisconnected
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wsgi import get_input_stream

from emulator.keepalive import BODY_READ, KeepAliveHandler, OpenConnections
from emulator.lambda_service.responses import LambdaApi
from emulator.moto_adapter import MotoAdapter
from emulator.moto_dispatch import CachedDispatcher

SERVICES = ("dynamodb", "dynamodbstreams", "kinesis", "s3", "sqs", "sns", "iam", "sts", "logs", "lambda")
VERSION = "0.1.0"


def _signing_service(environ: dict[str, Any]) -> str | None:
    """The service a SigV4 request was signed for (its credential scope)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        return scope.split("/")[3].lower()
    except IndexError:
        return None


def _read_body_first(environ: dict[str, Any]) -> None:
    """Read the whole body now, before moto's lock is taken: moto reads it inside the call, so a
    client that stalls mid-body would otherwise hold the lock, and every service with it."""
    data = get_input_stream(environ, safe_fallback=True).read()
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ[BODY_READ] = True


def _json_error(start_response: Callable[..., Any], status: str, message: str) -> Iterable[bytes]:
    data = json.dumps({"message": message}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class EndpointApp:
    """The WSGI application behind the endpoint."""

    def __init__(self, adapter: MotoAdapter, lambda_api: LambdaApi, account_id: str, expire_now: Callable[[], int]) -> None:
        self.adapter = adapter
        self.expire_now = expire_now
        self.lambda_api = lambda_api
        self.account_id = account_id
        self.moto = CachedDispatcher()

    def _health(self, start_response: Callable[..., Any], path: str) -> Iterable[bytes]:
        if path.startswith("/_localstack/init"):
            body: dict[str, Any] = {"completed": True, "scripts": []}
        else:
            body = {"services": {s: "running" for s in SERVICES}, "edition": "embedded", "version": VERSION}
        data = json.dumps(body).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(("/_emulator/health", "/_localstack/health", "/_localstack/init")):
            return self._health(start_response, path)
        if path == "/_aws/dynamodb/expired" and environ.get("REQUEST_METHOD") == "DELETE":
            # LocalStack's "delete expired items now" endpoint (`make expire`).
            data = json.dumps({"ExpiredItems": self.expire_now()}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        service = _signing_service(environ)
        if service == "lambda" or (service is None and LambdaApi.handles(path)):
            return self.lambda_api(environ, start_response)
        environ.setdefault("HTTP_X_MOTO_ACCOUNT_ID", self.account_id)
        try:
            _read_body_first(environ)
        except ClientDisconnected:
            return _json_error(start_response, "400 Bad Request", "The request body ended before its Content-Length")
        with self.adapter.lock:
            if self.adapter.frozen:  # stopping, the final snapshot is taken: a write now would be lost
                return _json_error(start_response, "503 Service Unavailable", "The endpoint is shutting down")
            if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                self.adapter.touch()
            # moto builds the whole body inside the call; materialize it under the lock.
            return list(self.moto(environ, start_response))


#: Seconds a connection may stay silent mid-request (or before its first byte) before it is
#: dropped: a client that sends half a request and stalls must not hold a thread and a socket forever.
REQUEST_TIMEOUT = 30.0


_ACCESS_LOG = logging.getLogger("werkzeug")


class EndpointRequestHandler(KeepAliveHandler, MotoRequestHandler):
    """moto's request handler with keep-alive, a socket timeout and JSON, not HTML, for malformed requests."""

    timeout: float | None = REQUEST_TIMEOUT

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's error page (a bad request line, headers too long) as AWS-style JSON."""
        body = json.dumps({"Type": "User", "message": message or self.responses.get(code, ("error",))[0]}).encode()
        self.log_error("code %d, message %s", code, message)
        self.request_version = "HTTP/1.1"  # a garbled request line leaves HTTP/0.9: no status line at all
        self.send_response(code)  # the standard reason phrase: nothing of the request in the status line
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-ErrorType", "InvalidRequestContentException")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """werkzeug's access-log line, built only when its logger would print it.

        werkzeug formats the line (IRI decoding, a timestamp, colours) before its logger
        decides, and the endpoint keeps that logger quiet: the formatting was wasted CPU on
        every request."""
        if _ACCESS_LOG.isEnabledFor(logging.INFO):
            super().log_request(code, size)

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's naming
        """Through logging (quiet by default), not straight to stderr: a fuzzing client would flood it.

        A kept-alive connection that sends no next request within the timeout is closed at
        debug level: the client's pool simply left it idle."""
        level = logging.DEBUG if self.idle_timeout(format) else logging.INFO
        logging.getLogger("emulator.http").log(level, format, *args)


def _check_port_free(host: str, port: int) -> None:
    """Raise OSError(EADDRINUSE) when host:port cannot be bound."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise OSError(errno.EADDRINUSE, f"port {port} on {host} is already in use") from exc
            raise


class EndpointServer:
    """A threaded HTTP server for ``EndpointApp`` on host:port, in a background thread."""

    def __init__(self, app: EndpointApp, host: str, port: int, request_timeout: float = REQUEST_TIMEOUT) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
        _check_port_free(host, port)  # werkzeug would print its own message and sys.exit()
        self._connections = OpenConnections()
        handler = type("Handler", (EndpointRequestHandler,), {"timeout": request_timeout, "connections": self._connections})
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=handler)
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True, name="endpoint")

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._connections.close_waiting()
        self._thread.join(timeout=5)
