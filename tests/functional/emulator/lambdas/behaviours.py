"""Test-only handlers for Invoke semantics: echo, raise, sleep past the timeout, context."""

import os
import time


def echo(event, context):
    return {"event": event, "function": context.function_name, "remaining_ms": context.get_remaining_time_in_millis(),
            "arn": context.invoked_function_arn, "memory": context.memory_limit_in_mb, "request_id": context.aws_request_id,
            "endpoint": os.environ.get("AWS_ENDPOINT_URL"), "region": os.environ.get("AWS_REGION"),
            "custom": os.environ.get("CUSTOM")}


class PaymentDeclined(Exception):
    pass


def fail(event, context):
    raise PaymentDeclined("card 4242 declined")


def slow(event, context):
    time.sleep(float(event.get("seconds", 10)))
    return "finished"


def importable_libraries(event, context):
    """Which modules the runtime lets the handler import (boto3 yes, the repo and moto no)."""
    found = {}
    for name in ("boto3", "botocore", "moto", "emulator", "bootstrap", "aws_lambda_powertools", "pytest"):
        try:
            __import__(name)
            found[name] = True
        except ImportError:
            found[name] = False
    return found


def escape(event, context):
    """Starts a process in a session of its own that outlives the invocation."""
    import subprocess

    subprocess.Popen(["sleep", "5"], start_new_session=True)
    time.sleep(float(event.get("seconds", 0)))
    return "spawned"


def huge(event, context):
    return "a" * 7_000_000
