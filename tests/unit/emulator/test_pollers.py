"""Poller behaviour with an in-memory shard and a fake invoker (no moto, no worker processes)."""

from __future__ import annotations

import base64
import threading
import time
from typing import Any


from emulator.lambda_service.mappings import DEFAULTS, Mapping, MappingStateName, SourceType
from emulator.moto_adapter import StoredKinesisRecord
from emulator.change_signal import ChangeSignal
from emulator.pollers import PollerDeps, ShardPoller
from emulator.runner import StreamMappingRunner
from emulator.sources import SourceRecord
from emulator.workers import Outcome, error_payload
from tests.waiting import wait_until

STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/unit"
SHARD = "shardId-000000000000"


def _mapping(starting_position: str = "TRIM_HORIZON", **params: Any) -> Mapping:
    return Mapping(
        uuid="00000000-0000-4000-8000-000000000001", event_source_arn=STREAM_ARN, source_type=SourceType.KINESIS,
        function_name="fn", function_arn="arn:aws:lambda:us-east-1:000000000000:function:fn",
        starting_position=starting_position, starting_position_timestamp=None,
        params={**DEFAULTS, **params}, enabled=True, region="us-east-1", account_id="000000000000",
    )


class FakeShard:
    """A Kinesis shard in memory; ``bounds_gate`` can hold the start-position read (a busy moto lock)."""

    def __init__(self) -> None:
        self.records: list[StoredKinesisRecord] = []
        self.bounds_gate = threading.Event()
        self.bounds_gate.set()
        self.gate_timeout = 0.5

    def append(self, text: str) -> None:
        self.records.append(StoredKinesisRecord(len(self.records) + 1, "key", base64.b64encode(text.encode()).decode(), time.time()))

    # --- the MotoAdapter methods a Kinesis mapping uses ---
    def kinesis_shard_ids(self, arn: str) -> list[str]:
        return [SHARD]

    def kinesis_bounds(self, arn: str, shard_id: str) -> tuple[int, int]:
        self.bounds_gate.wait(self.gate_timeout)
        return 1, len(self.records) + 1

    def kinesis_parents(self, arn: str, shard_id: str) -> list[str]:
        return []

    def read_kinesis(self, arn: str, shard_id: str, from_seq: int, limit: int) -> list[StoredKinesisRecord]:
        return [r for r in self.records if r.sequence_number >= from_seq][:limit]


class FakeSource:
    """A ShardSource over a fixed list of records."""

    shard_id = SHARD

    def __init__(self, count: int, ages: list[float] | None = None) -> None:
        ages = ages or [0.0] * count
        self.records = [SourceRecord(seq, {"kinesis": {"sequenceNumber": str(seq)}}, 10, time.time() - ages[seq - 1])
                        for seq in range(1, count + 1)]

    def start_position(self, starting_position: str, timestamp: float | None) -> int:
        return 1

    def read(self, from_seq: int, limit: int) -> list[SourceRecord]:
        return [r for r in self.records if r.sequence >= from_seq][:limit]

    def parents(self) -> list[str]:
        return []

    def batch_info_key(self) -> str:
        return "KinesisBatchInfo"


def _deps(adapter: Any, signal: ChangeSignal, invoke: Any, min_poll_interval: float = 0.0) -> PollerDeps:
    return PollerDeps(adapter=adapter, signal=signal, invoke=invoke, destinations=None,  # type: ignore[arg-type]
                      role_of=lambda name: "arn:aws:iam::000000000000:role/r", min_poll_interval=min_poll_interval)


def test_latest_position_is_fixed_before_the_mapping_reports_enabled() -> None:
    # GIVEN a LATEST mapping whose start-position read is slow (the moto lock is busy elsewhere)
    shard = FakeShard()
    shard.bounds_gate.clear()
    received: list[dict[str, Any]] = []
    signal = ChangeSignal()
    mapping = _mapping("LATEST")
    runner = StreamMappingRunner(mapping, _deps(shard, signal, lambda name, event: received.extend(event["Records"]) or Outcome(b"null")))
    runner.start()
    try:
        # WHEN a record is written as soon as the mapping says Enabled
        wait_until(lambda: mapping.state is MappingStateName.ENABLED, timeout=5, what="Enabled")
        shard.append("written after Enabled")
        shard.bounds_gate.set()
        signal.notify()
        # THEN it is delivered: "LATEST" was resolved before Enabled was reported
        wait_until(lambda: received, timeout=3, what="the record written after Enabled")
        assert [base64.b64decode(r["kinesis"]["data"]) for r in received] == [b"written after Enabled"]
    finally:
        runner.stop()
        runner.join()


def test_disabling_a_mapping_stops_the_retries_of_a_failing_batch_without_checkpointing_it() -> None:
    # GIVEN a failing function and a mapping that retries forever
    mapping = _mapping(MaximumRetryAttempts=-1)
    calls: list[int] = []

    def invoke(name: str, event: dict[str, Any]) -> Outcome:
        calls.append(len(event["Records"]))
        if len(calls) == 2:
            mapping.enabled = False  # the user disables the mapping while the batch is being retried
        return Outcome(error_payload("Boom", "failing"), function_error="Unhandled")

    source, stop = FakeSource(3), threading.Event()
    poller = ShardPoller(mapping, source, _deps(None, ChangeSignal(), invoke), stop)  # type: ignore[arg-type]
    mapping.checkpoints[SHARD] = 1

    # WHEN the poller processes the batch
    worker = threading.Thread(target=poller._process, args=(source.read(1, 10),), daemon=True)
    worker.start()
    worker.join(timeout=3)
    still_retrying = worker.is_alive()
    stop.set()
    worker.join(timeout=5)

    # THEN it gives up the batch for now (no further invocations) and keeps its checkpoint,
    # so the batch is read again when the mapping is re-enabled
    assert not still_retrying, f"a disabled mapping kept invoking its function ({len(calls)} invocations)"
    assert calls == [3, 3]
    assert mapping.checkpoints[SHARD] == 1



def test_records_older_than_the_maximum_record_age_are_never_sent_to_the_function() -> None:
    # AWS API reference, MaximumRecordAgeInSeconds: "Discard records older than the specified age."
    mapping = _mapping(MaximumRecordAgeInSeconds=60)
    sent: list[list[str]] = []
    source, stop = FakeSource(3, ages=[600.0, 300.0, 1.0]), threading.Event()

    def invoke(name: str, event: dict[str, Any]) -> Outcome:
        sent.append([r["kinesis"]["sequenceNumber"] for r in event["Records"]])
        return Outcome(b"null")

    poller = ShardPoller(mapping, source, _deps(None, ChangeSignal(), invoke), stop)  # type: ignore[arg-type]
    mapping.checkpoints[SHARD] = 1
    poller._process(source.read(1, 10))
    assert sent == [["3"]]
    assert mapping.checkpoints[SHARD] == 4


class FlakyDestination:
    """Refuses the first ``failures`` sends (the endpoint is down), then stores them."""

    def __init__(self, failures: int) -> None:
        self.failures, self.sent = failures, []

    def send(self, target: str, document: dict[str, Any]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("nothing answers")
        self.sent.append(document)


def test_a_discarded_batch_is_skipped_only_once_its_failure_record_is_stored(monkeypatch) -> None:
    """Regression (make chaos, endpoint-kill): a failed send used to checkpoint past the batch."""
    monkeypatch.setattr("emulator.pollers.DESTINATION_RETRY_SECONDS", 0.01)
    mapping = _mapping(MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:q"}})
    source, stop = FakeSource(2), threading.Event()
    destination = FlakyDestination(failures=3)
    deps = _deps(None, ChangeSignal(), lambda name, event: Outcome(error_payload("Boom", "x"), function_error="Unhandled"))
    deps.destinations = destination  # type: ignore[assignment]
    poller = ShardPoller(mapping, source, deps, stop)  # type: ignore[arg-type]
    mapping.checkpoints[SHARD] = 1
    poller._process(source.read(1, 10))
    assert len(destination.sent) == 1 and destination.failures == 0
    assert mapping.checkpoints[SHARD] == 3


def test_a_stopped_poller_keeps_the_checkpoint_of_a_batch_whose_failure_record_was_not_stored() -> None:
    mapping = _mapping(MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:q"}})
    source, stop = FakeSource(2), threading.Event()
    deps = _deps(None, ChangeSignal(), lambda name, event: Outcome(error_payload("Boom", "x"), function_error="Unhandled"))
    destination = FlakyDestination(failures=10**6)
    deps.destinations = destination  # type: ignore[assignment]
    poller = ShardPoller(mapping, source, deps, stop)  # type: ignore[arg-type]
    mapping.checkpoints[SHARD] = 1
    worker = threading.Thread(target=poller._process, args=(source.read(1, 10),), daemon=True)
    worker.start()
    wait_until(lambda: destination.failures < 10**6, timeout=5, what="the failure record refused once")
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert mapping.checkpoints[SHARD] == 1


class _TimedShard(FakeShard):
    """A FakeShard that notes when each read returned records."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[tuple[float, int]] = []

    def read_kinesis(self, arn: str, shard_id: str, from_seq: int, limit: int) -> list[StoredKinesisRecord]:
        found = super().read_kinesis(arn, shard_id, from_seq, limit)
        if found:
            self.reads.append((time.monotonic(), len(found)))
        return found


def _run_paced(interval: float, batch_size: int, records: int) -> tuple[_TimedShard, list[int]]:
    """A poller over a shard holding ``records``, writing one more at each invocation; returns the reads and batch sizes."""
    shard, signal, batches = _TimedShard(), ChangeSignal(), []
    for n in range(records):
        shard.append(f"r{n}")

    def invoke(name: str, event: dict[str, Any]) -> Outcome:
        batches.append(len(event["Records"]))
        if sum(batches) < records + 3:  # a steady writer: one more record lands while the function runs
            shard.append("more")
            signal.notify()
        return Outcome(b"null")

    runner = StreamMappingRunner(_mapping(BatchSize=batch_size), _deps(shard, signal, invoke, interval))
    runner.start()
    try:
        wait_until(lambda: sum(batches) >= records + 3, timeout=5, what="every record delivered")
    finally:
        runner.stop()
        runner.join()
    return shard, batches


def test_after_a_batch_the_next_read_waits_for_the_minimum_poll_interval() -> None:
    # GIVEN a shard written to while its function runs, and a 300-ms minimum poll interval
    shard, batches = _run_paced(interval=0.3, batch_size=100, records=1)
    # THEN reads after a batch are at least the interval apart (fewer, larger batches under load)
    gaps = [later - earlier for (earlier, _), (later, _) in zip(shard.reads, shard.reads[1:])]
    assert gaps and min(gaps) >= 0.29, gaps
    assert sum(batches) == 4


def test_without_a_minimum_poll_interval_a_landed_record_is_read_at_once() -> None:
    shard, batches = _run_paced(interval=0.0, batch_size=100, records=1)
    gaps = [later - earlier for (earlier, _), (later, _) in zip(shard.reads, shard.reads[1:])]
    assert gaps and max(gaps) < 0.25, gaps  # the same run, no pause: each record is read as it lands
    assert batches == [1, 1, 1, 1]


def test_a_full_batch_is_followed_by_the_next_read_at_once_whatever_the_interval() -> None:
    # GIVEN a backlog of several full batches and a long minimum poll interval
    shard, batches = _run_paced(interval=2.0, batch_size=5, records=15)
    # THEN the full batches are read back to back: a backlog is never paced
    full = [at for at, found in shard.reads if found == 5]
    assert len(full) == 3 and full[-1] - full[0] < 1.0, shard.reads
