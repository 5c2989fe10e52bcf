"""A moto server (in-process, free port) with a clicks table and data-lake bucket per test.

moto servers in one process share state (FACTS.md), also with the session emulator:
every test gets its own prefix, and its table and bucket are removed afterwards.
No Lambda mappings here (never on bare moto).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from bootstrap.clients import client
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from producer.target import resolve_topology


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug.setLevel(level)


@pytest.fixture(scope="session")
def moto_clients() -> dict[str, Any]:
    """Clients shared by the session's tests: building one costs ~0.1-0.3 s."""
    return {}


@dataclass
class Target:
    settings: Settings
    topology: Topology
    clients: dict[str, Any] = field(default_factory=dict)

    def aws(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = client(service, self.settings, max_attempts=1)
        return self.clients[service]

    def create_table(self) -> None:
        """The table as the topology declares it (key uuid, on demand, NEW_AND_OLD_IMAGES)."""
        self.aws("dynamodb").create_table(
            TableName=self.topology.table_name,
            KeySchema=[{"AttributeName": self.topology.table_key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": self.topology.table_key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={
                "StreamEnabled": True,
                "StreamViewType": self.settings.stream_view_type,
            },
        )

    def create_bucket(self) -> None:
        self.aws("s3").create_bucket(Bucket=self.topology.data_lake_bucket)

    def items(self) -> dict[str, dict[str, Any]]:
        paginator = self.aws("dynamodb").get_paginator("scan")
        found = {}
        for page in paginator.paginate(TableName=self.topology.table_name):
            for item in page["Items"]:
                found[item["uuid"]["S"]] = item
        return found

    def stream_records(self) -> list[dict[str, Any]]:
        """Every record of the table's stream, in order (moto: one shard per table)."""
        arn = self.aws("dynamodb").describe_table(TableName=self.topology.table_name)["Table"][
            "LatestStreamArn"
        ]
        streams = self.aws("dynamodbstreams")
        (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records: list[dict[str, Any]] = []
        while True:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += page["Records"]
            if not page["Records"]:
                return records
            iterator = page["NextShardIterator"]

    def cleanup(self) -> None:
        ddb, s3 = self.aws("dynamodb"), self.aws("s3")
        try:
            ddb.delete_table(TableName=self.topology.table_name)
        except ddb.exceptions.ResourceNotFoundException:
            pass
        bucket = self.topology.data_lake_bucket
        try:
            for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
            s3.delete_bucket(Bucket=bucket)
        except s3.exceptions.NoSuchBucket:
            pass


@pytest.fixture
def empty_target(moto_endpoint: str, moto_clients: dict[str, Any]) -> Iterator[Target]:
    """Settings with a fresh prefix; nothing created yet."""
    settings = Settings(endpoint_url=moto_endpoint, prefix=f"pt{uuid.uuid4().hex[:8]}")
    if "sts" not in moto_clients:
        moto_clients["sts"] = client("sts", settings, max_attempts=1)
    # named as bootstrap and the producer name them: with the account STS reports
    target = Target(settings, resolve_topology(settings, sts=moto_clients["sts"]), moto_clients)
    try:
        yield target
    finally:
        target.cleanup()


@pytest.fixture
def target(empty_target: Target) -> Target:
    """A bootstrapped target: the clicks table and the data-lake bucket exist."""
    empty_target.create_table()
    empty_target.create_bucket()
    return empty_target
