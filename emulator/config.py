"""Settings of the embedded emulator (explicit arguments win over the environment)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

ENV_HOST = "EMULATOR_HOST"
ENV_PORT = "EMULATOR_PORT"
ENV_REGION = "AWS_REGION"
ENV_TTL_INTERVAL = "EMULATOR_TTL_INTERVAL"
ENV_RETENTION_HOURS = "EMULATOR_STREAM_RETENTION_HOURS"
ENV_MIN_RETENTION = "EMULATOR_STREAM_MIN_RETENTION_SECONDS"
ENV_MAX_WORKERS = "EMULATOR_MAX_WORKERS_PER_FUNCTION"
ENV_STREAM_READER = "EMULATOR_STREAM_READER"
ENV_SNAPSHOT_INTERVAL = "EMULATOR_SNAPSHOT_INTERVAL"
ENV_LOG_EVENTS_KEPT = "EMULATOR_LOG_EVENTS_KEPT"
ENV_MIN_POLL_INTERVAL_MS = "EMULATOR_MIN_POLL_INTERVAL_MS"
ENV_ITEM_STORE = "EMULATOR_ITEM_STORE"
STREAM_READERS = ("memory", "http")
#: Where a table without a range key keeps its items and a bucket its objects: files
#: (emulator/item_store.py, emulator/object_store.py), or moto's dicts.
ITEM_STORES = ("disk", "memory")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
DEFAULT_REGION = "us-east-1"
DEFAULT_TTL_INTERVAL = 2.0
DEFAULT_RETENTION_HOURS = 24.0
DEFAULT_MIN_RETENTION_SECONDS = 300.0
DEFAULT_MAX_WORKERS = 8
DEFAULT_SNAPSHOT_INTERVAL = 1.0
#: Newest log events CloudWatch Logs keeps per function log stream (each invocation writes
#: three or more: 15,000 a minute at 50 writes/s); 0 keeps all. The --log-dir files keep all.
DEFAULT_LOG_EVENTS_KEPT = 20_000
#: Least milliseconds between two reads of a stream shard after a batch (ShardPoller._pace):
#: fewer, larger batches under sustained writes; an idle shard is still read at once. 0 = never wait.
#: 40, not 25: measured in docs/bench.md (mixed workload 477 -> 732 records/s, p50 at 100/s 25 -> 29 ms).
DEFAULT_MIN_POLL_INTERVAL_MS = 40.0
ACCOUNT_ID = "000000000000"


class ConfigError(ValueError):
    """A user-supplied emulator setting is unusable."""


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw} must be >= {minimum}")
    return value


@dataclass(frozen=True)
class EmulatorConfig:
    """Where the emulator listens and how its background work is paced."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0 picks a free port
    region: str = DEFAULT_REGION
    account_id: str = ACCOUNT_ID
    ttl_interval: float = DEFAULT_TTL_INTERVAL  # seconds between TTL sweeps; 0 disables
    retention_seconds: float = DEFAULT_RETENTION_HOURS * 3600
    min_retention_seconds: float = DEFAULT_MIN_RETENTION_SECONDS  # read records stay this long
    max_workers_per_function: int = DEFAULT_MAX_WORKERS
    log_dir: str | None = None  # function logs as files too (CloudWatch Logs always)
    stream_reader: str = "memory"  # how pollers read DynamoDB streams: moto's memory, or the HTTP API
    snapshot_interval: float = DEFAULT_SNAPSHOT_INTERVAL  # seconds between snapshots (with persistence on)
    log_events_kept: int = DEFAULT_LOG_EVENTS_KEPT  # per function log stream in CloudWatch Logs; 0 = all
    min_poll_interval: float = DEFAULT_MIN_POLL_INTERVAL_MS / 1000  # least seconds between reads of a shard after a batch
    item_store: str = "disk"  # where hash-key tables keep their items and buckets their objects: "disk" or "memory" (moto's)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> EmulatorConfig:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "host": env.get(ENV_HOST, DEFAULT_HOST).strip() or DEFAULT_HOST,
            "port": int(_number(env, ENV_PORT, DEFAULT_PORT, 0)),
            "region": (env.get(ENV_REGION) or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION).strip(),
            "ttl_interval": _number(env, ENV_TTL_INTERVAL, DEFAULT_TTL_INTERVAL, 0),
            "retention_seconds": _number(env, ENV_RETENTION_HOURS, DEFAULT_RETENTION_HOURS, 0) * 3600,
            "min_retention_seconds": _number(env, ENV_MIN_RETENTION, DEFAULT_MIN_RETENTION_SECONDS, 0),
            "max_workers_per_function": int(_number(env, ENV_MAX_WORKERS, DEFAULT_MAX_WORKERS, 1)),
            "snapshot_interval": _number(env, ENV_SNAPSHOT_INTERVAL, DEFAULT_SNAPSHOT_INTERVAL, 0.1),
            "log_events_kept": int(_number(env, ENV_LOG_EVENTS_KEPT, DEFAULT_LOG_EVENTS_KEPT, 0)),
            "min_poll_interval": _number(env, ENV_MIN_POLL_INTERVAL_MS, DEFAULT_MIN_POLL_INTERVAL_MS, 0) / 1000,
        }
        reader = env.get(ENV_STREAM_READER, "memory").strip().lower() or "memory"
        if reader not in STREAM_READERS:
            raise ConfigError(f"{ENV_STREAM_READER}={reader!r} is not one of {', '.join(STREAM_READERS)}")
        values["stream_reader"] = reader
        store = env.get(ENV_ITEM_STORE, "disk").strip().lower() or "disk"
        if store not in ITEM_STORES:
            raise ConfigError(f"{ENV_ITEM_STORE}={store!r} is not one of {', '.join(ITEM_STORES)}")
        values["item_store"] = store
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not 0 <= int(values["port"]) <= 65535:  # type: ignore[call-overload]
            raise ConfigError(f"port {values['port']} is out of range (0..65535)")
        return cls(**values)  # type: ignore[arg-type]
