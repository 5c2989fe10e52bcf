"""moto's request dispatcher, made cheaper per request without changing what it answers.

- The host -> backend lookup is memoized. moto resolves the backend of every request from
  scratch: it lists its own package directory (``os.listdir`` plus an ``isdir`` per entry,
  about 150), then tries each service's URL patterns in turn until one matches. For our S3
  and Kinesis calls that was 9 % of the endpoint's CPU under the pipeline benchmark
  (py-spy). The answer depends on the host string only.
- moto's per-service Flask apps run with ``debug = True``, which makes Flask build a new
  class for every request (its ``request.files`` debug helper). They run here with debug
  off and ``PROPAGATE_EXCEPTIONS`` on, which is the error handling debug mode gave.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

#: Hosts remembered at most: virtual-hosted S3 names (bucket.s3.region.amazonaws.com)
#: make the set of hosts open-ended, and a lookup past the limit is only slower, not wrong.
MAX_HOSTS = 1024


def create_service_app(service: Any) -> Flask:
    """moto's Flask app for one service, without Flask's per-request debug helpers."""
    app = create_backend_app(service)
    app.debug = False
    app.config["PROPAGATE_EXCEPTIONS"] = True  # as in debug mode: an error reaches our handler
    return app


class CachedDispatcher(DomainDispatcherApplication):
    """``DomainDispatcherApplication`` whose ``get_backend_for_host`` is computed once per host."""

    def __init__(self) -> None:
        super().__init__(create_service_app)
        self._backend_of: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        try:
            return self._backend_of[host]
        except KeyError:
            backend = super().get_backend_for_host(host)
            if len(self._backend_of) < MAX_HOSTS:
                self._backend_of[host] = backend
            return backend
