"""Regression tests for what the Lambda API fuzzer (test_fuzz_api.py) found: each once answered 500,
hung, or did something it must not; now each gets a clear 4xx in AWS's shape."""

from __future__ import annotations

import base64
import io
import json
import socket
import zipfile
from typing import Any

import pytest

from emulator.server import EndpointServer
from tests.functional.emulator.support import ensure_role, package, unique
from tests.rawhttp import call, call_json, exchange, split_response
from tests.waiting import wait_until

F = "/2015-03-31/functions"


@pytest.fixture(scope="module")
def port(emulator) -> int:
    return emulator.port


@pytest.fixture(scope="module")
def definition(aws) -> dict[str, Any]:
    return {"Runtime": "python3.12", "Role": ensure_role(aws("iam")), "Handler": "recorder.handler",
            "Code": {"ZipFile": base64.b64encode(package("recorder")).decode()},
            "Environment": {"Variables": {"RECORD_FILE": "/dev/null"}}}


@pytest.fixture(scope="module")
def function(port, definition) -> str:
    name = unique("hostile")
    assert call_json(port, "POST", F, {"FunctionName": name, **definition}).status == 201
    return name


def _zip_code(entries: dict[str, bytes], level: int = 6) -> dict[str, str]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return {"ZipFile": base64.b64encode(buffer.getvalue()).decode()}


@pytest.mark.parametrize("path", [F, f"{F}/x/configuration", "/2015-03-31/event-source-mappings/"])
def test_json_nested_past_the_parser_is_a_400(port, path: str) -> None:
    method = "PUT" if path.endswith("configuration") else "POST"
    answer = call(port, method, path, b"[" * 100_000)
    assert (answer.status, answer.error_type) == (400, "InvalidRequestContentException")


def test_an_invoke_payload_nested_past_the_parser_is_a_400(port, function) -> None:
    answer = call(port, "POST", f"{F}/{function}/invocations", b'{"a":' * 50_000)
    assert (answer.status, answer.error_type) == (400, "InvalidRequestContentException")


@pytest.mark.parametrize("name", ["..", ".", "a.b"])
def test_a_function_name_with_dots_is_refused(port, definition, name: str) -> None:
    # ".." once became the directory the package was unpacked into: one level above the emulator's root
    answer = call_json(port, "POST", F, {"FunctionName": name, **definition})
    assert (answer.status, answer.error_type) == (400, "ValidationException")


@pytest.mark.parametrize("override", [{"Handler": "recorder.handler\u0000"}, {"Handler": "a\u0007b"},
                                      {"Runtime": "python3.12\u0000"}, {"Runtime": "python3x"}], ids=str)
def test_control_characters_that_would_break_the_worker_are_refused(port, definition, override) -> None:
    # a NUL in the handler once passed, and every invocation then answered 500 ("embedded null byte")
    answer = call_json(port, "POST", F, {**definition, "FunctionName": unique("nul"), **override})
    assert answer.status == 400, answer.body


def test_null_settings_take_their_defaults(port, definition) -> None:
    # "Timeout": null was once int(None): a 500, with the package already unpacked
    name = unique("nulls")
    answer = call_json(port, "POST", F, {**definition, "FunctionName": name, "Timeout": None, "MemorySize": None, "Description": None})
    assert answer.status == 201, answer.body
    assert (answer.json()["Timeout"], answer.json()["MemorySize"], answer.json()["Description"]) == (3, 128, "")
    assert call(port, "DELETE", f"{F}/{name}").status == 204


@pytest.mark.parametrize("variables", [{"BIG": "x" * 200_000}, {f"V{i:04d}": "x" * 100 for i in range(50)}], ids=["one huge", "many"])
def test_an_environment_over_4_kb_is_refused(port, definition, function, variables) -> None:
    # a 200 KB variable was once accepted, and every invoke then answered 500 (E2BIG starting the worker)
    for method, path, body in (("POST", F, {**definition, "FunctionName": unique("env")}),
                               ("PUT", f"{F}/{function}/configuration", {})):
        answer = call_json(port, method, path, {**body, "Environment": {"Variables": variables}})
        assert (answer.status, answer.error_type) == (400, "InvalidParameterValueException"), answer.body
        assert "exceeded the 4KB limit" in answer.json()["message"]
    assert call(port, "POST", f"{F}/{function}/invocations", b"{}").status == 200


def test_a_7_mb_invoke_payload_gets_aws_413(port, function) -> None:
    answer = call(port, "POST", f"{F}/{function}/invocations", b'"' + b"a" * (7 << 20) + b'"')
    assert (answer.status, answer.error_type) == (413, "RequestEntityTooLargeException")
    assert answer.json()["message"] == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"


def test_an_event_payload_over_1_mb_gets_aws_413(port, function) -> None:
    payload = b'"' + b"a" * (1 << 20) + b'"'
    answer = call(port, "POST", f"{F}/{function}/invocations", payload, {"X-Amz-Invocation-Type": "Event"})
    assert (answer.status, answer.error_type) == (413, "RequestEntityTooLargeException")
    assert answer.json()["message"] == f"{len(payload)} byte payload is too large for the Event invocation type (limit 1048576 bytes)"


def test_a_body_over_the_limit_is_refused_from_its_content_length(port) -> None:
    # only the headers are sent: the answer must come without the server waiting for 100 MB
    raw = exchange(port, f"POST {F} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n".encode(), half_close=True)
    status, headers, body = split_response(raw)
    assert (status, headers["x-amzn-errortype"]) == (413, "RequestEntityTooLargeException")
    assert json.loads(body)["message"] == "Request must be smaller than 69905067 bytes for the CreateFunction operation"


def test_a_zip_bomb_is_refused_before_unpacking(port, definition) -> None:
    bomb = _zip_code({f"part{i}.bin": bytes(10 << 20) for i in range(26)}, level=1)  # 1.2 MB, 272 MB unzipped
    answer = call_json(port, "POST", F, {**definition, "FunctionName": unique("bomb"), "Code": bomb})
    assert (answer.status, answer.error_type) == (400, "InvalidParameterValueException")
    assert answer.json()["message"] == "Unzipped size must be smaller than 262144000 bytes"


def test_a_corrupt_zip_is_an_invalid_zip_file(port, function) -> None:
    code = bytearray(base64.b64decode(_zip_code({"a.py": b"x" * 10_000})["ZipFile"]))
    code[40:60] = bytes(20)
    answer = call_json(port, "PUT", f"{F}/{function}/code", {"ZipFile": base64.b64encode(bytes(code)).decode()})
    assert (answer.status, answer.error_type) == (400, "InvalidZipFileException")


def test_zipfile_as_a_number_is_refused_without_allocating_it(port, function) -> None:
    answer = call_json(port, "PUT", f"{F}/{function}/code", {"ZipFile": 10**12})  # bytes(10**12): a terabyte
    assert (answer.status, answer.error_type) == (400, "InvalidParameterValueException")


def test_zip_entries_outside_the_package_are_refused(port, function) -> None:
    answer = call_json(port, "PUT", f"{F}/{function}/code", _zip_code({"../../escape.py": b"", "ok.py": b""}))
    assert (answer.status, answer.error_type) == (400, "InvalidZipFileException")


@pytest.mark.parametrize(("method", "path"), [("GET", f"{F}/..%2F..%2Fetc/passwd"), ("PATCH", f"{F}/x"),
                                              ("GET", "/2015-03-31/nothing-here")])
def test_no_such_operation_is_a_404(port, method: str, path: str) -> None:
    answer = call(port, method, path)
    assert (answer.status, answer.error_type) == (404, "UnknownOperationException")


def test_an_aws_operation_not_emulated_is_a_501(port, function) -> None:
    answer = call(port, "POST", f"{F}/{function}/versions", b"{}")
    assert (answer.status, answer.error_type) == (501, "UnsupportedOperationException")


def test_a_body_shorter_than_its_content_length_is_a_400(port) -> None:
    raw = exchange(port, f"POST {F} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{}}".encode(), half_close=True)
    status, headers, _ = split_response(raw)
    assert (status, headers["x-amzn-errortype"]) == (400, "InvalidRequestContentException")


@pytest.mark.parametrize("line", [b"GARBAGE", b"GET /" + b"a" * 70_000 + b" HTTP/1.1"], ids=["no method", "too long"])
def test_a_malformed_request_line_gets_json(port, line: bytes) -> None:
    status, headers, body = split_response(exchange(port, line + b"\r\n\r\n"))
    assert 400 <= status < 500 and headers["content-type"] == "application/json"
    assert headers["x-amzn-errortype"] == "InvalidRequestContentException" and json.loads(body)["message"]


@pytest.mark.parametrize("timestamp", [b"1e999", b"-1e999", b"NaN", b"-5"])
def test_a_starting_position_timestamp_must_be_a_time(aws, port, function, timestamp: bytes) -> None:
    kinesis = aws("kinesis")
    stream = unique("ts")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    body = json.dumps({"FunctionName": function, "EventSourceArn": arn, "StartingPosition": "AT_TIMESTAMP"})
    answer = call(port, "POST", "/2015-03-31/event-source-mappings/", body[:-1].encode() + b', "StartingPositionTimestamp": ' + timestamp + b"}")
    assert (answer.status, answer.error_type) == (400, "InvalidParameterValueException")


def test_a_filter_pattern_nested_past_the_parser_is_a_400(aws, port, function) -> None:
    kinesis = aws("kinesis")
    stream = unique("deep")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    body = {"FunctionName": function, "EventSourceArn": arn, "StartingPosition": "LATEST",
            "FilterCriteria": {"Filters": [{"Pattern": "[" * 50_000}]}}
    answer = call_json(port, "POST", "/2015-03-31/event-source-mappings/", body)
    assert (answer.status, answer.error_type) == (400, "InvalidParameterValueException")


def test_a_stalled_body_to_a_moto_service_does_not_stall_the_others(aws, port) -> None:
    # moto read the body under the lock every moto service shares: one stalled client froze them all
    dynamodb = aws("dynamodb", connect_timeout=5, read_timeout=5)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
                     b"Content-Length: 100\r\n\r\n{")
        assert dynamodb.list_tables()["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert aws("kinesis", connect_timeout=5, read_timeout=5).list_streams()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_moto_body_cut_short_is_a_400(port) -> None:
    raw = exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", half_close=True)
    status, headers, body = split_response(raw)
    assert (status, headers["content-type"]) == (400, "application/json") and json.loads(body)["message"]


def test_update_function_code_checks_architectures_before_unpacking(port, function) -> None:
    # "Architectures": 5 once unpacked the code, then answered 500 ('int' object is not iterable)
    before = call(port, "GET", f"{F}/{function}").json()["Configuration"]["CodeSha256"]
    answer = call_json(port, "PUT", f"{F}/{function}/code", {"ZipFile": _zip_code({"x.py": b""})["ZipFile"], "Architectures": 5})
    assert answer.status == 400, answer.body
    assert call(port, "GET", f"{F}/{function}").json()["Configuration"]["CodeSha256"] == before


def test_a_kinesis_mapping_of_a_deleted_function_reports_it(aws, port, definition) -> None:
    # the poller asked the deleted function for its role on every read: "internal emulator error" and a
    # traceback a second, never "Function not found"
    kinesis, lam, name, stream = aws("kinesis"), aws("lambda"), unique("gone"), unique("gone")
    assert call_json(port, "POST", F, {"FunctionName": name, **definition}).status == 201
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    mapping = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, StartingPosition="TRIM_HORIZON")["UUID"]
    wait_until(lambda: lam.get_event_source_mapping(UUID=mapping)["State"] == "Enabled", timeout=15, what="the mapping enabled")
    lam.delete_function(FunctionName=name)
    kinesis.put_record(StreamName=stream, Data=b"{}", PartitionKey="k")
    result = wait_until(lambda: lam.get_event_source_mapping(UUID=mapping)["LastProcessingResult"].startswith("PROBLEM"),
                        timeout=15, what="the mapping's problem")
    assert lam.get_event_source_mapping(UUID=mapping)["LastProcessingResult"] == "PROBLEM: Function not found", result
    lam.delete_event_source_mapping(UUID=mapping)


def _hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


def test_a_stalled_half_request_is_dropped_after_the_request_timeout() -> None:
    server = EndpointServer(_hello, "127.0.0.1", 0, request_timeout=0.5)  # type: ignore[arg-type]
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le")  # and nothing more
            assert sock.recv(1024) == b""  # closed by the server, well before our 10 s
    finally:
        server.stop()
