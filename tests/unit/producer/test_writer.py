"""The writer's retry policy and ordering, against a scripted fake DynamoDB client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from producer.events import Click
from producer.plan import Op, OpKind
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from producer.writer import ClickWriter, FatalWriteError, WriteResult

Script = Callable[[str, dict[str, Any]], Any]


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Op",
    )


class FakeDynamo:
    """Records calls; ``script(method, kwargs)`` returns a response or an exception to raise."""

    def __init__(self, script: Script | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.script = script or (lambda method, kwargs: {})

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def call(**kwargs: Any) -> Any:
            self.calls.append((method, kwargs))
            outcome = self.script(method, kwargs)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        return call


def click(n: int) -> Click:
    return Click(seq=n, uuid=f"id-{n}", user="user-00001", action="ViewHome", page="/", session="s")


def make_writer(fake: FakeDynamo, batch_size: int = 25) -> tuple[ClickWriter, list[WriteResult]]:
    results: list[WriteResult] = []
    writer = ClickWriter(
        client=fake,
        table="t",
        run_id="run",
        ttl_seconds=60,
        on_result=results.append,
        batch_size=batch_size,
        sleep=lambda s: None,
        clock=lambda: 1_700_000_000.123,
    )
    return writer, results


def test_batches_of_25_with_contract_shaped_items() -> None:
    fake = FakeDynamo()
    writer, results = make_writer(fake)
    for n in range(30):
        writer.submit(Op(OpKind.PUT, click(n)))
    writer.flush()
    batches = [kw["RequestItems"]["t"] for method, kw in fake.calls]
    assert [len(b) for b in batches] == [25, 5]
    item = batches[0][0]["PutRequest"]["Item"]
    assert item == {
        "uuid": {"S": "id-0"},
        "user": {"S": "user-00001"},
        "action": {"S": "ViewHome"},
        "page": {"S": "/"},
        "session": {"S": "s"},
        "ts": {"N": "1700000000123"},
        "expires_at": {"N": "1700000060"},
        "run_id": {"S": "run"},
    }
    assert all(r.ok for r in results) and len(results) == 30


def test_unprocessed_items_are_retried_until_written() -> None:
    rounds = iter([2, 1, 0])  # items left unprocessed on each call

    def script(method: str, kwargs: dict[str, Any]) -> Any:
        requests = kwargs["RequestItems"]["t"]
        return {"UnprocessedItems": {"t": requests[: next(rounds)]}}

    fake = FakeDynamo(script)
    writer, results = make_writer(fake)
    for n in range(5):
        writer.submit(Op(OpKind.PUT, click(n)))
    writer.flush()
    assert [len(kw["RequestItems"]["t"]) for _, kw in fake.calls] == [5, 2, 1]
    assert sorted(r.op.click.uuid for r in results if r.ok) == [f"id-{n}" for n in range(5)]
    assert writer.stats.retries == 2


def test_items_unprocessed_forever_are_reported_failed() -> None:
    fake = FakeDynamo(lambda m, kw: {"UnprocessedItems": {"t": kw["RequestItems"]["t"]}})
    writer, results = make_writer(fake)
    writer.submit(Op(OpKind.PUT, click(1)))
    writer.flush()
    assert len(fake.calls) == writer.max_attempts
    assert [(r.ok, r.error) for r in results] == [(False, "unprocessed after retries")]


def test_throttled_put_is_retried() -> None:
    answers = iter([client_error("ProvisionedThroughputExceededException"), {}])
    fake = FakeDynamo(lambda m, kw: next(answers))
    writer, results = make_writer(fake, batch_size=1)
    writer.submit(Op(OpKind.PUT, click(1)))
    assert [m for m, _ in fake.calls] == ["put_item", "put_item"]
    assert results[0].ok


def test_lost_response_retries_a_put_but_not_an_update() -> None:
    timeout = ReadTimeoutError(endpoint_url="http://x")
    fake = FakeDynamo(lambda m, kw: timeout if len(fake.calls) == 1 or m == "update_item" else {})
    writer, results = make_writer(fake, batch_size=1)
    writer.submit(Op(OpKind.PUT, click(1)))  # first attempt times out, the retry succeeds
    writer.submit(Op(OpKind.UPDATE, click(1)))  # may have been applied: not re-sent
    assert [m for m, _ in fake.calls] == ["put_item", "put_item", "update_item"]
    assert [r.ok for r in results] == [True, False]


def test_update_and_delete_are_conditional_and_report_missing_items() -> None:
    fake = FakeDynamo(lambda m, kw: client_error("ConditionalCheckFailedException"))
    writer, results = make_writer(fake, batch_size=1)
    writer.submit(Op(OpKind.UPDATE, click(1)))
    writer.submit(Op(OpKind.DELETE, click(2)))
    assert all(kw["ConditionExpression"] == "attribute_exists(#key)" for _, kw in fake.calls)
    assert all(kw["ExpressionAttributeNames"]["#key"] == "uuid" for _, kw in fake.calls)
    assert [r.error for r in results] == ["item no longer exists"] * 2
    update = fake.calls[0][1]
    assert update["UpdateExpression"] == "SET #ts = :ts, #updated = :updated"
    assert update["ExpressionAttributeValues"][":ts"] == {"N": "1700000000123"}


def test_follow_up_of_a_buffered_put_flushes_it_first_others_do_not() -> None:
    fake = FakeDynamo()
    writer, _ = make_writer(fake)
    writer.submit(Op(OpKind.PUT, click(1)))
    writer.submit(Op(OpKind.PUT, click(2)))
    writer.submit(Op(OpKind.UPDATE, click(99)))  # not buffered: goes out, the batch keeps filling
    assert [m for m, _ in fake.calls] == ["update_item"]
    writer.submit(Op(OpKind.DELETE, click(2)))  # its put is buffered: batch first
    assert [m for m, _ in fake.calls] == ["update_item", "batch_write_item", "delete_item"]
    assert not writer.is_buffered("id-1")


@pytest.mark.parametrize(
    "error",
    [client_error("ResourceNotFoundException"), EndpointConnectionError(endpoint_url="http://x")],
)
def test_fatal_errors_stop_the_run(error: Exception) -> None:
    fake = FakeDynamo(lambda m, kw: error)
    writer, _ = make_writer(fake, batch_size=1)
    with pytest.raises(FatalWriteError) as caught:
        writer.submit(Op(OpKind.PUT, click(1)))
    assert caught.value.cause is error


def test_validation_error_fails_the_op_and_the_run_goes_on() -> None:
    fake = FakeDynamo(lambda m, kw: client_error("ValidationException"))
    writer, results = make_writer(fake, batch_size=1)
    writer.submit(Op(OpKind.PUT, click(1)))
    assert len(fake.calls) == 1
    assert not results[0].ok and results[0].error.startswith("ValidationException")


def test_key_and_ttl_names_are_the_topologys() -> None:
    topology = Topology.from_settings(Settings(endpoint_url="http://127.0.0.1:4566"))
    writer, _ = make_writer(FakeDynamo())
    assert (writer.table_key, writer.ttl_attribute) == (topology.table_key, topology.ttl_attribute)


def test_another_schema_is_written_throughout() -> None:
    fake = FakeDynamo(lambda m, kw: {"UnprocessedItems": {"t": kw["RequestItems"]["t"][:1]}} if len(fake.calls) == 1 else {})
    writer, results = make_writer(fake)
    writer.table_key, writer.ttl_attribute = "pk", "ttl"
    writer.submit(Op(OpKind.PUT, click(1)))
    writer.submit(Op(OpKind.UPDATE, click(1)))  # flushes the put first, then retries its unprocessed item
    writer.submit(Op(OpKind.DELETE, click(1)))
    (_, put), (_, retry), (_, update), (_, delete) = fake.calls
    item = put["RequestItems"]["t"][0]["PutRequest"]["Item"]
    assert item["pk"] == {"S": "id-1"} and item["ttl"] == {"N": "1700000060"}
    assert "uuid" not in item and "expires_at" not in item
    assert retry["RequestItems"]["t"][0]["PutRequest"]["Item"]["pk"] == {"S": "id-1"}
    assert update["Key"] == delete["Key"] == {"pk": {"S": "id-1"}}
    assert update["ExpressionAttributeNames"]["#key"] == delete["ExpressionAttributeNames"]["#key"] == "pk"
    assert [r.ok for r in results] == [True, True, True]


def test_a_vanished_endpoint_names_the_writes_in_flight_and_whether_they_may_have_landed() -> None:
    refused = EndpointConnectionError(endpoint_url="http://x")
    fake = FakeDynamo(lambda m, kw: refused)
    writer, _ = make_writer(fake, batch_size=2)
    writer.submit(Op(OpKind.PUT, click(1)))
    with pytest.raises(FatalWriteError) as caught:
        writer.submit(Op(OpKind.PUT, click(2)))
    assert [op.click.uuid for op in caught.value.in_flight] == ["id-1", "id-2"]
    assert caught.value.maybe_applied is False  # every attempt was refused: certainly not written


def test_a_lost_answer_before_the_endpoint_vanished_makes_the_write_unknown() -> None:
    answers = iter([ReadTimeoutError(endpoint_url="http://x")])
    fake = FakeDynamo(lambda m, kw: next(answers, EndpointConnectionError(endpoint_url="http://x")))
    writer, _ = make_writer(fake, batch_size=1)
    with pytest.raises(FatalWriteError) as caught:
        writer.submit(Op(OpKind.PUT, click(1)))
    assert [op.click.uuid for op in caught.value.in_flight] == ["id-1"]
    assert caught.value.maybe_applied is True
