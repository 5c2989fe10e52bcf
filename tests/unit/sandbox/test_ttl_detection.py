"""`sandbox verify` and `sandbox trace` recognise TTL deletions as the handlers do,
including LocalStack's REMOVE records that carry no userIdentity."""

from __future__ import annotations

import json

from bootstrap.settings import Settings
from bootstrap.topology import Topology
from sandbox import sinkread
from sandbox.trace import Tracer
from tests.fixtures import load_event
from tests.unit.sandbox.fakes import FakeS3


def test_data_lake_events_flag_localstack_ttl_deletions():
    topology = Topology.from_settings(Settings(endpoint_url="http://127.0.0.1:4566"))
    s3 = FakeS3()
    event = load_event("dynamodb_ttl_remove_localstack")  # an expired item, then a user delete
    s3.put("raw/year=2026/month=11/day=26/hour=14/a.json", json.dumps(event).encode())
    s3.put("raw/year=2026/month=11/day=26/hour=14/b.json", json.dumps(load_event("dynamodb_ttl_remove")).encode())
    flags = [(e.event_id, e.ttl_delete) for e in sinkread.data_lake(s3, topology)]
    expired, live = event["Records"]
    (aws,) = load_event("dynamodb_ttl_remove")["Records"]
    assert flags == [(expired["eventID"], True), (live["eventID"], False), (aws["eventID"], True)]


def test_trace_flags_localstack_ttl_deletions():
    expired, live = load_event("dynamodb_ttl_remove_localstack")["Records"]
    assert Tracer._is_ttl(expired) and not Tracer._is_ttl(live)
