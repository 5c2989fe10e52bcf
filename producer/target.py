"""Where the producer writes (table, data-lake bucket) and whether it is there.

The preflight turns "nothing listens", "bootstrap never ran" and "no
credentials" into one clear line before a single click is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from producer.errors import ProducerError, TableNotFound, bootstrap_command, boundary

#: Preflight calls must fail fast when nothing listens.
PREFLIGHT_TIMEOUT = 3.0


def resolve_topology(settings: Settings, *, sts: Any = None) -> Topology:
    """The topology with the account STS reports, as bootstrap names it (bucket names hold it).

    Asked, never assumed: LocalStack derives the account from the access key, a bare moto
    server answers 123456789012, the emulator 000000000000.
    """
    with boundary(settings):
        sts = sts or client("sts", settings, max_attempts=1, timeout=PREFLIGHT_TIMEOUT)
        account = str(sts.get_caller_identity()["Account"])
    return Topology.from_settings(settings, account_id=account)


@dataclass(frozen=True)
class Target:
    table: str
    bucket: str
    stream_arn: str | None
    table_key: str  # from the topology: the writer names no attribute itself
    ttl_attribute: str


def preflight(settings: Settings, topology: Topology, *, ddb: Any = None, s3: Any = None) -> Target:
    """Check the table and the data-lake bucket exist; raise a ProducerError naming the fix.

    Pass the run's clients to reuse them (building a boto3 client costs ~0.1-0.3 s).
    """
    table, bucket = topology.table_name, topology.data_lake_bucket
    with boundary(settings, table=table):
        ddb = ddb or client("dynamodb", settings, max_attempts=1, timeout=PREFLIGHT_TIMEOUT)
        description = ddb.describe_table(TableName=table)["Table"]
    status = description.get("TableStatus", "ACTIVE")
    if status not in ("ACTIVE", "UPDATING"):
        raise TableNotFound(
            f"table {table} is {status}",
            f"wait for the running bootstrap to finish, or run {bootstrap_command(settings)}",
        )
    with boundary(settings, bucket=bucket):
        s3 = s3 or client("s3", settings, max_attempts=1, timeout=PREFLIGHT_TIMEOUT)
        s3.head_bucket(Bucket=bucket)
    if description.get("KeySchema", [{}])[0].get("AttributeName") != topology.table_key:
        raise ProducerError(
            f"table {table} is not keyed by {topology.table_key!r}",
            f"run {bootstrap_command(settings, 'destroy')}, then {bootstrap_command(settings)}",
        )
    return Target(
        table=table,
        bucket=bucket,
        stream_arn=description.get("LatestStreamArn"),
        table_key=topology.table_key,
        ttl_attribute=topology.ttl_attribute,
    )
