"""Function logs from CloudWatch Logs (``/aws/lambda/<name>``), read forward incrementally.

The same API answers on the embedded emulator, LocalStack and AWS, so `sandbox logs`
and the live view's "last errors" need nothing backend-specific.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

#: A Python exception line ("ValueError: boom", "botocore.exceptions.ClientError: ...").
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout|Exit)\b(:|$)")
_ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL"})


@dataclass(frozen=True)
class LogLine:
    timestamp_ms: int
    function: str  # the short key (archive, fanout, ...) or the group name
    message: str
    event_id: str


def log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


class LogTail:
    """New log events of a set of functions since the last poll (each event once)."""

    def __init__(self, logs: Any, functions: dict[str, str], *, since_ms: int = 0) -> None:
        self._logs = logs
        self._groups = {label: log_group(name) for label, name in functions.items()}
        self._since = dict.fromkeys(self._groups, since_ms)
        self._seen_at_edge: dict[str, set[str]] = {label: set() for label in self._groups}

    def poll(self, *, max_pages: int = 5) -> list[LogLine]:
        lines: list[LogLine] = []
        for label, group in self._groups.items():
            lines += self._poll_group(label, group, max_pages)
        return sorted(lines, key=lambda line: (line.timestamp_ms, line.function))

    def _poll_group(self, label: str, group: str, max_pages: int) -> list[LogLine]:
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": self._since[label]}
        found: list[LogLine] = []
        for _ in range(max_pages):
            try:
                page = self._logs.filter_log_events(**kwargs)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    return found  # the function has not logged anything yet
                raise
            for event in page.get("events", []):
                event_id = str(event.get("eventId") or f"{event['timestamp']}:{event['message']}")
                if event_id in self._seen_at_edge[label]:
                    continue
                found.append(
                    LogLine(int(event["timestamp"]), label, str(event["message"]).rstrip("\n"), event_id)
                )
            token = page.get("nextToken")
            if not token:
                break
            kwargs["nextToken"] = token
        if found:
            # startTime is inclusive: remember the ids at the newest millisecond to skip them next time.
            newest = max(line.timestamp_ms for line in found)
            if newest > self._since[label]:
                self._seen_at_edge[label] = set()
            self._since[label] = newest
            self._seen_at_edge[label].update(x.event_id for x in found if x.timestamp_ms == newest)
        return found


def error_text(message: str) -> str | None:
    """The error a log line reports (short), or None if it is not an error line."""
    text = message.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            if str(data.get("level", "")).upper() not in _ERROR_LEVELS:
                return None
            detail = data.get("exception_name") or ""
            return f"{data.get('message', '')}{f' ({detail})' if detail else ''}".strip()
    if text.startswith("[ERROR]") or "Task timed out" in text:
        return text
    if _EXCEPTION_LINE.match(text):
        return text
    return None
