"""How a function's answer under ReportBatchItemFailures is read (AWS: Lambda developer guide,
"Configuring partial batch response with Kinesis Data Streams and DynamoDB Streams")."""

from __future__ import annotations

import json

import pytest

from emulator.batch_results import SUCCESS, WHOLE_BATCH_FAILED, BatchResult, parse_batch_item_failures

SEQUENCES = ["100", "200", "300", "400"]


def _parse(body: object) -> BatchResult:
    return parse_batch_item_failures(json.dumps(body).encode(), SEQUENCES)


@pytest.mark.parametrize("payload", [b"", b"null", b"{}", b'{"batchItemFailures": []}', b'{"batchItemFailures": null}'],
                         ids=["empty payload", "null", "empty object", "empty list", "null list"])
def test_success_forms(payload: bytes) -> None:
    result = parse_batch_item_failures(payload, SEQUENCES)
    assert result == SUCCESS
    assert result.succeeded and result.retry_from is None


def test_one_failure_retries_from_that_record() -> None:
    assert _parse({"batchItemFailures": [{"itemIdentifier": "300"}]}) == BatchResult(2)


def test_failure_of_the_first_record_retries_everything_but_is_not_success() -> None:
    result = _parse({"batchItemFailures": [{"itemIdentifier": "100"}]})
    assert result.retry_from == 0 and not result.succeeded


def test_several_failures_retry_from_the_lowest_whatever_their_order() -> None:
    assert _parse({"batchItemFailures": [{"itemIdentifier": "400"}, {"itemIdentifier": "200"}, {"itemIdentifier": "300"}]}) == BatchResult(1)


def test_duplicate_identifiers_are_harmless() -> None:
    assert _parse({"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "300"}]}) == BatchResult(2)


@pytest.mark.parametrize("body", [
    {"batchItemFailures": [{"itemIdentifier": "999"}]},                              # not in the batch
    {"batchItemFailures": [{"itemIdentifier": "200"}, {"itemIdentifier": "999"}]},  # one unknown spoils all
    {"batchItemFailures": [{"itemIdentifier": ""}]},                                 # empty string
    {"batchItemFailures": [{"itemIdentifier": None}]},                               # null
    {"batchItemFailures": [{"itemId": "200"}]},                                      # bad key name
    {"batchItemFailures": ["200"]},                                                  # not an object
    {"batchItemFailures": {"itemIdentifier": "200"}},                                # not a list
    {"batchItemFailures": "200"},
    ["200"],                                                                         # not an object at all
    "failed",
    42,
], ids=["unknown", "one unknown", "empty id", "null id", "bad key", "bare string item", "object not list",
        "string not list", "top-level list", "top-level string", "top-level number"])
def test_malformed_or_unknown_answers_fail_the_whole_batch(body: object) -> None:
    result = _parse(body)
    assert result == WHOLE_BATCH_FAILED
    assert result.retry_from == 0 and not result.succeeded


def test_a_payload_that_is_not_json_fails_the_whole_batch() -> None:
    assert parse_batch_item_failures(b"{not json", SEQUENCES) == WHOLE_BATCH_FAILED
    assert parse_batch_item_failures(b"\xff\xfe", SEQUENCES) == WHOLE_BATCH_FAILED
