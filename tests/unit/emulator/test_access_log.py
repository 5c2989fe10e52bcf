"""The endpoint builds werkzeug's access-log line only when the werkzeug logger would print it."""

from __future__ import annotations

import logging

import pytest
from werkzeug.serving import WSGIRequestHandler

from emulator.server import EndpointRequestHandler


@pytest.mark.parametrize(("level", "built"), [(logging.WARNING, 0), (logging.INFO, 1)])
def test_the_access_line_is_built_only_when_it_would_be_logged(monkeypatch: pytest.MonkeyPatch, level: int,
                                                                built: int) -> None:
    lines: list[tuple[object, object]] = []
    monkeypatch.setattr(WSGIRequestHandler, "log_request", lambda self, code="-", size="-": lines.append((code, size)))
    werkzeug_log = logging.getLogger("werkzeug")
    before = werkzeug_log.level
    werkzeug_log.setLevel(level)  # setLevel, not the attribute: it clears isEnabledFor's cache
    try:
        handler = object.__new__(EndpointRequestHandler)  # no socket needed: only the gate runs
        handler.log_request(200, 17)
    finally:
        werkzeug_log.setLevel(before)
    assert len(lines) == built
