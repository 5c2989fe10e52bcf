"""The producer's Python API: ``produce(settings, options) -> ProduceSummary``.

Used by ``python -m producer``, ``sandbox produce``/``sandbox up`` and tests.
It checks the target first (one clear error if the sandbox is down or not
bootstrapped), writes the manifest as "running", paces and writes the plan's
operations, then stores the final manifest. A ``stop`` event ends the run early
but cleanly: buffered writes are flushed and the manifest says "interrupted".
Anything else that ends the run (a failed write, a second Ctrl-C) stores the
manifest as "aborted" on the way out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import InvalidRegionError

from bootstrap.clients import client
from bootstrap.settings import DEFAULT_ENDPOINT, DEFAULT_REGION, ENV_ENDPOINT, ENV_REGION, Settings
from producer.errors import OptionsError, ProducerError, translate
from producer.events import ClickGenerator
from producer.manifest import FailedOp, ManifestHeader, ManifestWriter, require_new_run
from producer.options import ProduceOptions
from producer.pacer import TokenBucket
from producer.plan import OperationPlan, OpKind, expected_ops
from producer.target import PREFLIGHT_TIMEOUT, Target, preflight, resolve_topology
from producer.unsaved import Unsaved
from producer.writer import ClickWriter, FatalWriteError, WriteResult

#: Least time between two progress callbacks.
PROGRESS_INTERVAL = 0.25
#: A long run re-saves its manifest header this often, so `sandbox status` sees it grow
#: (the ids themselves go to a new part about once a minute: producer.manifest).
CHECKPOINT_INTERVAL = 5.0
#: botocore's message for an endpoint URL it cannot use (a plain ValueError).
_INVALID_ENDPOINT = "Invalid endpoint"


@dataclass(frozen=True)
class ProgressUpdate:
    """Where a run stands: ``total_ops`` is set for --count runs, ``duration_s`` for --duration."""

    done_ops: int
    total_ops: int | None
    duration_s: float | None
    written: int
    updated: int
    deleted: int
    failed: int
    elapsed_s: float
    rate: float


@dataclass(frozen=True)
class ProduceSummary:
    """The outcome of a run (``written`` = clicks put; ``rate`` = achieved writes/s)."""

    run_id: str
    seed: int
    table: str
    status: str  # complete | interrupted
    written: int
    updated: int
    deleted: int
    failed: int
    skipped: int  # follow-ups of clicks whose put failed
    elapsed_s: float
    rate: float
    target_rate: float
    write_mode: str
    requests: int
    retries: int
    expected_stream_records: int
    manifest_uri: str
    actions: dict[str, int]  # clicks put per action

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


ProgressCallback = Callable[[ProgressUpdate], None]


class _Tally:
    """Collects write outcomes into the manifest writer and counters."""

    def __init__(self, manifest: ManifestWriter) -> None:
        self.manifest = manifest
        self.failed_puts: set[str] = set()
        self.skipped = 0

    def record(self, result: WriteResult) -> None:
        uuid, kind = result.op.click.uuid, result.op.kind
        if result.ok:
            target = {OpKind.PUT: "clicks", OpKind.UPDATE: "updated"}
            action = result.op.click.action if kind is OpKind.PUT else None
            self.manifest.add(target.get(kind, "deleted"), uuid, action=action)
            return
        self.manifest.add_failed(FailedOp(uuid=uuid, op=str(kind), error=result.error))
        if kind is OpKind.PUT:
            self.failed_puts.add(uuid)

    @property
    def done(self) -> int:
        counts = self.manifest.counts
        return counts.expected_stream_records + counts.failed


def produce(
    settings: Settings,
    options: ProduceOptions,
    *,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> ProduceSummary:
    """Run the producer. Raises OptionsError, SettingsError or ProducerError (one-line messages).

    ``progress`` is called at most every PROGRESS_INTERVAL seconds and once at the end;
    setting ``stop`` ends the run early (status "interrupted"), pending follow-ups dropped.
    """
    options = options.validated()
    settings.require_target()
    # One client per service for the whole run. DynamoDB: no botocore retries (writer.py
    # retries what is safe) and a short connect timeout, so a dead endpoint fails fast.
    try:
        sts = client("sts", settings, max_attempts=1, timeout=PREFLIGHT_TIMEOUT)
        ddb = client("dynamodb", settings, max_attempts=1, timeout=PREFLIGHT_TIMEOUT)
        s3 = client("s3", settings, timeout=PREFLIGHT_TIMEOUT)
    except InvalidRegionError as error:  # a ValueError too: checked first
        region = error.kwargs.get("region_name", settings.region)
        raise OptionsError(
            f"{ENV_REGION}={region!r} is not a region botocore accepts", f"use a region like {DEFAULT_REGION}"
        ) from None
    except ValueError as error:
        if not str(error).startswith(_INVALID_ENDPOINT):  # botocore: "Invalid endpoint: localhost:4566"
            raise
        raise OptionsError(f"{ENV_ENDPOINT}: {error}", f"use a URL like {DEFAULT_ENDPOINT}") from None
    target = preflight(settings, resolve_topology(settings, sts=sts), ddb=ddb, s3=s3)
    assert options.run_id is not None  # set by validated()
    require_new_run(settings, target.bucket, options.run_id, s3=s3)  # never overwrite a run
    return _Run(settings, options, target, ddb, s3, progress, stop or threading.Event()).execute()


class _Run:
    """One run's moving parts; ``execute()`` once."""

    def __init__(
        self,
        settings: Settings,
        options: ProduceOptions,
        target: Target,
        ddb: Any,
        s3: Any,
        progress: ProgressCallback | None,
        stop: threading.Event,
    ) -> None:
        assert options.seed is not None and options.run_id is not None  # set by validated()
        self.settings, self.options, self.target = settings, options, target
        self.progress, self.stop = progress, stop
        header = ManifestHeader(
            run_id=options.run_id,
            table=target.table,
            seed=options.seed,
            started_at=_now_ms(),
            options=options.as_dict(),
        )
        self.manifest = ManifestWriter(settings, target.bucket, header, s3=s3, new_run=True)
        self.tally = _Tally(self.manifest)
        self.writer = ClickWriter(
            client=ddb,
            table=target.table,
            table_key=target.table_key,
            ttl_attribute=target.ttl_attribute,
            run_id=options.run_id,
            ttl_seconds=options.ttl_seconds,
            on_result=self.tally.record,
            batch_size=options.batch_size,
        )
        self.plan = OperationPlan(
            ClickGenerator(seed=options.seed, run_id=options.run_id, users=options.users),
            update_ratio=options.update_ratio,
            delete_ratio=options.delete_ratio,
            seed=options.seed,
        )
        self.total_ops = (
            expected_ops(options.count, options.update_ratio, options.delete_ratio)
            if options.count is not None
            else None
        )
        self.interrupted = False
        self.started = self.last_report = self.last_checkpoint = 0.0

    def execute(self) -> ProduceSummary:
        uri = self._save()
        # Created now, not earlier: tokens must not pile up during the setup calls.
        # stop.wait as its sleep: a stop request cuts a pacing pause short.
        self.pacer = TokenBucket(
            self.options.rate, burst=self.options.batch_size, sleep=self.stop.wait
        )
        self.started = self.last_checkpoint = time.monotonic()
        try:
            self._write_all()
        except FatalWriteError as error:
            saved = self._save_quietly("aborted")
            mapped = translate(error.cause, self.settings, table=self.target.table) or error
            raise self._name_unknown(mapped, error, saved) from error.cause
        except BaseException:  # a second Ctrl-C (KeyboardInterrupt), SystemExit, a bug: never "running" forever
            self._save_quietly("aborted")
            raise
        elapsed = time.monotonic() - self.started
        self._report(force=True)
        header, counts = self.manifest.header, self.manifest.counts
        header.status = "interrupted" if self.interrupted else "complete"
        header.finished_at = _now_ms()
        self._save(final=True)
        batch = self.options.batch_size
        return ProduceSummary(
            run_id=header.run_id,
            seed=header.seed,
            table=header.table,
            status=header.status,
            written=counts.clicks,
            updated=counts.updated,
            deleted=counts.deleted,
            failed=counts.failed,
            skipped=self.tally.skipped,
            elapsed_s=round(elapsed, 3),
            rate=round(counts.expected_stream_records / elapsed, 1) if elapsed > 0 else 0.0,
            target_rate=self.options.rate,
            write_mode="put_item" if batch == 1 else f"batch_write_item({batch})",
            requests=self.writer.stats.requests,
            retries=self.writer.stats.retries,
            expected_stream_records=counts.expected_stream_records,
            manifest_uri=uri,
            actions=dict(sorted(header.actions.items())),
        )

    def _write_all(self) -> None:
        for op in self.plan.ops(self._more_clicks):
            if self.stop.is_set():
                self.interrupted = True
                break
            if op.kind is not OpKind.PUT:
                if self.writer.is_buffered(op.click.uuid):
                    self.writer.flush()  # the put's outcome decides whether its follow-up runs
                if op.click.uuid in self.tally.failed_puts:
                    self.tally.skipped += 1
                    continue
            self.pacer.acquire()
            self.writer.submit(op)
            self._report()
            self._checkpoint()
        self.writer.flush()

    def _more_clicks(self, clicks: int) -> bool:
        if self.stop.is_set():
            self.interrupted = True
            return False
        if self.options.count is not None:
            return clicks < self.options.count
        return time.monotonic() - self.started < (self.options.duration or 0.0)

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.progress is None or (not force and now - self.last_report < PROGRESS_INTERVAL):
            return
        self.last_report = now
        elapsed, counts = now - self.started, self.manifest.counts
        self.progress(
            ProgressUpdate(
                done_ops=self.tally.done,
                total_ops=self.total_ops,
                duration_s=self.options.duration,
                written=counts.clicks,
                updated=counts.updated,
                deleted=counts.deleted,
                failed=counts.failed,
                elapsed_s=elapsed,
                rate=counts.expected_stream_records / elapsed if elapsed > 0 else 0.0,
            )
        )

    def _checkpoint(self) -> None:
        if time.monotonic() - self.last_checkpoint >= CHECKPOINT_INTERVAL:
            self._save()
            self.last_checkpoint = time.monotonic()

    def _save(self, *, final: bool = False) -> str:
        return self.manifest.save(final=final)

    def _save_quietly(self, status: str) -> bool:
        """Best effort on the way out of a failed run: the original error matters more."""
        try:
            self.manifest.header.status = status
            self.manifest.header.finished_at = _now_ms()
            self._save(final=True)
        except Exception:  # noqa: BLE001 - the error that ended the run is the one to report
            return False
        return True

    def _name_unknown(self, mapped: ProducerError, error: FatalWriteError, saved: bool) -> ProducerError:
        """The run's error, naming the writes whose outcome the stored manifest cannot tell."""
        unsaved = Unsaved.of(self.options.run_id or "", error.in_flight, error.maybe_applied,
                             {} if saved else self.manifest.unsaved())
        path: Path | None = None
        if unsaved.unknown or unsaved.not_written or not saved:
            try:
                path = unsaved.store(self.settings)
            except OSError:
                path = None
        detail = unsaved.summary(path, saved)
        kind = ProducerError if isinstance(mapped, FatalWriteError) else type(mapped)
        return kind(f"{mapped.message}; run {self.options.run_id} aborted: {detail}", mapped.fix)


def _now_ms() -> int:
    return int(time.time() * 1000)
