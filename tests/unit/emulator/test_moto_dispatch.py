"""The memoized dispatcher answers what moto's does, computing each host's backend once."""

from __future__ import annotations

from typing import Any

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from emulator.moto_dispatch import CachedDispatcher, create_service_app

HOSTS = ["s3.us-east-1.amazonaws.com", "kinesis.eu-west-1.amazonaws.com", "dynamodb", "dynamodbstreams",
         "sqs.us-east-1.amazonaws.com", None]


def test_same_backends_as_moto() -> None:
    ours, theirs = CachedDispatcher(), DomainDispatcherApplication(create_service_app)
    for host in HOSTS * 2:
        assert ours.get_backend_for_host(host) == theirs.get_backend_for_host(host)


def test_each_host_is_resolved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    listed: list[int] = []
    real = backends.list_of_moto_modules

    def counting() -> Any:
        listed.append(1)
        return real()

    monkeypatch.setattr(backends, "list_of_moto_modules", counting)
    dispatcher = CachedDispatcher()
    for _ in range(50):
        assert dispatcher.get_backend_for_host("s3.us-east-1.amazonaws.com") == "s3"
    assert len(listed) == 1


def test_the_service_apps_run_without_flask_debug() -> None:
    app = create_service_app("s3")
    assert app.debug is False and app.config["PROPAGATE_EXCEPTIONS"] is True
