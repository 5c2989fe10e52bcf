"""Small in-memory stand-ins for S3, Kinesis, an HTTP sink and the Lambda context.

The AWS fakes check every call's parameters against botocore's own service model,
so a handler passing a wrong type or a missing field fails here as it would on AWS.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

_models = botocore.session.get_session()


def _validate(service: str, operation: str, params: dict[str, Any]) -> None:
    model = _models.get_service_model(service).operation_model(operation)
    validate_parameters(params, model.input_shape)


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"fake {code}"}}, operation)


class FakeS3:
    """put_object into a dict; ``failures[n]`` is raised by the n-th call (1-based),
    ``fail_once[prefix]`` by the next put of a key starting with ``prefix``."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.calls: list[dict[str, Any]] = []
        self.failures: dict[int, Exception] = {}
        self.fail_once: dict[str, Exception] = {}

    def put_object(self, **params: Any) -> dict[str, Any]:
        _validate("s3", "PutObject", params)
        self.calls.append(params)
        if len(self.calls) in self.failures:
            raise self.failures[len(self.calls)]
        for prefix in [p for p in self.fail_once if params["Key"].startswith(p)]:
            raise self.fail_once.pop(prefix)
        self.objects[(params["Bucket"], params["Key"])] = params["Body"]
        return {"ETag": '"fake"'}

    def keys(self, bucket: str) -> list[str]:
        return sorted(key for b, key in self.objects if b == bucket)

    def json(self, bucket: str, key: str) -> Any:
        return json.loads(self.objects[(bucket, key)])


#: Per call: None (all succeed), an exception to raise, or records -> {index: ErrorCode}.
Outcome = None | Exception | Callable[[list[dict[str, Any]]], dict[int, str]]


def fail_keys(*keys: str, code: str = "ProvisionedThroughputExceededException") -> Outcome:
    """An outcome failing the entries whose PartitionKey is one of ``keys``."""
    return lambda records: {i: code for i, r in enumerate(records) if r["PartitionKey"] in keys}


class FakeKinesis:
    """put_records onto one in-memory shard, failing entries as ``script`` says."""

    SHARD = "shardId-000000000000"

    def __init__(self, script: Iterable[Outcome] = ()) -> None:
        self.script = list(script)
        self.calls: list[list[dict[str, Any]]] = []
        self.stored: list[dict[str, Any]] = []

    def put_records(self, **params: Any) -> dict[str, Any]:
        _validate("kinesis", "PutRecords", params)
        records = params["Records"]
        self.calls.append(records)
        outcome = self.script.pop(0) if self.script else None
        if isinstance(outcome, Exception):
            raise outcome
        failing = outcome(records) if outcome is not None else {}
        results: list[dict[str, Any]] = []
        for index, record in enumerate(records):
            if index in failing:
                results.append({"ErrorCode": failing[index], "ErrorMessage": "fake failure"})
                continue
            sequence = str(49600000000000000000000000000000000000000000000000000000 + len(self.stored))
            self.stored.append({**record, "SequenceNumber": sequence})
            results.append({"SequenceNumber": sequence, "ShardId": self.SHARD})
        return {"FailedRecordCount": len(failing), "Records": results}

    def stored_records(self) -> list[dict[str, Any]]:
        """The DynamoDB stream records the shard holds, decoded, in shard order."""
        return [json.loads(record["Data"]) for record in self.stored]

    def lambda_event(self) -> dict[str, Any]:
        """The stored records as a Kinesis event a consumer mapping would deliver."""
        return {"Records": [kinesis_record(r["Data"], r["PartitionKey"], r["SequenceNumber"], self.SHARD)
                            for r in self.stored]}


def kinesis_record(data: bytes, partition_key: str, sequence: str, shard: str,
                   arrival: float = 1795701902.25) -> dict[str, Any]:
    """One record of a Kinesis Lambda event (the shape of AWS's documented sample)."""
    return {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": partition_key, "sequenceNumber": sequence,
                    "data": base64.b64encode(data).decode(), "approximateArrivalTimestamp": arrival},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard}:{sequence}",
        "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::000000000000:role/clicks-lambda-role",
        "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/clicks-fanout",
    }


def kinesis_event(stream_records: list[dict[str, Any]], shard: str = "shardId-000000000001") -> dict[str, Any]:
    """DynamoDB stream records wrapped as fanout would deliver them through Kinesis."""
    return {"Records": [
        kinesis_record(json.dumps(r, separators=(",", ":")).encode(), r["dynamodb"]["Keys"].get("uuid", {}).get("S", "k"),
                       str(49658000000000000000000000000000000000000000000000000000 + i), shard, 1795701902.25 + i)
        for i, r in enumerate(stream_records)
    ]}


def rejected_logs(caplog: Any) -> list[dict[str, Any]]:
    """The structured log lines of rejected junk records (pytest's ``caplog``): level and extra fields."""
    return [{"level": r.levelname, **vars(r)} for r in caplog.records if getattr(r, "rejected", False) is True]


@dataclass
class FakeContext:
    """The part of the Lambda context the handlers read."""

    remaining_ms: int = 30_000
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    path: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpSink:
    """A local HTTP server answering POSTs as ``script`` says (then 200), recording each."""

    #: Answers in turn: a status, (status, headers) or (status, headers, JSON answer body).
    script: list[int | tuple[int, dict[str, str]] | tuple[int, dict[str, str], Any]] = field(default_factory=list)
    delay_s: float = 0.0
    #: Idempotency keys always answered with this status (after the script is used up).
    refuse: dict[str, int] = field(default_factory=dict)
    requests: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)

    def start(self) -> str:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink._lock:
                    sink.requests.append(Delivery(dict(self.headers.items()), body, self.path))
                    key = self.headers.get("Idempotency-Key", "")
                    if sink.script:
                        answer = sink.script.pop(0)
                    elif self.path.endswith("/batch"):
                        answer = sink.batch_answer(body)
                    else:
                        answer = sink.refuse.get(key, 200)
                if sink.delay_s:
                    sink._release.wait(sink.delay_s)  # a slow sink; released at stop()
                status, headers, payload = (*answer, {})[:3] if isinstance(answer, tuple) else (answer, {}, {})
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out first: what the slow-sink tests want

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/deliveries"

    def batch_answer(self, body: bytes) -> int | tuple[int, dict[str, str], Any]:
        """A batch with a refused key: that status, holding the records before it (as our sink does)."""
        keys = [entry["key"] for entry in json.loads(body)["records"]]
        for position, key in enumerate(keys):
            if key in self.refuse:
                return self.refuse[key], {}, {"error": f"record {position}: refused", "recorded": position}
        return 200

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def keys(self) -> list[str]:
        return [d.headers.get("Idempotency-Key", "") for d in self.requests]
