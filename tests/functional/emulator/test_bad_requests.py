"""Bad requests get AWS's error codes (never a 500), and the server keeps serving."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.functional.emulator.support import create_function, create_stream_table, ensure_role, package, unique


def _code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500
    return info.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def target(aws) -> dict[str, str]:
    name = unique("target")
    create_function(aws, name, "recorder.handler", ("recorder",), {"RECORD_FILE": "/dev/null"})
    table = unique("bad")
    return {"function": name, "stream": create_stream_table(aws, table)}


@pytest.fixture(scope="module")
def raw_lambda(aws):
    """A client that skips botocore's own validation, so the server sees the bad values."""
    return aws("lambda", parameter_validation=False)


def test_unknown_function(aws) -> None:
    lam = aws("lambda")
    assert _code(lam.get_function, FunctionName="no-such-function") == "ResourceNotFoundException"
    assert _code(lam.invoke, FunctionName="no-such-function") == "ResourceNotFoundException"
    assert _code(lam.delete_function, FunctionName="no-such-function") == "ResourceNotFoundException"
    assert _code(lam.get_event_source_mapping, UUID="00000000-0000-0000-0000-000000000000") == "ResourceNotFoundException"


def test_malformed_arns(aws, target) -> None:
    lam = aws("lambda")
    assert _code(lam.get_function, FunctionName="arn:aws:lambda:nowhere:function:x:y:z") == "ValidationException"
    assert _code(lam.create_event_source_mapping, FunctionName=target["function"], EventSourceArn="not-an-arn",
                 StartingPosition="LATEST") == "ValidationException"


@pytest.mark.parametrize("size", [0, 20_000])
def test_batch_size_out_of_range(raw_lambda, target, size: int) -> None:
    assert _code(raw_lambda.create_event_source_mapping, FunctionName=target["function"], EventSourceArn=target["stream"],
                 StartingPosition="LATEST", BatchSize=size) == "ValidationException"


def test_unknown_starting_position(raw_lambda, target) -> None:
    assert _code(raw_lambda.create_event_source_mapping, FunctionName=target["function"], EventSourceArn=target["stream"],
                 StartingPosition="YESTERDAY") == "ValidationException"


def test_mapping_on_a_table_without_a_stream(aws, target) -> None:
    table = unique("nostream")
    arn = aws("dynamodb").create_table(
        TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    lam = aws("lambda")
    assert _code(lam.create_event_source_mapping, FunctionName=target["function"], EventSourceArn=arn,
                 StartingPosition="LATEST") == "InvalidParameterValueException"
    assert _code(lam.create_event_source_mapping, FunctionName=target["function"], EventSourceArn=f"{arn}/stream/2020-01-01T00:00:00.000",
                 StartingPosition="LATEST") == "InvalidParameterValueException"


def test_duplicate_function_and_mapping_conflict(aws, target) -> None:
    lam = aws("lambda")
    assert _code(lam.create_function, FunctionName=target["function"], Runtime="python3.12", Role=ensure_role(aws("iam")),
                 Handler="recorder.handler", Code={"ZipFile": package("recorder")}) == "ResourceConflictException"
    lam.create_event_source_mapping(FunctionName=target["function"], EventSourceArn=target["stream"], StartingPosition="LATEST")
    assert _code(lam.create_event_source_mapping, FunctionName=target["function"], EventSourceArn=target["stream"],
                 StartingPosition="LATEST") == "ResourceConflictException"


def test_bad_function_definitions(aws) -> None:
    lam = aws("lambda")
    role = ensure_role(aws("iam"))
    assert _code(lam.create_function, FunctionName=unique("zip"), Runtime="python3.12", Role=role, Handler="a.b",
                 Code={"ZipFile": b"not a zip"}) == "InvalidZipFileException"
    assert _code(lam.create_function, FunctionName=unique("role"), Runtime="python3.12", Role="arn:aws:iam::000000000000:role/missing",
                 Handler="a.b", Code={"ZipFile": package("recorder")}) == "InvalidParameterValueException"
    assert _code(lam.create_function, FunctionName=unique("node"), Runtime="nodejs20.x", Role=role, Handler="a.b",
                 Code={"ZipFile": package("recorder")}) == "InvalidParameterValueException"
    assert _code(lam.create_function, FunctionName=unique("env"), Runtime="python3.12", Role=role, Handler="a.b",
                 Code={"ZipFile": package("recorder")}, Environment={"Variables": {"AWS_REGION": "x"}}) == "InvalidParameterValueException"


def test_invalid_invoke_payload(aws, target) -> None:
    assert _code(aws("lambda").invoke, FunctionName=target["function"], Payload=b"{not json") == "InvalidRequestContentException"


def test_the_server_keeps_serving(aws, target) -> None:
    assert aws("lambda").get_function(FunctionName=target["function"])["Configuration"]["State"] == "Active"


def _raw(emulator, method: str, path: str, body: object) -> int:
    """An unsigned request straight to the Lambda API (routed by path), returning its status."""
    import json
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode()
    request = urllib.request.Request(emulator.endpoint_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


BAD_FUNCTIONS = [
    {"Environment": "x"},
    {"Environment": {"Variables": ["a"]}},
    {"Environment": {"Variables": {"A": 1}}},
    {"Environment": {"Variables": {"A=B": "1"}}},
    {"Environment": {"Variables": {"A": "x\u0000"}}},
    {"Handler": 5},
    {"Handler": "has space"},
    {"Code": "abc"},
    {"Code": {"ZipFile": "!!!notb64"}},
    {"Tags": ["a"]},
    {"Timeout": True},
    {"Architectures": "arm64"},
    {"FunctionName": "a" * 65},
    {"FunctionName": "arn:aws:lambda:eu-west-1:000000000000:function:elsewhere"},
]


@pytest.mark.parametrize("override", BAD_FUNCTIONS, ids=lambda o: str(o)[:40])
def test_malformed_function_definitions_are_4xx(aws, emulator, override: dict) -> None:
    import base64

    body = {"FunctionName": unique("raw"), "Runtime": "python3.12", "Role": ensure_role(aws("iam")),
            "Handler": "recorder.handler", "Code": {"ZipFile": base64.b64encode(package("recorder")).decode()}, **override}
    assert 400 <= _raw(emulator, "POST", "/2015-03-31/functions", body) < 500


BAD_MAPPING_UPDATES = [
    {"FunctionResponseTypes": 5},
    {"FilterCriteria": "x"},
    {"DestinationConfig": "x"},
    {"DestinationConfig": {"OnFailure": "x"}},
    {"FunctionName": 5},
    {"Enabled": "false"},
]


@pytest.mark.parametrize("body", BAD_MAPPING_UPDATES, ids=str)
def test_malformed_mapping_updates_are_4xx(aws, emulator, target, body: dict) -> None:
    lam = aws("lambda")
    found = lam.list_event_source_mappings(FunctionName=target["function"])["EventSourceMappings"]
    mapping = found[0]["UUID"] if found else lam.create_event_source_mapping(
        FunctionName=target["function"], EventSourceArn=target["stream"], StartingPosition="LATEST")["UUID"]
    assert 400 <= _raw(emulator, "PUT", f"/2015-03-31/event-source-mappings/{mapping}", body) < 500
    assert lam.get_event_source_mapping(UUID=mapping)["State"] in ("Enabled", "Updating", "Creating")


def test_a_bad_at_timestamp_is_4xx(aws, emulator, target) -> None:
    body = {"FunctionName": target["function"], "EventSourceArn": target["stream"],
            "StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": "abc"}
    assert 400 <= _raw(emulator, "POST", "/2015-03-31/event-source-mappings/", body) < 500


@pytest.mark.parametrize("query", ["Marker=-5", "MaxItems=0", "MaxItems=abc"])
def test_bad_paging_is_4xx(emulator, query: str) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{emulator.endpoint_url}/2015-03-31/functions/?{query}", timeout=10)
    assert info.value.code == 400


def test_an_import_error_shows_no_runtime_frames(aws) -> None:
    import json

    name = unique("noimport")
    create_function(aws, name, "missing_module.handler", ("recorder",))
    body = json.loads(aws("lambda").invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert not any("worker_runtime" in line for line in body["stackTrace"])
