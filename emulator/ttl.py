"""The TTL sweeper: deletes expired items like DynamoDB's background process.

AWS deletes expired items within days; a sandbox wants it within seconds so
demos show it, so the interval is configurable (0 disables it). REMOVE records
of these deletions carry AWS's service ``userIdentity`` (see moto_adapter).
"""

from __future__ import annotations

import logging
import threading
import time

from emulator.moto_adapter import MotoAdapter

log = logging.getLogger("emulator.ttl")


class TtlSweeper:
    def __init__(self, adapter: MotoAdapter, interval: float) -> None:
        self.adapter = adapter
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="ttl-sweeper")

    def sweep(self) -> int:
        """Delete every item whose TTL attribute is in the past; returns how many."""
        deleted = self.adapter.sweep_expired(time.time())
        if deleted:
            log.info("TTL sweep deleted %d expired item(s)", deleted)
        return deleted

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - keep sweeping; report the cause
                log.exception("TTL sweep failed")

    def start(self) -> None:
        if self.interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
