"""Invoke like AWS: results, unhandled errors, timeouts, context, environment, isolation."""

from __future__ import annotations

import json

import pytest

from tests.functional.emulator.support import create_function, package, unique

MODULES = ("behaviours",)


@pytest.fixture(scope="module")
def functions(aws) -> dict[str, str]:
    names = {kind: unique(kind) for kind in ("echo", "fail", "slow", "libs")}
    create_function(aws, names["echo"], "behaviours.echo", MODULES, {"CUSTOM": "value"})
    create_function(aws, names["fail"], "behaviours.fail", MODULES)
    create_function(aws, names["slow"], "behaviours.slow", MODULES, timeout=1)
    create_function(aws, names["libs"], "behaviours.importable_libraries", MODULES)
    return names


def _invoke(aws, name: str, payload: dict) -> tuple[dict, dict]:
    response = aws("lambda").invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return response, json.loads(response["Payload"].read())


def test_invoke_returns_the_handler_result_with_a_lambda_context(aws, emulator, functions) -> None:
    response, body = _invoke(aws, functions["echo"], {"hello": "world"})
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert body["event"] == {"hello": "world"}
    assert body["function"] == functions["echo"]
    assert body["arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{functions['echo']}"
    assert 0 < body["remaining_ms"] <= 30_000 and body["memory"] == 128 and len(body["request_id"]) == 36
    assert body["endpoint"] == emulator.endpoint_url and body["region"] == "us-east-1" and body["custom"] == "value"


def test_a_raising_handler_answers_unhandled_with_type_and_message(aws, functions) -> None:
    response, body = _invoke(aws, functions["fail"], {})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "PaymentDeclined"
    assert body["errorMessage"] == "card 4242 declined"
    assert any("behaviours.py" in line for line in body["stackTrace"])


def test_a_handler_past_its_timeout_is_stopped(aws, functions) -> None:
    response, body = _invoke(aws, functions["slow"], {"seconds": 10})
    assert response["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    # the killed worker is replaced: the next invocation works
    response, body = _invoke(aws, functions["slow"], {"seconds": 0})
    assert "FunctionError" not in response and body == "finished"


def test_the_runtime_offers_boto3_but_nothing_from_the_repo(aws, functions) -> None:
    _, found = _invoke(aws, functions["libs"], {})
    assert found == {"boto3": True, "botocore": True, "moto": False, "emulator": False, "bootstrap": False,
                     "aws_lambda_powertools": False, "pytest": False}


def test_update_function_code_takes_effect_on_the_next_invocation(aws) -> None:
    name = unique("swap")
    create_function(aws, name, "behaviours.echo", MODULES)
    lam = aws("lambda")
    assert "event" in _invoke(aws, name, {"n": 1})[1]
    before = lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    updated = lam.update_function_code(FunctionName=name, ZipFile=package("recorder", "behaviours"))
    assert updated["CodeSha256"] != before
    lam.update_function_configuration(FunctionName=name, Handler="behaviours.importable_libraries")
    _, body = _invoke(aws, name, {})
    assert body["boto3"] is True and "event" not in body


def test_event_invocations_are_accepted_and_run(aws, tmp_path) -> None:
    from tests.functional.emulator.support import records_when
    from tests.waiting import wait_until

    name = unique("async")
    out = tmp_path / "async.jsonl"
    create_function(aws, name, "recorder.handler", ("recorder",), {"RECORD_FILE": str(out)})
    response = aws("lambda").invoke(FunctionName=name, InvocationType="Event", Payload=b'{"Records": [{"n": 1}]}')
    assert response["StatusCode"] == 202
    entries = wait_until(lambda: records_when(out, 1), timeout=10, what="the asynchronous invocation")
    assert entries[0]["record"] == {"n": 1}


def test_function_tags_can_be_added_listed_and_removed(aws) -> None:
    name = unique("tags")
    arn = create_function(aws, name, "behaviours.echo", MODULES)["FunctionArn"]
    lam = aws("lambda")
    lam.tag_resource(Resource=arn, Tags={"team": "clicks", "env": "dev"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "clicks", "env": "dev"}
    lam.untag_resource(Resource=arn, TagKeys=["env"])
    assert lam.get_function(FunctionName=name)["Tags"] == {"team": "clicks"}


def test_log_type_tail_returns_the_invocation_log(aws, functions) -> None:
    import base64

    response = aws("lambda").invoke(FunctionName=functions["fail"], Payload=b"{}", LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    lines = tail.splitlines()
    assert lines[0].startswith("START RequestId: ") and lines[-1].startswith("REPORT RequestId: ")
    assert "PaymentDeclined: card 4242 declined" in tail  # the traceback the runtime printed


def test_an_escaped_child_process_blocks_neither_timeout_nor_delete(aws) -> None:
    import time

    name = unique("escape")
    create_function(aws, name, "behaviours.escape", MODULES, timeout=1)
    started = time.monotonic()
    response, body = _invoke(aws, name, {"seconds": 10})
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    assert time.monotonic() - started < 8
    started = time.monotonic()
    aws("lambda").delete_function(FunctionName=name)
    assert time.monotonic() - started < 8


def test_a_response_over_6_mb_is_a_function_error(aws) -> None:
    name = unique("huge")
    create_function(aws, name, "behaviours.huge", MODULES)
    response, body = _invoke(aws, name, {})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"


def test_invalid_configuration_updates_do_not_leak_worker_slots(aws) -> None:
    from botocore.exceptions import ClientError

    name = unique("slots")
    create_function(aws, name, "behaviours.echo", MODULES)
    raw = aws("lambda", parameter_validation=False)
    for i in range(10):  # more than the 8 worker slots a function has
        with pytest.raises(ClientError):
            raw.update_function_configuration(FunctionName=name, Environment={"Variables": {"A": i}})
    response, body = _invoke(aws, name, {"ok": 1})
    assert "FunctionError" not in response and body["event"] == {"ok": 1}
