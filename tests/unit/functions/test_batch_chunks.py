"""_batch.process_in_chunks: the same outcome as record by record, whatever the chunk size."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools import Logger

from functions._batch import PartialDelivery, lane_of, process_in_chunks, process_in_order
from functions._stream import JunkRecord

logger = Logger(service="test")


#: Partition keys taken in turn: key-0 and key-3 share lane 0 of two, key-4 has lane 1 (crc32).
KEYS = ("key-0", "key-4", "key-3")


def event(*names: str, keys: int = 1) -> dict[str, Any]:
    """One record per name, over the first ``keys`` of KEYS in turn; a name starting with "junk"
    is junk, "bad" fails to prepare."""
    return {"Records": [
        {"eventID": f"shardId-0:{n}", "eventSource": "aws:kinesis",
         "kinesis": {"data": "", "partitionKey": KEYS[n % keys], "sequenceNumber": f"{n:03d}", "name": name}}
        for n, name in enumerate(names)
    ]}


def prepare(record: Any) -> str:
    name = record["kinesis"]["name"]
    if name.startswith("junk"):
        raise JunkRecord(name)
    if name.startswith("bad"):
        raise KeyError(name)
    return name


class Sink:
    """Takes items until the one named ``refuse`` (it and those after it in its chunk are not taken)."""

    def __init__(self, refuse: str | None = None) -> None:
        self.refuse = refuse
        self.chunks: list[list[str]] = []

    def __call__(self, items: list[str]) -> None:
        self.chunks.append(list(items))
        if self.refuse in items:
            raise PartialDelivery(items.index(self.refuse), RuntimeError("refused"))


def reported(outcome: Any) -> list[str]:
    return [failure["itemIdentifier"] for failure in outcome.response["batchItemFailures"]]


NAMES = ("a", "junk1", "b", "c", "junk2", "d", "e")


@pytest.mark.parametrize("size", [1, 2, 3, 50])
@pytest.mark.parametrize("refuse", [None, "a", "b", "c", "d", "e"])
def test_chunks_report_exactly_what_single_records_do(size: int, refuse: str | None) -> None:
    one_by_one = Sink(refuse)
    expected = process_in_order(event(*NAMES), lambda r: one_by_one([prepare(r)]) or prepare(r), logger)
    chunked = Sink(refuse)
    outcome = process_in_chunks(event(*NAMES), prepare, chunked, logger, chunk_size=size)
    assert reported(outcome) == reported(expected)
    assert [item for _, item in outcome.handled] == [item for _, item in expected.handled]
    assert [r.reason for r in outcome.rejected] == [r.reason for r in expected.rejected]
    assert all(len([i for i in chunk]) <= size for chunk in chunked.chunks)


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize("refuse", [None, "a", "c", "e", "h"])
def test_on_two_lanes_chunks_report_what_single_records_do(size: int, refuse: str | None) -> None:
    """Three keys over two lanes, 9 records: at least 3 chunks, so both lanes run."""
    names = ("a", "b", "junk1", "c", "d", "e", "junk2", "g", "h")
    one_by_one = Sink(refuse)
    expected = process_in_order(event(*names, keys=3), lambda r: one_by_one([prepare(r)]) or prepare(r), logger, lanes=2)
    outcome = process_in_chunks(event(*names, keys=3), prepare, Sink(refuse), logger, lanes=2, chunk_size=size)
    assert reported(outcome) == reported(expected)
    assert sorted(item for _, item in outcome.handled) == sorted(item for _, item in expected.handled)
    assert [lane_of(key, 2) for key in KEYS] == [0, 1, 0]


def test_a_chunk_is_delivered_at_the_size_and_the_rest_at_the_end() -> None:
    sink = Sink()
    process_in_chunks(event("a", "junk", "b", "c", "d", "e"), prepare, sink, logger, chunk_size=2)
    assert sink.chunks == [["a", "b"], ["c", "d"], ["e"]]


def test_a_record_that_fails_to_prepare_delivers_what_came_before_and_stops() -> None:
    sink = Sink()
    outcome = process_in_chunks(event("a", "b", "bad", "c"), prepare, sink, logger, chunk_size=10)
    assert sink.chunks == [["a", "b"]]
    assert reported(outcome) == ["002", "003"]


def test_any_other_error_from_deliver_counts_as_nothing_taken() -> None:
    def down(items: list[str]) -> None:
        raise ConnectionError("sink down")

    outcome = process_in_chunks(event("a", "junk", "b"), prepare, down, logger, chunk_size=10)
    assert reported(outcome) == ["000", "001", "002"]
    assert outcome.rejected == []  # junk after the failure is reported with the rest


def test_a_chunk_size_below_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        process_in_chunks(event("a"), prepare, Sink(), logger, chunk_size=0)
