"""Bad input everywhere gets a clear answer and the servers keep serving (issue 10, item 3).

A seeded, bounded fuzzer sends a few thousand hostile requests over raw HTTP to the Lambda API
and to the HTTP sink: malformed JSON, wrong types, unknown fields, huge and nested bodies, path
traversal, zip slips and a zip bomb, a 7 MB invoke payload. Meanwhile a bystander client asks
in a loop and stalled half-open connections are held. Every answer must come within
REQUEST_DEADLINE, be well-formed JSON, and be no 5xx (but 501 for an AWS operation not
emulated, and the sink's injected faults); the bystander is never failed or kept waiting.
Set FUZZ_SEED to explore other sequences; a failure prints the seed and the findings.
"""

from __future__ import annotations

import base64
import os
import random
from collections.abc import Callable, Iterator

import pytest

from sandbox.httpsink import HttpSink
from tests.functional.emulator.support import create_stream_table, ensure_role, package, unique
from tests.functional.fuzz import harness, lambda_requests, sink_requests
from tests.rawhttp import call, call_json

SEED = int(os.environ.get("FUZZ_SEED", "20261206"))
LAMBDA_REQUESTS = 2000
SINK_REQUESTS = 2000
HALF_OPEN = 20


def _fuzz(port: int, probes: Callable[[], harness.Probe | None], judge: Callable[..., str | None],
          ask: Callable[[], bool], stall_paths: tuple[str, ...]) -> harness.Tally:
    """Run the probes with a bystander asking and stalled connections held; returns the tally."""
    stalled = harness.hold_half_open(port, stall_paths, HALF_OPEN)
    bystander = harness.Bystander(ask)
    bystander.start()
    tally = harness.Tally(SEED)
    try:
        harness.run(port, probes, judge, tally)
        held = harness.still_open(stalled)
    finally:
        bystander.stop()
        for sock in stalled:
            sock.close()
    print(f"\n{tally.summary()}")
    print(f"bystander: {bystander.answered} answers, slowest {bystander.slowest:.2f} s, "
          f"{len(bystander.failures)} failures; {held} of {HALF_OPEN} stalled connections held to the end")
    details = "\n".join(str(finding) for finding in tally.findings[:25])
    assert not tally.findings, f"{tally.summary()} (rerun with FUZZ_SEED={SEED})\n{details}"
    assert not bystander.failures, f"the bystander was failed (FUZZ_SEED={SEED}): {bystander.failures[:5]}"
    assert bystander.answered >= 20, f"the bystander got only {bystander.answered} answers"
    assert held == HALF_OPEN, "stalled connections were dropped before the request timeout"
    return tally


@pytest.fixture(scope="module")
def target(aws, emulator) -> lambda_requests.Target:
    code = base64.b64encode(package("recorder")).decode()
    role = ensure_role(aws("iam"))
    keep = {"FunctionName": lambda_requests.KEEP, "Runtime": "python3.12", "Role": role, "Handler": "recorder.handler",
            "Code": {"ZipFile": code}, "Environment": {"Variables": {"RECORD_FILE": "/dev/null"}}}
    assert call_json(emulator.port, "POST", lambda_requests.F, keep).status == 201
    kinesis = aws("kinesis")
    stream = unique("fuzz")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    yield lambda_requests.Target(role, [kinesis_arn, create_stream_table(aws, unique("fuzz"))], code)
    _clean_up(aws("lambda"), (*lambda_requests.POOL, lambda_requests.KEEP))


def _clean_up(lam, names: tuple[str, ...]) -> None:
    """Leave the session emulator as we found it: the fuzzer's mappings (of deleted functions too) and functions."""
    arns = {f"arn:aws:lambda:us-east-1:000000000000:function:{name}" for name in names}
    for mapping in lam.list_event_source_mappings(MaxItems=10000)["EventSourceMappings"]:
        if mapping["FunctionArn"] in arns and mapping["State"] != "Deleting":
            lam.delete_event_source_mapping(UUID=mapping["UUID"])
    for function in lam.list_functions(MaxItems=10000)["Functions"]:
        if function["FunctionName"] in names:
            lam.delete_function(FunctionName=function["FunctionName"])


def test_the_lambda_api_answers_every_hostile_request(aws, emulator, target) -> None:
    port = emulator.port
    dynamodb = aws("dynamodb", connect_timeout=harness.BYSTANDER_DEADLINE, read_timeout=harness.BYSTANDER_DEADLINE)

    def ask() -> bool:
        """ListFunctions (our Lambda service), health, and ListTables (moto, behind its lock)."""
        listing = call(port, "GET", f"{lambda_requests.F}/", timeout=harness.BYSTANDER_DEADLINE)
        health = call(port, "GET", "/_emulator/health", timeout=harness.BYSTANDER_DEADLINE)
        tables = dynamodb.list_tables()["ResponseMetadata"]["HTTPStatusCode"]
        return listing.status == 200 and "Functions" in listing.json() and health.status == 200 and tables == 200

    probes = lambda_requests.LambdaProbes(random.Random(SEED), target, LAMBDA_REQUESTS)
    # stalls on a Lambda path and on a moto one ("/": a DynamoDB-style POST)
    tally = _fuzz(port, probes, lambda_requests.judge, ask, (lambda_requests.F, "/"))
    assert tally.sent == LAMBDA_REQUESTS
    assert set(tally.statuses) - {200, 201, 202, 204, 400, 404, 409, 413, 501} == set(), tally.summary()


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    with HttpSink() as running:
        yield running


def test_the_http_sink_answers_every_hostile_request(sink) -> None:
    def ask() -> bool:
        return call(sink.port, "GET", "/health", timeout=harness.BYSTANDER_DEADLINE).json() == {"status": "ok"}

    probes = sink_requests.SinkProbes(random.Random(SEED), SINK_REQUESTS)
    tally = _fuzz(sink.port, probes, sink_requests.judge, ask, ("/deliveries",))
    assert tally.sent == SINK_REQUESTS
    assert tally.statuses[201] > 0 and tally.statuses[400] > 0, tally.summary()
