"""HTTP/1.1 keep-alive for werkzeug's development server, where it is safe.

werkzeug's server ends every response with ``Connection: close``, because http.server
cannot tell where an unread request body ends and the next request line starts; after
each response it also drains whatever the client sent next. So every boto3 call to the
endpoint opened a new TCP connection, and the server a new thread for it: measured with
the pipeline benchmark's mixed workload, 1,521 connections, one per request.

The endpoint reads every request body it passes to moto in full before answering
(``BODY_READ`` marks it), and a request without a body has nothing to drain. For those
the connection stays open: the ``Connection: close`` header is not sent, and werkzeug's
drain reads nothing (the next request's bytes stay for the next ``handle_one_request``).
Any other request closes its connection, as before. An idle connection is dropped after
the handler's socket timeout, and one waiting for its next request when the server stops
(``OpenConnections.close_waiting``: socketserver's shutdown only stops accepting, and a
kept-alive client would otherwise go on being served by a stopped endpoint).
"""

from __future__ import annotations

import socket
import threading
from typing import Any, BinaryIO

from werkzeug.serving import WSGIRequestHandler

#: Set in the WSGI environ by the application once it has read the whole request body.
BODY_READ = "emulator.body_read"


def _has_no_body(environ: dict[str, Any]) -> bool:
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return not chunked and environ.get("CONTENT_LENGTH", "") in ("", "0")


class OpenConnections:
    """The connections a server serves, and which of them wait for their next request.

    Stopping closes the waiting ones only: a request in flight is answered first (its
    connection then closes), because a request that moto carried out but whose answer is
    lost leaves the client retrying something done, e.g. an S3 put landing twice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[socket.socket, bool] = {}
        self.closing = False

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._waiting[sock] = True

    def discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._waiting.pop(sock, None)

    def mark(self, sock: socket.socket, *, waiting: bool) -> bool:
        """Note whether ``sock`` waits for a request; False once the server is closing."""
        with self._lock:
            if sock in self._waiting:
                self._waiting[sock] = waiting
            return not self.closing

    def close_waiting(self) -> None:
        """Stop serving: shut down the connections waiting for a next request (their handler
        sees the end); the others end after the answer in flight."""
        with self._lock:
            self.closing = True
            waiting = [sock for sock, idle in self._waiting.items() if idle]
        for sock in waiting:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its client


class _DrainGuard:
    """The handler's input stream; reads nothing while the response's connection is kept alive
    (werkzeug's post-response drain), so the next request line is not swallowed."""

    def __init__(self, stream: BinaryIO, handler: KeepAliveHandler) -> None:
        self._stream = stream
        self._handler = handler

    def read(self, size: int = -1) -> bytes:
        if self._handler.keeping_alive:
            return b""
        return self._stream.read(size)

    def __getattr__(self, name: str) -> Any:  # readline, read1, close, ...: the real stream's
        return getattr(self._stream, name)


class KeepAliveHandler(WSGIRequestHandler):
    """werkzeug's request handler, keeping the connection open when the request was read in full."""

    keeping_alive = False
    #: Whether an answer on this connection has kept it open, and whether the handler is now
    #: waiting for the next request line: a kept-alive connection timing out there is idle.
    kept_alive_before = False
    waiting_for_next_request = False
    _environ: dict[str, Any] | None = None
    #: Set per server (a subclass per server), so that stopping it can close what it serves.
    connections: OpenConnections | None = None

    def setup(self) -> None:
        super().setup()
        if self.connections is not None:
            self.connections.add(self.connection)
        # The status line and headers go out in one write, the body in another: with Nagle's
        # algorithm on, the body waits for the ACK the client delays (40 ms per call).
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = _DrainGuard(self.rfile, self)  # type: ignore[assignment]

    def finish(self) -> None:
        if self.connections is not None:
            self.connections.discard(self.connection)
        super().finish()

    def handle_one_request(self) -> None:
        self.keeping_alive = False
        self._environ = None  # a malformed next request must not inherit this one's verdict
        if self.connections is not None and not self.connections.mark(self.connection, waiting=True):
            self.close_connection = True  # the server is stopping: no next request
            return
        self.waiting_for_next_request = self.kept_alive_before
        super().handle_one_request()
        self.kept_alive_before = self.kept_alive_before or self.keeping_alive

    def idle_timeout(self, message: str) -> bool:
        """Whether an error message is a kept-alive connection's idle timeout (not an error)."""
        return self.waiting_for_next_request and message.startswith("Request timed out")

    def parse_request(self) -> bool:
        """The request line has arrived: from here on the connection is busy until answered;
        once the server is closing, a new request is not taken (the client may retry it)."""
        self.waiting_for_next_request = False
        if self.connections is not None and not self.connections.mark(self.connection, waiting=False):
            self.close_connection = True
            return False
        return bool(super().parse_request())

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        self._environ = environ
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close" and self._may_keep_alive():
            self.keeping_alive = True
            return  # HTTP/1.1 connections persist unless told otherwise
        super().send_header(keyword, value)

    def _may_keep_alive(self) -> bool:
        environ = self._environ
        if environ is None or self.request_version != "HTTP/1.1" or self.close_connection:
            return False
        if self.connections is not None and self.connections.closing:
            return False
        return bool(environ.get(BODY_READ)) or _has_no_body(environ)
