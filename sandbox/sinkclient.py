"""Reads the HTTP sink's counters (GET /stats) and deliveries (GET /deliveries).

The sink keeps its own p50/p95 end-to-end latency (received_at minus the row's ts),
so the live view needs only /stats each refresh, never the whole delivery list.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bootstrap.settings import ENV_HTTP_SINK_URL
from sandbox.errors import SandboxError
from sandbox.stats import Percentiles

TIMEOUT_S = 3.0


class SinkUnavailable(SandboxError):
    """The HTTP sink does not answer (not started, or elsewhere than the configured URL).

    A ``SandboxError``: every command that reads the sink (status, verify, trace, …)
    ends with one line saying where the sink should be and how to start or find it.
    """

    def __init__(self, base: str, reason: object) -> None:
        port = urlsplit(base).port or 8088
        super().__init__(
            f"the HTTP sink does not answer at {base} ({reason})",
            f"start the sandbox (`make up`), which serves it, or only the sink: "
            f"`python -m sandbox.httpsink --port {port}`; if it listens elsewhere, "
            f"export {ENV_HTTP_SINK_URL}=http://HOST:PORT/deliveries",
        )
        self.base = base


@dataclass(frozen=True)
class SinkStats:
    deliveries: int  # distinct Idempotency-Keys recorded
    duplicates: int
    faulted: int
    latency: Percentiles | None

    @property
    def extra(self) -> str:
        parts = [f"{self.duplicates} duplicate POSTs"] if self.duplicates else []
        parts += [f"{self.faulted} injected faults"] if self.faulted else []
        return ", ".join(parts)


def base_url(deliveries_url: str) -> str:
    """``http://host:port`` of a ``http://host:port/deliveries`` URL."""
    parts = urlsplit(deliveries_url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


class SinkClient:
    def __init__(self, deliveries_url: str, timeout: float = TIMEOUT_S) -> None:
        self.base = base_url(deliveries_url)
        self._timeout = timeout

    def _get(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(f"{self.base}{path}", timeout=self._timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise SinkUnavailable(self.base, reason) from None

    def stats(self) -> SinkStats:
        data = self._get("/stats")
        latency = data.get("latency_ms") or {}
        percentiles = None
        if latency.get("count"):
            percentiles = Percentiles(float(latency["p50"]), float(latency["p95"]), int(latency["count"]))
        return SinkStats(
            deliveries=int(data.get("deliveries", 0)),
            duplicates=int(data.get("duplicates", 0)),
            faulted=int(data.get("faulted", 0)),
            latency=percentiles,
        )

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery in arrival order (a full read: for `sandbox verify`, not the live view)."""
        data = self._get("/deliveries")
        return list(data if isinstance(data, list) else data.get("deliveries", []))
