"""Saving and restoring moto's in-memory state (part of the moto seam, with moto_adapter/moto_patches).

moto's backends are plain Python objects and pickle as they are, with two exceptions
this module handles: locks and conditions (SQS queues hold a Condition, S3 keys a
Lock) are pickled as fresh, unlocked ones; S3 keys pickle their bytes through moto's
own ``__getstate__``. The patched shards keep their counters as instance attributes
(``_emu_next_seq``, ``_emu_last_seq``), so restored streams continue their sequence
numbers instead of reusing them.

Only our account's backends are saved; ``install`` must run before the endpoint serves.
"""

from __future__ import annotations

import copyreg
import io
import pickle
import threading
from typing import Any

from moto.core.base_backend import BackendDict
from moto.dynamodb.models import dynamodb_backends
from moto.iam.models import iam_backends
from moto.kinesis.models import kinesis_backends
from moto.logs.models import LogEvent, logs_backends
from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from emulator.moto_patches import adopt_restored

#: The services whose state survives a restart (the pipeline's, IAM for the function role, logs).
BACKENDS: dict[str, BackendDict[Any]] = {
    "dynamodb": dynamodb_backends,
    "kinesis": kinesis_backends,
    "s3": s3_backends,
    "sqs": sqs_backends,
    "sns": sns_backends,
    "iam": iam_backends,
    "logs": logs_backends,
}

def _fresh(factory: Any) -> Any:
    return lambda _obj: (factory, ())


def _dispatch_table() -> dict[type, Any]:
    table = copyreg.dispatch_table.copy()
    table[type(threading.Lock())] = _fresh(threading.Lock)
    table[type(threading.RLock())] = _fresh(threading.RLock)
    table[threading.Condition] = _fresh(threading.Condition)
    table[threading.Event] = _fresh(threading.Event)
    return table


_DISPATCH = _dispatch_table()


def dumps(obj: Any) -> bytes:
    """Pickle ``obj`` with locks and conditions replaced by fresh ones."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH  # type: ignore[assignment]
    pickler.dump(obj)
    return out.getvalue()


def capture(account_id: str) -> dict[str, Any]:
    """References to our account's backends (pickle them while nothing changes them)."""
    state: dict[str, Any] = {
        name: dict(backends[account_id]) for name, backends in BACKENDS.items() if account_id in backends
    }
    state["s3_bucket_accounts"] = {
        bucket: where for bucket, where in s3_backends.bucket_accounts.items() if where[1] == account_id
    }
    return state


def install(account_id: str, state: dict[str, Any]) -> None:
    """Put restored backends in place of the (fresh) ones moto holds now."""
    for name, backends in BACKENDS.items():
        for region, backend in (state.get(name) or {}).items():
            backends[account_id][region] = backend
    s3_backends.bucket_accounts.update(state.get("s3_bucket_accounts") or {})
    adopt_restored(
        [table for backend in (state.get("dynamodb") or {}).values() for table in backend.tables.values()],
        [shard for backend in (state.get("kinesis") or {}).values()
         for stream in backend.streams.values() for shard in stream.shards.values()],
        [bucket for backend in (state.get("s3") or {}).values()
         for bucket in [*backend.buckets.values(), *backend.table_buckets.values()]],
    )
    _continue_log_event_ids(state.get("logs") or {})


def _continue_log_event_ids(backends: dict[str, Any]) -> None:
    """New log events are numbered after the restored ones. moto numbers them with a class
    counter that starts at 0 in each process: after a restart, new events would take the ids
    of restored ones, and `sandbox logs` (which skips ids it has seen) would drop them."""
    newest = [stream.events[-1].event_id for backend in backends.values() for group in backend.groups.values()
              for stream in group.streams.values() if stream.events]
    if newest:
        LogEvent._event_id = max(LogEvent._event_id, max(newest) + 1)


def summary(state: dict[str, Any]) -> dict[str, int]:
    """Counts a person recognises (tables, items, stream records, objects, messages)."""
    counts = {"tables": 0, "items": 0, "stream_records": 0, "kinesis_records": 0, "objects": 0, "messages": 0}
    for backend in (state.get("dynamodb") or {}).values():
        for table in backend.tables.values():
            counts["tables"] += 1
            counts["items"] += len(table)  # moto's all_items() would read (and sort) every item
            if table.stream_shard is not None:
                counts["stream_records"] += len(table.stream_shard.items)
    for backend in (state.get("kinesis") or {}).values():
        for stream in backend.streams.values():
            counts["kinesis_records"] += sum(len(shard.records) for shard in stream.shards.values())
    for backend in (state.get("s3") or {}).values():
        for bucket in backend.buckets.values():
            counts["objects"] += len(bucket.keys)
    for backend in (state.get("sqs") or {}).values():
        for queue in backend.queues.values():
            counts["messages"] += len(queue._messages)
    return counts
