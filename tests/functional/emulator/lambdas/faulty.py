"""Test-only stream handlers that fail on purpose; every invocation is logged to LOG_FILE.

One JSON line per invocation: ``{"n": <1-based invocation number>, "ids": [...],
"sequences": [...], "result": "raised" | "ok", "failed": [...]}``. A record's id is the
DynamoDB key ``pk`` or the ``id`` field of the Kinesis data (JSON). Invocations of one
shard's mapping never overlap, so appending to one file is safe.
"""

import base64
import json
import os


class InjectedFailure(Exception):
    pass


def _id(record):
    if "dynamodb" in record:
        return record["dynamodb"]["Keys"]["pk"]["S"]
    return json.loads(base64.b64decode(record["kinesis"]["data"]))["id"]


def _sequence(record):
    if "dynamodb" in record:
        return record["dynamodb"]["SequenceNumber"]
    return record["kinesis"]["sequenceNumber"]


def _history():
    try:
        with open(os.environ["LOG_FILE"], encoding="utf-8") as log:
            return [json.loads(line) for line in log if line.strip()]
    except FileNotFoundError:
        return []


def _log(event, result, failed=()):
    records = event.get("Records", [])
    entry = {"n": len(_history()) + 1, "ids": [_id(r) for r in records],
             "sequences": [_sequence(r) for r in records], "result": result, "failed": list(failed)}
    with open(os.environ["LOG_FILE"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


def succeed(event, context):
    """Logs the batch and succeeds."""
    _log(event, "ok")
    return None


def fail_first(event, context):
    """Raises on the first FAIL_TIMES invocations, then succeeds."""
    if len(_history()) < int(os.environ["FAIL_TIMES"]):
        _log(event, "raised")
        raise InjectedFailure("failing on purpose")
    _log(event, "ok")
    return None


def poison(event, context):
    """Raises while the batch holds a record whose id starts with "poison" (until HEAL_FILE exists)."""
    healed = os.path.exists(os.environ.get("HEAL_FILE", "/nonexistent"))
    bad = [_id(r) for r in event.get("Records", []) if _id(r).startswith("poison")]
    if bad and not healed:
        _log(event, "raised", bad)
        raise InjectedFailure(f"poison records {bad}")
    _log(event, "ok")
    return {"batchItemFailures": []}


def partial(event, context):
    """ReportBatchItemFailures: reports the records named in FAIL_IDS the first time it sees them.

    Failures are reported highest sequence first, so the mapping must pick the lowest itself.
    """
    seen = {record_id for entry in _history() for record_id in entry["ids"]}
    wanted = set(os.environ["FAIL_IDS"].split(","))
    records = event.get("Records", [])
    failed = [r for r in records if _id(r) in wanted and _id(r) not in seen]
    _log(event, "ok", [_id(r) for r in failed])
    return {"batchItemFailures": [{"itemIdentifier": _sequence(r)} for r in reversed(failed)]}
