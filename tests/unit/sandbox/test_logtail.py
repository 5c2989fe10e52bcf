"""Function logs: each event once across polls; error lines recognised in every format."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.logtail import LogTail, error_text


class FakeLogs:
    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}

    def add(self, group: str, ts: int, message: str) -> None:
        events = self.events.setdefault(group, [])
        events.append({"timestamp": ts, "message": message, "eventId": f"{group}-{len(events)}"})

    def filter_log_events(self, logGroupName: str, startTime: int, **_: Any) -> dict[str, Any]:  # noqa: N803
        if logGroupName not in self.events:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "x"}}, "FilterLogEvents")
        return {"events": [e for e in self.events[logGroupName] if e["timestamp"] >= startTime]}


def test_each_event_once_even_at_the_same_millisecond() -> None:
    logs = FakeLogs()
    tail = LogTail(logs, {"archive": "p-archive", "http": "p-http"}, since_ms=0)
    assert tail.poll() == []  # no group yet: nothing logged
    logs.add("/aws/lambda/p-archive", 10, "START")
    logs.add("/aws/lambda/p-archive", 20, "one")
    assert [line.message for line in tail.poll()] == ["START", "one"]
    logs.add("/aws/lambda/p-archive", 20, "two")  # same millisecond as the last one seen
    logs.add("/aws/lambda/p-http", 15, "posted")
    lines = tail.poll()
    assert [(line.function, line.message) for line in lines] == [("http", "posted"), ("archive", "two")]
    assert tail.poll() == []


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ('{"level":"ERROR","message":"put failed","exception_name":"ClientError"}', "put failed (ClientError)"),
        ('{"level":"INFO","message":"archived batch"}', None),
        ("[ERROR] Runtime.ImportModuleError: no module", "[ERROR] Runtime.ImportModuleError: no module"),
        ("botocore.exceptions.ClientError: An error occurred", "botocore.exceptions.ClientError: An error occurred"),
        ("Traceback (most recent call last):", None),
        ("START RequestId: 1 Version: $LATEST", None),
        ("Task timed out after 3.00 seconds", "Task timed out after 3.00 seconds"),
    ],
)
def test_error_lines(message: str, expected: str | None) -> None:
    assert error_text(message) == expected
