"""Test-only function: appends every record it receives (with arrival time) to RECORD_FILE."""

import json
import os
import time

SLEEP = float(os.environ.get("SLEEP_SECONDS", "0"))


def handler(event, context):
    started = time.time()
    with open(os.environ["RECORD_FILE"], "a", encoding="utf-8") as out:
        for record in event.get("Records", []):
            out.write(json.dumps({"received": started, "request_id": context.aws_request_id, "record": record}) + "\n")
    if SLEEP:
        time.sleep(SLEEP)
    return {"records": len(event.get("Records", []))}
