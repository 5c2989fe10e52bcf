"""Fuzz probes for the Lambda REST API as emulator/lambda_service/responses.py routes it."""

from __future__ import annotations

import base64
import io
import json
import random
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote as _quote

from tests.functional.fuzz.harness import Probe
from tests.functional.fuzz.junk import SHORT_STRINGS, Junk
from tests.rawhttp import Answer

F = "/2015-03-31/functions"
M = "/2015-03-31/event-source-mappings"
#: Functions the fuzzer may create, change and delete (few: every created function starts a worker process).
POOL = ("fuzz-a", "fuzz-b", "fuzz-c")
#: Never deleted or changed: the target of the invokes and of the oversized requests.
KEEP = "fuzz-keep"
NOT_EMULATED = ("versions", "aliases", "policy", "concurrency", "url", "event-invoke-config")


def quote(text: str, safe: str = "") -> str:
    """Percent-encode a path or query part; lone surrogates become '?' rather than an error."""
    return _quote(text, safe=safe, errors="replace")


def zip_b64(entries: dict[str, bytes], level: int = 6) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return base64.b64encode(buffer.getvalue()).decode()


@dataclass
class Target:
    """What exists on the emulator for the fuzzer to aim at."""

    role: str
    streams: list[str]  # a Kinesis stream ARN and a DynamoDB stream ARN
    code: str  # a valid package, base64
    mappings: list[str] = field(default_factory=list)  # UUIDs seen in answers


def expect(status: int, error_type: str, message: str | None = None) -> Any:
    """An oracle for a probe whose exact answer AWS defines."""

    def accept(answer: Answer) -> str | None:
        got = (answer.status, answer.error_type)
        if got != (status, error_type):
            return f"expected {status} {error_type}, got {got}"
        if message is not None and answer.json().get("message") != message:
            return f"expected message {message!r}, got {answer.json().get('message')!r}"
        return None

    return accept


class LambdaProbes:
    """A fixed number of probes: mostly random operations with hostile input, plus the named hard cases."""

    def __init__(self, rng: random.Random, target: Target, budget: int) -> None:
        self.rng = rng
        self.junk = Junk(rng)
        self.target = target
        self.budget = budget
        self.count = 0
        bomb = zip_b64({f"part{i}.bin": bytes(10 << 20) for i in range(26)}, level=1)  # 1.2 MB -> 272 MB
        slip = zip_b64({"ok.py": b"", "../../../tmp/fuzz-escape.py": b"pwned"})
        absolute = zip_b64({"/tmp/fuzz-absolute.py": b"pwned"})
        self.hard_cases = [
            Probe("7 MB invoke", "POST", f"{F}/{KEEP}/invocations", b'"' + b"a" * (7 << 20) + b'"',
                  accept=expect(413, "RequestEntityTooLargeException",
                                "Request must be smaller than 6291456 bytes for the InvokeFunction operation")),
            Probe("zip bomb", "POST", F, self._create_body("fuzz-bomb", bomb),
                  accept=expect(400, "InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes")),
            Probe("zip slip", "PUT", f"{F}/{KEEP}/code", json.dumps({"ZipFile": slip}).encode(),
                  accept=expect(400, "InvalidZipFileException")),
            Probe("absolute zip entry", "POST", F, self._create_body("fuzz-abs", absolute),
                  accept=expect(400, "InvalidZipFileException")),
            Probe("100 MB declared", "POST", F, b"{}", {"Content-Length": "100000000"},
                  accept=expect(413, "RequestEntityTooLargeException")),
        ]

    # --- the sequence ---------------------------------------------------------------
    def __call__(self) -> Probe | None:
        if self.count >= self.budget:
            return None
        self.count += 1
        # the hard cases, spread evenly through the run (about three times each)
        interval = self.budget // (3 * len(self.hard_cases) + 1)
        if self.count % interval == 0:
            return self.hard_cases[(self.count // interval) % len(self.hard_cases)]
        operations = (
            (self.create_function, 8), (self.get_function, 6), (self.list_functions, 5), (self.invoke, 14),
            (self.update_configuration, 3), (self.update_code, 3), (self.delete_function, 1),
            (self.create_mapping, 8), (self.mapping_call, 8), (self.tags, 4), (self.not_emulated, 2),
            (self.nowhere, 5),
        )
        operation = self.rng.choices([op for op, _ in operations], [w for _, w in operations])[0]
        return operation()

    # --- names and paths -------------------------------------------------------------
    def name(self) -> str:
        choice = self.rng.randrange(10)
        if choice < 5:
            return self.rng.choice(POOL)
        if choice == 5:
            return KEEP
        if choice == 6:
            return f"arn:aws:lambda:us-east-1:000000000000:function:{self.rng.choice(POOL)}"
        return self.rng.choice(SHORT_STRINGS) or "x"

    def path_name(self) -> str:
        return quote(self.name(), safe=":$") if self.rng.random() < 0.8 else self.rng.choice(("..", "%2e%2e", "a%00b", "%ff"))

    def query(self) -> str:
        if self.rng.random() < 0.6:
            return ""
        key = self.rng.choice(("Qualifier", "Marker", "MaxItems", "FunctionName", "EventSourceArn", "Bogus"))
        return f"?{key}={quote(str(self.junk.value())[:5000])}"

    # --- operations --------------------------------------------------------------------
    def _create_body(self, name: str, code: str) -> bytes:
        return json.dumps({"FunctionName": name, "Runtime": "python3.12", "Role": self.target.role,
                           "Handler": "recorder.handler", "Code": {"ZipFile": code}}).encode()

    def create_function(self) -> Probe:
        document = {"FunctionName": self.rng.choice(POOL), "Runtime": "python3.12", "Role": self.target.role,
                    "Handler": "recorder.handler", "Code": {"ZipFile": self.target.code}, "Timeout": 3,
                    "Environment": {"Variables": {"RECORD_FILE": "/dev/null"}}, "Tags": {"k": "v"}}
        body = self.junk.body(document) if self.rng.random() < 0.9 else json.dumps(document).encode()
        return Probe("CreateFunction", "POST", F, body, {"Content-Type": "application/json"})

    def get_function(self) -> Probe:
        suffix = self.rng.choice(("", "/configuration"))
        return Probe("GetFunction", "GET", f"{F}/{self.path_name()}{suffix}{self.query()}")

    def list_functions(self) -> Probe:
        return Probe("ListFunctions", "GET", f"{F}/{self.query()}")

    def invoke(self) -> Probe:
        kind = self.rng.choice(("RequestResponse", "RequestResponse", "Event", "DryRun", "", "bogus", "event"))
        headers = {"X-Amz-Invocation-Type": kind} if kind else {}
        if self.rng.random() < 0.3:
            headers["X-Amz-Log-Type"] = self.rng.choice(("Tail", "None", "x" * 300))
        payload = json.dumps(self.junk.value()).encode() if self.rng.random() < 0.5 else self.junk.body({"a": 1})
        name = KEEP if self.rng.random() < 0.6 else self.path_name()
        if self.rng.random() < 0.1:
            return Probe("InvokeAsync", "POST", f"/2014-11-13/functions/{name}/invoke-async/", payload)
        return Probe("Invoke", "POST", f"{F}/{name}/invocations{self.query()}", payload, headers)

    def update_configuration(self) -> Probe:
        document = {"Timeout": 5, "MemorySize": 256, "Description": "fuzz", "Handler": "recorder.handler",
                    "Environment": {"Variables": {"RECORD_FILE": "/dev/null"}}}
        return Probe("UpdateFunctionConfiguration", "PUT", f"{F}/{self.rng.choice(POOL)}/configuration",
                     self.junk.body(document))

    def update_code(self) -> Probe:
        code = self.rng.choice((self.target.code, "!!", base64.b64encode(self.rng.randbytes(300)).decode(), "UEsDBA=="))
        return Probe("UpdateFunctionCode", "PUT", f"{F}/{self.rng.choice(POOL)}/code",
                     self.junk.body({"ZipFile": code, "Architectures": ["x86_64"]}))

    def delete_function(self) -> Probe:
        name = self.rng.choice(POOL) if self.rng.random() < 0.7 else self.path_name()
        if name in (KEEP, quote(KEEP)):
            name = POOL[0]
        return Probe("DeleteFunction", "DELETE", f"{F}/{name}{self.query()}")

    def create_mapping(self) -> Probe:
        document = {"FunctionName": self.rng.choice(POOL), "EventSourceArn": self.rng.choice(self.target.streams),
                    "StartingPosition": self.rng.choice(("LATEST", "TRIM_HORIZON", "AT_TIMESTAMP")),
                    "BatchSize": 10, "MaximumRetryAttempts": 1, "Enabled": False,
                    "FilterCriteria": {"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]},
                    "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:dlq"}}}
        return Probe("CreateEventSourceMapping", "POST", f"{M}/", self.junk.body(document), accept=self._learn_uuid)

    def _learn_uuid(self, answer: Answer) -> None:
        if answer.status == 202 and len(self.target.mappings) < 20:
            self.target.mappings.append(answer.json()["UUID"])

    def mapping_uuid(self) -> str:
        if self.target.mappings and self.rng.random() < 0.6:
            return self.rng.choice(self.target.mappings)
        return self.rng.choice((str(uuid.uuid4()), "..", "not-a-uuid", quote(self.rng.choice(SHORT_STRINGS)) or "x"))

    def mapping_call(self) -> Probe:
        method = self.rng.choice(("GET", "GET", "PUT", "DELETE", "LIST"))
        if method == "LIST":
            return Probe("ListEventSourceMappings", "GET", f"{M}/{self.query()}")
        body = self.junk.body({"BatchSize": 20, "Enabled": False}) if method == "PUT" else b""
        if method == "DELETE" and self.rng.random() < 0.7:
            method = "GET"  # deleting is rare: a mapping to aim at should usually exist
        return Probe(f"{method} EventSourceMapping", method, f"{M}/{self.mapping_uuid()}", body)

    def tags(self) -> Probe:
        arn = quote(f"arn:aws:lambda:us-east-1:000000000000:function:{self.name()}", safe=":/")
        method = self.rng.choice(("GET", "POST", "DELETE"))
        body = self.junk.body({"Tags": {"a": "b"}}) if method == "POST" else b""
        query = f"?tagKeys={quote(self.rng.choice(SHORT_STRINGS))}" if method == "DELETE" else ""
        return Probe(f"{method} Tags", method, f"/2017-03-31/tags/{arn}{query}", body)

    def not_emulated(self) -> Probe:
        return Probe("not emulated", self.rng.choice(("GET", "POST")),
                     f"{F}/{self.rng.choice(POOL)}/{self.rng.choice(NOT_EMULATED)}", b"{}")

    def nowhere(self) -> Probe:
        method = self.rng.choice(("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"))
        paths = [f"{F}/a/b/c/d", f"{F}/{self.path_name()}/invocations/extra", "/2015-03-31/",
                 "/2016-08-19/account-settings/", f"{M}/a/b"]
        if method != "DELETE":  # DELETE on a function's path is DeleteFunction, and KEEP must stay
            paths.append(f"{F}/{self.path_name()}")
        path = self.rng.choice(paths)
        return Probe("any path", method, path, self.junk.body({"a": 1}) if method in ("POST", "PUT") else b"")


def judge(probe: Probe, answer: Answer) -> str | None:
    """The rules every Lambda API answer obeys: no 5xx, and errors in AWS's JSON shape."""
    if answer.status >= 500 and not (answer.status == 501 and probe.label == "not emulated"):
        return f"{answer.status} {answer.error_type}: {answer.body[:200]!r}"
    if probe.method == "HEAD":
        return None
    if answer.status >= 400:
        try:
            message = answer.json().get("message")
        except (ValueError, AttributeError):
            return f"{answer.status} with a body that is not a JSON object: {answer.body[:200]!r}"
        if not answer.error_type or not isinstance(message, str) or not message:
            return f"{answer.status} without x-amzn-ErrorType or message: {answer.headers}"
    elif answer.body and probe.label != "Invoke":
        try:
            answer.json()
        except ValueError:
            return f"{answer.status} with a body that is not JSON: {answer.body[:200]!r}"
    return None
