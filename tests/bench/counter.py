"""Benchmark function: records when each invocation started and how many records it got."""

import json
import os
import time


def handler(event, context):
    started = time.time()
    records = event.get("Records", [])
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] if os.environ.get("WITH_KEYS") else []
    with open(os.environ["RECORD_FILE"], "a", encoding="utf-8") as out:
        out.write(json.dumps({"started": started, "count": len(records), "keys": keys}) + "\n")
    return None
