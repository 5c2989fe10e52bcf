"""The producer at a steady demo rate in a background thread, until told to stop.

``sandbox up`` runs it next to the live view; the count it reports is the number of
stream records its successful writes cause (puts + updates + deletes), the number
every sink must reach once the pipeline is drained.
"""

from __future__ import annotations

import threading

from bootstrap.settings import Settings
from producer.pacer import shortfall
from producer.options import ProduceOptions
from producer.run import ProduceSummary, ProgressUpdate, produce

DEFAULT_RATE = 5.0
#: A share of clicks is later modified and deleted, so MODIFY and REMOVE flow too.
DEMO_UPDATE_RATIO = 0.2
DEMO_DELETE_RATIO = 0.1
#: "Until stopped": the producer's longest allowed run.
UNTIL_STOPPED_S = 7 * 86_400.0


class DemoProducer:
    def __init__(self, settings: Settings, *, rate: float = DEFAULT_RATE, duration: float | None = None) -> None:
        self.options = ProduceOptions(
            duration=duration or UNTIL_STOPPED_S,
            rate=rate,
            update_ratio=DEMO_UPDATE_RATIO,
            delete_ratio=DEMO_DELETE_RATIO,
        ).validated()
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-producer", daemon=True)
        self._progress: ProgressUpdate | None = None
        self.summary: ProduceSummary | None = None
        self.error: BaseException | None = None

    @property
    def run_id(self) -> str:
        return str(self.options.run_id)

    @property
    def produced(self) -> int:
        """Stream records caused so far (exact once the run has ended)."""
        if self.summary is not None:
            return self.summary.expected_stream_records
        p = self._progress
        return 0 if p is None else p.written + p.updated + p.deleted

    @property
    def shortfall(self) -> str | None:
        """``below the asked rate: …`` while (or after) the run cannot reach its rate, else None."""
        if self.summary is not None:
            return shortfall(self.summary.rate, self.options.rate, self.summary.elapsed_s)
        p = self._progress
        return None if p is None else shortfall(p.rate, self.options.rate, p.elapsed_s)

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive() and (self.summary is not None or self.error is not None)

    def start(self) -> DemoProducer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the run to end (it flushes and stores its manifest) and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self.summary = produce(self._settings, self.options, progress=self._on_progress, stop=self._stop)
        except BaseException as error:  # noqa: BLE001 - reported by the caller's view
            self.error = error

    def _on_progress(self, update: ProgressUpdate) -> None:
        self._progress = update
