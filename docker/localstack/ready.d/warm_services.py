"""LocalStack READY hook: start every service the pipeline uses before LocalStack reports ready.

LocalStack loads services on first use, and the first use of DynamoDB (DynamoDB
Local, a JVM) and Kinesis (kinesis-mock, installed on first use) can take longer
than a client waits. Touching each service here means /_localstack/init/ready,
which the compose healthcheck and the testcontainers backend wait for, only says
"completed" once they are up, so bootstrap's first calls are fast.

Best effort: a service that fails to warm up is logged and skipped, never fatal
(bootstrap then reports the real error). LocalStack runs ready.d Python scripts
in its own interpreter, so this file only defines and calls a function: no
``sys.exit``, no ``__main__`` guard. Outside LocalStack (the unit test)
``WARM_ENDPOINT_URL`` points it elsewhere.
"""

import json
import logging
import os
import time

import boto3
from botocore.config import Config

#: (service, read-only call) per service the sandbox uses.
WARM_CALLS = (
    ("sts", "get_caller_identity"),
    ("iam", "list_roles"),
    ("s3", "list_buckets"),
    ("sqs", "list_queues"),
    ("dynamodb", "list_tables"),
    ("dynamodbstreams", "list_streams"),
    ("kinesis", "list_streams"),
    ("lambda", "list_functions"),
    ("logs", "describe_log_groups"),
)


def warm_services(endpoint_url: str, read_timeout: float = 300.0) -> dict[str, str]:
    """Call each service once; return service -> "ok" or the error, for the log."""
    log = logging.getLogger("sandbox.warm_services")
    config = Config(
        connect_timeout=5,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": 2},
    )
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    outcome: dict[str, str] = {}
    for service, call in WARM_CALLS:
        started = time.monotonic()
        try:
            getattr(session.client(service, endpoint_url=endpoint_url, config=config), call)()
        except Exception as error:  # noqa: BLE001 - best effort: report and go on
            outcome[service] = f"{type(error).__name__}: {error}"
            log.warning("warm-up of %s failed: %s", service, outcome[service])
            continue
        outcome[service] = "ok"
        log.info("warmed up %s in %.1f s", service, time.monotonic() - started)
    print(f"sandbox warm-up: {json.dumps(outcome)}", flush=True)
    return outcome


warm_services(
    os.environ.get("WARM_ENDPOINT_URL", "http://127.0.0.1:4566"),
    float(os.environ.get("WARM_READ_TIMEOUT", "300")),
)
