"""Bounded memory: trims stream records every mapping has passed, and old ones.

moto keeps every stream record forever (~4 KB per 1 KB MODIFY). A DynamoDB
stream record is dropped once every mapping that reads the stream has passed it
and it is older than a short minimum retention (so other readers, such as
`sandbox status` or the AWS CLI, still see recent records), and in any case
after the retention window (AWS: 24 h). Until then, a record every mapping has
passed is kept packed (emulator/stream_store.py: about a twentieth of its heap). Kinesis
records are kept for the retention window, since any client may read them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from emulator.lambda_service.mappings import Mapping, SourceType
from emulator.moto_adapter import MotoAdapter

log = logging.getLogger("emulator.retention")
TRIM_INTERVAL_SECONDS = 5.0


class Retention:
    def __init__(self, adapter: MotoAdapter, mappings: Callable[[], list[Mapping]], retention_seconds: float,
                 min_retention_seconds: float) -> None:
        self.adapter = adapter
        self.mappings = mappings
        self.retention_seconds = retention_seconds
        self.min_retention_seconds = min_retention_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="retention")

    def trim(self, min_retention_seconds: float | None = None) -> int:
        """Trim once; returns how many records were dropped."""
        now = time.time()
        horizon = now - self.retention_seconds
        keep = self.min_retention_seconds if min_retention_seconds is None else min_retention_seconds
        read_before = now - keep
        readers: dict[str, list[Mapping]] = {}
        for mapping in self.mappings():
            if mapping.source_type is SourceType.DYNAMODB:
                readers.setdefault(mapping.event_source_arn, []).append(mapping)
        dropped = 0
        for arn in self.adapter.stream_arns():
            mappings = readers.get(arn, [])
            checkpoints = []
            for mapping in mappings:
                with mapping.lock:
                    checkpoints.extend(mapping.checkpoints.values())
                    started = bool(mapping.checkpoints)
                if not started:
                    checkpoints.append(0)  # a mapping that has not read yet holds everything
            before = min(checkpoints) if mappings and checkpoints else 0
            dropped += self.adapter.trim_stream(arn, before, read_before, horizon)
            self.adapter.pack_stream(arn, before)  # what stays, every mapping has read: packed
        dropped += self.adapter.trim_kinesis(horizon)
        return dropped

    def _run(self) -> None:
        while not self._stop.wait(TRIM_INTERVAL_SECONDS):
            try:
                self.trim()
            except Exception:  # noqa: BLE001
                log.exception("stream trimming failed")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
