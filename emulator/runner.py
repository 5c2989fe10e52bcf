"""Runs one event source mapping: a poller per shard, state transitions, shard discovery."""

from __future__ import annotations

import threading

from emulator.lambda_service.mappings import Mapping, MappingStateName, SourceType
from emulator.pollers import PollerDeps, ShardPoller
from emulator.sources import DynamoStreamSource, HttpDynamoStreamSource, KinesisShardSource, ShardSource

SHARD_REFRESH_SECONDS = 1.0


class StreamMappingRunner:
    """Runs one mapping: a poller per shard, state transitions, shard discovery."""

    def __init__(self, mapping: Mapping, deps: PollerDeps) -> None:
        self.mapping = mapping
        self.deps = deps
        self._stop = threading.Event()
        self._pollers: dict[str, ShardPoller] = {}
        self._reconfigured = threading.Event()
        self._thread = threading.Thread(target=self._supervise, daemon=True, name=f"mapping-{mapping.uuid[:8]}")

    def _shard_ids(self) -> list[str]:
        if self.mapping.source_type is SourceType.DYNAMODB:
            shard = self.deps.adapter.stream_shard_id(self.mapping.event_source_arn)
            return [shard] if shard else []
        return self.deps.adapter.kinesis_shard_ids(self.mapping.event_source_arn) or []

    def _source(self, shard_id: str) -> ShardSource:
        arn = self.mapping.event_source_arn
        if self.mapping.source_type is SourceType.DYNAMODB:
            if self.deps.stream_reader == "http" and self.deps.streams_client is not None:
                return HttpDynamoStreamSource(self.deps.adapter, arn, shard_id, self.deps.streams_client)
            return DynamoStreamSource(self.deps.adapter, arn, shard_id)
        return KinesisShardSource(self.deps.adapter, arn, shard_id, lambda: self.deps.role_of(self.mapping.function_name))

    def _spawn_new_shards(self) -> None:
        spawned = False
        for shard_id in self._shard_ids():
            if shard_id not in self._pollers:
                poller = ShardPoller(self.mapping, self._source(shard_id), self.deps, self._stop)
                self._pollers[shard_id] = poller
                if self.mapping.enabled:
                    poller.resolve_position()
                poller.start()
                spawned = True
        if spawned and self.mapping.enabled:
            # Each shard's poller invokes on its own: one warm worker each, so no shard's
            # first batch waits for an init phase while another shard's is served warm.
            self.deps.prewarm(self.mapping.function_name, len(self._pollers))

    def _settle_state(self) -> None:
        # Records written once the mapping reports Enabled must be delivered (LATEST included):
        # fix every shard's starting position before saying so, not whenever its thread gets to it.
        if self.mapping.enabled:
            for poller in list(self._pollers.values()):
                poller.resolve_position()
        with self.mapping.lock:
            if self.mapping.state is not MappingStateName.DELETING:
                self.mapping.state = MappingStateName.ENABLED if self.mapping.enabled else MappingStateName.DISABLED

    def _supervise(self) -> None:
        self._spawn_new_shards()
        self._settle_state()
        while not self._stop.is_set():
            if self._reconfigured.wait(SHARD_REFRESH_SECONDS):
                self._reconfigured.clear()
                with self.mapping.lock:
                    if self.mapping.state is MappingStateName.UPDATING:
                        self.mapping.state = MappingStateName.ENABLING if self.mapping.enabled else MappingStateName.DISABLING
                self._settle_state()
            if not self._stop.is_set():
                self._spawn_new_shards()

    def start(self) -> None:
        self._thread.start()

    def reconfigure(self) -> None:
        self._reconfigured.set()

    def stop(self) -> None:
        self._stop.set()
        self._reconfigured.set()
        self.deps.signal.notify()

    def join(self) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        for poller in list(self._pollers.values()):
            if poller.thread.is_alive():
                poller.thread.join(timeout=10)
