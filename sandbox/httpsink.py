"""The HTTP endpoint consumer B posts to: records each delivery once, can be told to misbehave.

Endpoints (JSON in and out):
  POST   /deliveries  body = a JSON object, header Idempotency-Key (required):
                      201 recorded, 200 duplicate (not recorded again), 400 junk,
                      503 (or the configured status) when a fault is injected
  POST   /deliveries/batch  body = {"records": [{"key", "body"}, ...]}, recorded in order:
                      200 all held, 400 junk at record "recorded" (those before it are held),
                      503 (or the configured status) for a fault: none recorded
  GET    /deliveries  every recorded delivery in arrival order:
                      [{"key", "received_at" (epoch ms), "attempts", "body"}]
  DELETE /deliveries  forget deliveries and counters
  GET    /stats       counts, first/last receive time, end-to-end latency p50/p95
  GET    /faults      current faults;  POST /faults {"fail_ratio", "latency_ms", "status"}
  GET    /health      {"status": "ok"}

``python -m sandbox.httpsink [--host 127.0.0.1] [--port 8088]`` serves until
SIGINT/SIGTERM; ``HttpSink`` runs the same server in a thread (tests, ``sandbox up``).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from dataclasses import asdict
from types import TracebackType
from pathlib import Path
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

import typer

from sandbox.httpsink_state import Faults, JunkError, Outcome, SinkState

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8088
MAX_BODY = 1024 * 1024
#: Seconds a connection may stay silent (mid-request, or idle between keep-alive requests) before
#: it is closed: a client that sends half a request and stalls must not hold a thread forever.
REQUEST_TIMEOUT = 30.0
DELIVERIES_PATH = "/deliveries"
BATCH_PATH = f"{DELIVERIES_PATH}/batch"

_STATUS = {
    Outcome.CREATED: HTTPStatus.CREATED,
    Outcome.DUPLICATE: HTTPStatus.OK,
    Outcome.REJECTED: HTTPStatus.BAD_REQUEST,
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never blocks shutdown
    allow_reuse_address = True
    state: SinkState
    request_timeout: float | None = REQUEST_TIMEOUT

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away or stalled past the timeout is not an error worth a traceback."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Translates HTTP to SinkState calls; no logic of its own."""

    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive: consumer B reuses connections
    # Headers and body go out in separate writes; with Nagle on, the second waits for the
    # client's delayed ACK (~40 ms per request on a kept-alive connection).
    disable_nagle_algorithm = True
    _ROUTES: ClassVar[dict[tuple[str, str], str]] = {
        ("POST", DELIVERIES_PATH): "_post_delivery",
        ("POST", BATCH_PATH): "_post_batch",
        ("GET", DELIVERIES_PATH): "_get_deliveries",
        ("DELETE", DELIVERIES_PATH): "_delete_deliveries",
        ("GET", "/stats"): "_get_stats",
        ("GET", "/faults"): "_get_faults",
        ("POST", "/faults"): "_post_faults",
        ("GET", "/health"): "_get_health",
    }

    def setup(self) -> None:
        self.timeout = self.server.request_timeout  # StreamRequestHandler.setup applies it to the socket
        super().setup()

    def __getattr__(self, name: str) -> Any:
        """Every method (HEAD, OPTIONS, PUT, made-up ones) is routed: 404/405 in JSON, not http.server's 501 HTML."""
        if name.startswith("do_"):
            return lambda: self._dispatch(name[3:])
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: one line per request would drown the sandbox's own output."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a bad request line, headers too long) in JSON like every answer."""
        self.request_version = "HTTP/1.1"  # a garbled request line leaves HTTP/0.9: no status line at all
        self._send(HTTPStatus(code), {"error": message or HTTPStatus(code).phrase}, close=True)

    # --- routing ------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        path = urlsplit(self.path).path.rstrip("/") or "/"
        name = self._ROUTES.get((method, path))
        if name is None:
            known = {p for (_, p) in self._ROUTES}
            # The body stays unread: close the connection rather than misparse it as a request.
            if path in known:
                error = HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"{method} not allowed on {path}"}
            else:
                error = HTTPStatus.NOT_FOUND, {"error": f"no route {path}"}
            self._send(*error, close=True)
            return
        try:
            body = self._read_body()
        except JunkError as error:
            self._send(HTTPStatus.BAD_REQUEST, {"error": str(error)}, close=True)
            return
        getattr(self, name)(body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise JunkError("chunked bodies are not supported: send Content-Length")
        raw = self.headers.get("Content-Length") or "0"
        try:
            length = int(raw)
        except ValueError:
            raise JunkError("bad Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise JunkError(f"body must be at most {MAX_BODY} bytes")
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client went away mid-body: a truncated document is no delivery
            raise JunkError(f"body ended after {len(body)} of its {length} bytes")
        return body

    # --- endpoints ----------------------------------------------------------------
    def _delay(self) -> Faults:
        """The injected latency, once per request; returns the faults in force."""
        faults = self.server.state.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        return faults

    def _post_delivery(self, body: bytes) -> None:
        state = self.server.state
        faults = self._delay()
        outcome, delivery, message = state.deliver(self.headers.get("Idempotency-Key"), body)
        if outcome is Outcome.FAULTED:
            self._send(HTTPStatus(faults.status), {"error": message}, retry_after=True)
            return
        payload: dict[str, Any] = {"status": str(outcome), "message": message}
        if delivery is not None:
            payload.update(key=delivery.key, attempts=delivery.attempts)
        self._send(_STATUS[outcome], payload)

    def _post_batch(self, body: bytes) -> None:
        faults = self._delay()
        result = self.server.state.deliver_batch(body)
        if result.outcome is Outcome.FAULTED:
            self._send(HTTPStatus(faults.status), {"error": result.message, "recorded": 0}, retry_after=True)
        elif result.outcome is Outcome.REJECTED:
            self._send(HTTPStatus.BAD_REQUEST, {"error": result.message, "recorded": result.recorded})
        else:
            self._send(HTTPStatus.OK, {"status": "recorded", "recorded": result.recorded,
                                       "created": result.created, "duplicates": result.duplicates})

    def _get_deliveries(self, _: bytes) -> None:
        self._send(HTTPStatus.OK, self.server.state.deliveries_json())

    def _delete_deliveries(self, _: bytes) -> None:
        self.server.state.reset()
        self._send(HTTPStatus.OK, {"status": "reset"})

    def _get_stats(self, _: bytes) -> None:
        self._send(HTTPStatus.OK, self.server.state.stats())

    def _get_faults(self, _: bytes) -> None:
        self._send(HTTPStatus.OK, _faults_json(self.server.state.faults))

    def _post_faults(self, body: bytes) -> None:
        try:
            faults = self.server.state.set_faults(json.loads(body or b"{}"))
        except (JunkError, ValueError, RecursionError) as error:  # RecursionError: nested past the parser
            message = str(error) if isinstance(error, JunkError) else "body is not JSON"
            self._send(HTTPStatus.BAD_REQUEST, {"error": message})
            return
        self._send(HTTPStatus.OK, _faults_json(faults))

    def _get_health(self, _: bytes) -> None:
        self._send(HTTPStatus.OK, {"status": "ok"})

    def _send(
        self, status: HTTPStatus, payload: Any, *, close: bool = False, retry_after: bool = False
    ) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()  # bytes: JSON already
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if retry_after:
            self.send_header("Retry-After", "0")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def _faults_json(faults: Faults) -> dict[str, Any]:
    return asdict(faults)


class HttpSink:
    """The sink in a background thread: ``with HttpSink() as sink: post to sink.url``."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        fail_ratio: float = 0.0,
        latency_ms: int = 0,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self.host = host
        self.request_timeout = request_timeout
        faults = Faults.parse({"fail_ratio": fail_ratio, "latency_ms": latency_ms})
        self.state = SinkState(faults=faults)
        self._requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False  # a stop() (e.g. SIGTERM) before serve_forever() must not be undone

    # --- lifecycle ----------------------------------------------------------------
    def start(self) -> HttpSink:
        """Bind and serve; raises OSError (e.g. port in use) before any thread starts."""
        if self._server is not None:
            return self
        server = _Server((self.host, self._requested_port), _Handler)
        server.state = self.state
        server.request_timeout = self.request_timeout
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="httpsink",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (idempotent)."""
        self._stopped = True
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Block the calling thread until ``stop()`` (from a signal handler or another thread)."""
        if self._stopped:
            return
        self.start()
        thread = self._thread
        while thread is not None and thread.is_alive():
            thread.join(timeout=0.2)

    def __enter__(self) -> HttpSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- addresses ----------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("HttpSink is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        # 0.0.0.0 is a bind address, not one to connect to: local clients use loopback.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The URL consumer B posts to (HTTP_SINK_URL)."""
        return f"{self.base_url}{DELIVERIES_PATH}"

    # --- in-process access (tests, the sandbox CLI) -----------------------------
    def deliveries(self) -> list[dict[str, Any]]:
        return self.state.deliveries()

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def set_faults(self, fail_ratio: float | None = None, latency_ms: int | None = None) -> Faults:
        changes = {"fail_ratio": fail_ratio, "latency_ms": latency_ms}
        return self.state.set_faults({k: v for k, v in changes.items() if v is not None})

    def reset(self) -> None:
        self.state.reset()


cli = typer.Typer(add_completion=False, help="The HTTP endpoint consumer B posts to.")
#: The journal from the environment: the emulator's compose stack sets it (its command is shared
#: with LocalStack's stack, whose endpoint keeps no state, so the sink keeps none there either).
ENV_JOURNAL = "SANDBOX_HTTP_SINK_JOURNAL"


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Bind address (0.0.0.0 for Docker).")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(min=0, max=65535)] = DEFAULT_PORT,
    fail_ratio: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
    latency_ms: Annotated[int, typer.Option(min=0, max=60_000)] = 0,
    journal: Annotated[
        Path | None,
        typer.Option(help="Replay the deliveries recorded in this file, and record each new one there before answering.",
                     envvar=ENV_JOURNAL),
    ] = None,
) -> None:
    """Serve until SIGINT/SIGTERM."""
    sink = HttpSink(host, port, fail_ratio=fail_ratio, latency_ms=latency_ms)
    if journal is not None:
        from sandbox.httpsink_journal import Journal

        restored = sink.state.keep_in(Journal(journal))
        typer.echo(f"state: the HTTP sink's {restored:,} deliveries restored from {journal}" if restored
                   else f"state: the HTTP sink records its deliveries in {journal}")
    try:
        sink.start()
    except OSError as error:
        typer.echo(f"error: cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        raise typer.Exit(1) from None

    def on_signal(signum: int, frame: Any) -> None:
        sink.stop()  # serve_forever runs in its own thread: shutdown() cannot deadlock here

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    from emulator.gc_tuning import GcTuner  # the sink keeps every delivery: short GC pauses

    tuner = GcTuner()
    tuner.start()
    typer.echo(f"HTTP sink ready at {sink.url}", err=False)
    sink.serve_forever()
    tuner.stop()
    sink.state.close()
    typer.echo("HTTP sink stopped", err=True)


def main() -> None:
    cli(prog_name="python -m sandbox.httpsink")


if __name__ == "__main__":
    main()
