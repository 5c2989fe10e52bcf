"""The dashboard's web server: a small werkzeug WSGI app on 127.0.0.1, offline by design.

Routes: ``/`` (the page), ``/static/…`` (its script and style, and plotly.js served from the
installed ``plotly`` wheel, never a CDN), ``/api/state`` (``DashboardState`` as JSON, with
the failed batches), ``/api/trace?click=UUID`` (``sandbox.trace``, what `sandbox trace`
prints) and ``/api/health``. The page polls ``/api/state`` once a second.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from importlib import resources
from types import TracebackType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from sandbox.dashboard_state import DashboardState
from sandbox.errors import translate
from sandbox.redrive import FailedBatch, NotAFailedBatch
from sandbox.trace import Tracer

STATIC = resources.files("sandbox") / "dashboard_static"
#: The charting library: plotly.js as the plotly wheel ships it (plotly/package_data/).
PLOTLY_JS = ("plotly", "package_data/plotly.min.js")
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
#: Seconds a look at the failed-batches queue is reused (every page polls once a second).
PEEK_EVERY_S = 5.0
PEEK_MAX = 10


class FailedBatchPeek:
    """The newest failure documents of the SQS queue, read without hiding them (visibility 0)."""

    def __init__(self, sqs: Any, queue_name: str, *, every_s: float = PEEK_EVERY_S) -> None:
        self._sqs = sqs
        self._queue = queue_name
        self._url: str | None = None
        self._every = every_s
        self._cached: tuple[float, list[dict[str, Any]]] = (float("-inf"), [])
        self._lock = threading.Lock()

    def get(self) -> list[dict[str, Any]]:
        with self._lock:
            if time.monotonic() - self._cached[0] >= self._every:
                self._cached = (time.monotonic(), self._read())
            return self._cached[1]

    def _read(self) -> list[dict[str, Any]]:
        try:
            if self._url is None:
                self._url = self._sqs.get_queue_url(QueueName=self._queue)["QueueUrl"]
            messages = self._sqs.receive_message(
                QueueUrl=self._url, MaxNumberOfMessages=PEEK_MAX, VisibilityTimeout=0, WaitTimeSeconds=0
            ).get("Messages", [])
        except (BotoCoreError, ClientError) as error:
            mapped = translate(error)
            return [{"error": mapped.message if mapped else str(error).splitlines()[0]}]
        batches = []
        for message in messages:
            try:
                batch = FailedBatch.parse(message.get("Body", ""))
            except NotAFailedBatch as why:
                batches.append({"error": f"message {message.get('MessageId')}: not a failure document ({why})"})
                continue
            batches.append({
                "function": batch.function_name,
                "condition": batch.condition,
                "batch": batch.describe(),
                "first_arrival": batch.first_arrival,
            })
        return batches


class _QuietHandler(WSGIRequestHandler):
    """No access log: the dashboard runs next to `sandbox up`'s live view."""

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's signature
        return


class DashboardApp:
    """The WSGI application (see the module docstring)."""

    def __init__(
        self,
        state: DashboardState,
        tracer: Callable[[], Tracer],
        failed: FailedBatchPeek | None = None,
    ) -> None:
        self.state = state
        self._tracer = tracer
        self._failed = failed
        self._routes = Map([
            Rule("/", endpoint="index"),
            Rule("/static/<name>", endpoint="static"),
            Rule("/api/state", endpoint="state"),
            Rule("/api/trace", endpoint="trace"),
            Rule("/api/health", endpoint="health"),
            Rule("/favicon.ico", endpoint="favicon"),
        ])

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = self._routes.bind_to_environ(environ).match()
            response = getattr(self, f"_{endpoint}")(request, **args)
        except HTTPException as error:
            response = error.get_response(environ)
        return response(environ, start_response)

    def _index(self, _: Request) -> Response:
        return self._file("index.html")

    def _static(self, _: Request, name: str) -> Response:
        if name == "plotly.min.js":
            package, path = PLOTLY_JS
            body = (resources.files(package) / path).read_bytes()  # imports plotly only when a page asks
            return Response(body, content_type=_TYPES[".js"], headers={"Cache-Control": "max-age=3600"})
        return self._file(name)

    def _file(self, name: str) -> Response:
        path = STATIC / name
        suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
        if "/" in name or suffix not in _TYPES or not path.is_file():
            raise NotFound()
        return Response(path.read_bytes(), content_type=_TYPES[suffix], headers={"Cache-Control": "no-cache"})

    def _state(self, _: Request) -> Response:
        body = self.state.to_json()
        body["failed_batches"] = self._failed.get() if self._failed is not None else []
        return _json(body)

    def _trace(self, request: Request) -> Response:
        click = (request.args.get("click") or "").strip()
        if not click or "/" in click or len(click) > 200:
            return _json({"error": "give a click id: ?click=UUID"}, status=400)
        try:
            result = self._tracer().trace(click)
        except Exception as error:  # noqa: BLE001 - shown on the page (the server keeps no log)
            mapped = translate(error)
            if mapped is not None:
                return _json({"click": click, "error": mapped.line()}, status=502)
            return _json({"click": click, "error": f"trace failed: {type(error).__name__}: {error}"}, status=500)
        return _json({"click": click, "found": result.found, "stages": [asdict(stage) for stage in result.stages]})

    def _favicon(self, _: Request) -> Response:
        return Response(status=204)

    def _health(self, _: Request) -> Response:
        return _json({"status": "ok", "ready": self.state.to_json()["ready"]})


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, default=str), status=status, content_type="application/json")


class DashboardServer:
    """``start``/``stop`` (or a ``with`` block): serves ``app`` from a daemon thread."""

    def __init__(self, app: DashboardApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> DashboardServer:
        self._server = make_server(self.host, self.requested_port, self.app, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="dashboard", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the dashboard is not started")
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"
