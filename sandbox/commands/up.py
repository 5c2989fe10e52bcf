"""`sandbox up`: the embedded backend in the foreground, with the producer and the live view.

Without ``--duration`` it runs until Ctrl-C/SIGTERM. With ``--duration S`` it
produces for S seconds, then waits until every sink holds exactly what was
produced (drain, with a deadline), prints a summary and exits 0 (1 if the
pipeline did not drain in time).
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bootstrap.settings import DEFAULT_ENDPOINT, Settings
from producer.pacer import shortfall
from sandbox import ports, state
from sandbox.collector import Collector
from sandbox.dashboard import DEFAULT_HOST as DASHBOARD_HOST
from sandbox.dashboard import ENV_DASHBOARD_PORT, start_server
from sandbox.dashboard_state import DashboardState
from sandbox.demo import DEFAULT_RATE, UNTIL_STOPPED_S, DemoProducer
from sandbox.display import Display
from sandbox.errors import AlreadyRunning, SandboxError, translate
from sandbox.output import console, note
from sandbox.saved_state import ENV_PERSIST
from sandbox.signals import stop_on_signals
from sandbox.stats import LATENCY_SINKS, SINK_STAGES, Snapshot, Stage

if TYPE_CHECKING:
    from sandbox.embedded import EmbeddedStack

REFRESH_S = 1.0
DEFAULT_DRAIN_TIMEOUT_S = 60.0


def up(
    rate: Annotated[float, typer.Option(min=0.1, max=1000.0, help="Producer writes per second.")] = DEFAULT_RATE,
    duration: Annotated[
        float | None,
        typer.Option(min=1.0, help="Produce for S seconds, drain, print a summary and exit (for scripts/CI)."),
    ] = None,
    live: Annotated[bool, typer.Option("--live/--no-live", help="Live view (else a status line every 5 s).")] = True,
    drain_timeout: Annotated[
        float, typer.Option(min=1.0, help="With --duration: seconds to wait for every sink to catch up.")
    ] = DEFAULT_DRAIN_TIMEOUT_S,
    dashboard: Annotated[bool, typer.Option("--dashboard/--no-dashboard", help="Serve the web dashboard too.")] = True,
    dashboard_port: Annotated[
        int, typer.Option(min=0, max=65535, envvar=ENV_DASHBOARD_PORT, help="The dashboard's port on 127.0.0.1 (0: a free one).")
    ] = 0,
    persist: Annotated[
        bool,
        typer.Option(
            "--persist/--no-persist",
            envvar=ENV_PERSIST,
            help="Keep the state (tables, streams, checkpoints, objects, queues, functions, the sink's deliveries) "
            "in the state dir and restore it on the next start; --no-persist: a throwaway run. `sandbox reset` removes it.",
        ),
    ] = True,
) -> None:
    """Run the embedded backend here: emulator, pipeline, HTTP sink and a producer (Ctrl-C stops).

    Without --duration the producer writes until Ctrl-C, for 7 days at most (the
    producer's longest run; the rest of the sandbox keeps running).
    """
    began = time.monotonic()
    settings = Settings.from_env()
    settings = settings.with_overrides(endpoint_url=settings.endpoint_url or DEFAULT_ENDPOINT)
    # Pin the state dir (found from the checkout's root, see sandbox.state) for the whole run.
    settings = settings.with_overrides(state_dir=str(state.state_dir(settings)))
    running = state.read(settings)
    if running is not None:
        raise AlreadyRunning(running.pid, running.endpoint_url)
    from sandbox.embedded import EmbeddedStack  # imports the emulator (moto): only when needed

    stack = EmbeddedStack(settings, progress=note, persist=persist)
    (host, port), (sink_host, sink_port) = stack.preflight()
    if dashboard and dashboard_port:
        ports.require_free(
            DASHBOARD_HOST, dashboard_port, "the dashboard", choose="--dashboard-port/SANDBOX_DASHBOARD_PORT (0: a free one)"
        )
    note("starting the embedded backend (the emulator in a child process; `make up BACKEND=docker` for LocalStack)")
    # The pidfile first: `make down` must be able to stop a stack that is still starting.
    state.write(
        settings,
        state.StackInfo(os.getpid(), "embedded", settings.endpoint_url or "", settings.http_sink_url, time.time()),
    )
    stopping_since: list[float] = []
    interrupted = False
    with stop_on_signals():
        try:
            with stack, ExitStack() as servers:
                try:
                    assert stack.topology is not None
                    # This process holds the sink's deliveries and the view's ids: short GC pauses.
                    from emulator.gc_tuning import GcTuner  # the emulator package imports moto: here only

                    tuner = GcTuner()
                    tuner.start()
                    servers.callback(tuner.stop)
                    board = DashboardState() if dashboard else None
                    web = ""
                    if board is not None:
                        server = start_server(stack.settings, stack.topology, board, host=DASHBOARD_HOST, port=dashboard_port)
                        servers.callback(server.stop)
                        web = f", dashboard {server.url}"
                    note(
                        f"[bold green]ready[/] in {time.monotonic() - began:.1f} s: endpoint "
                        f"{stack.settings.endpoint_url}, HTTP sink {stack.settings.http_sink_url}{web}. "
                        f"Other shell: {other_shell_hint()}"
                    )
                    Session(
                        stack, rate=rate, duration=duration, live=live, drain_timeout=drain_timeout, dashboard=board
                    ).run()
                finally:
                    stopping_since.append(time.monotonic())
                    note("stopping: producer, pollers, function workers, endpoint, HTTP sink…")
        except KeyboardInterrupt:
            interrupted = True  # how the endless mode ends: a clean stop, exit code 0
        finally:
            state.clear(settings, os.getpid())
            if stopping_since:
                freed = ports.wait_free(host, port, 2.0) and ports.wait_free(sink_host, sink_port, 2.0)
                where = f"ports {port} and {sink_port} are free" if freed else f"port {port} or {sink_port} still taken"
                note(f"stopped in {time.monotonic() - stopping_since[0]:.1f} s; {where}")
    if interrupted and duration is not None:
        raise typer.Exit(130)  # a --duration run cut short has no summary: scripts must notice


def other_shell_hint() -> str:
    """What a second shell types to reach this sandbox (the venv first: `sandbox` lives there)."""
    commands = 'eval "$(sandbox env)"; sandbox status; sandbox logs -f'
    if sys.prefix == sys.base_prefix:  # not in a virtualenv: `sandbox` is on the PATH already
        return commands
    venv = Path(sys.prefix)
    try:
        venv = venv.relative_to(Path.cwd())
    except ValueError:
        pass
    return f"source {venv}/bin/activate; {commands}"


class Session:
    """One `sandbox up` run on a started stack: produce, show, (drain, summarize)."""

    def __init__(
        self,
        stack: EmbeddedStack,
        *,
        rate: float,
        duration: float | None,
        live: bool,
        drain_timeout: float,
        dashboard: DashboardState | None = None,
    ) -> None:
        assert stack.topology is not None
        self.stack = stack
        self.dashboard = dashboard  # fed with every snapshot the view shows
        self.rate = rate
        self.duration = duration
        self.drain_timeout = drain_timeout
        self.display = Display(live=live)
        self.producer = DemoProducer(stack.settings, rate=rate, duration=duration)
        self.collector = Collector(
            stack.settings,
            stack.topology,
            live_runs=self._live_runs,
            own_run=self.producer.run_id,
            since_ms=int(time.time() * 1000),
            on_row=dashboard.add_row if dashboard is not None else None,
        )
        self._started = time.monotonic()

    def _live_runs(self) -> dict[str, int]:
        # Once the run has ended its final header counts (or, if the bucket went away, nothing).
        return {} if self.producer.finished else {self.producer.run_id: self.producer.produced}

    def producing_phase(self) -> str:
        """The header's word for the producer: it may have stopped while the view goes on."""
        if self.producer.error is not None:
            return "producer stopped (a write failed: see last errors)"
        if self.producer.finished:
            if self.duration is not None:
                return f"produced for {self.duration:g} s"
            return f"producer finished (a run lasts {UNTIL_STOPPED_S / 86_400:g} days at most)"
        short = self.producer.shortfall
        return f"producing {self.rate:g}/s" + (f" ({short})" if short else "")

    def header(self, phase: str) -> str:
        s = self.stack.settings
        return (
            f"embedded sandbox · {s.endpoint_url} · sink {s.http_sink_url} · {phase} · "
            f"{time.monotonic() - self._started:.0f} s · run {self.producer.run_id}"
        )

    def _show(self, snapshot: Snapshot, header: str, **options: Any) -> None:
        """Show a snapshot in the terminal and hand it to the dashboard (one poll, both views)."""
        if self.dashboard is not None:
            self.dashboard.observe(snapshot, header)
        self.display.show(snapshot, header, **options)

    def run(self) -> None:
        self.producer.start()
        try:
            with self.display:
                snapshot = self._produce()
                if self.duration is not None:
                    snapshot, drain_s = self._drain(snapshot)
        finally:
            self.producer.stop()
        if self.duration is not None:
            self._summarize(snapshot, drain_s)

    def _produce(self) -> Snapshot:
        """Refresh once a second while the producer runs (forever, unless --duration)."""
        reported_error = False
        while True:
            tick = time.monotonic()
            snapshot = self.collector.poll()
            if self.producer.error is not None and not reported_error:
                reported_error = True
                mapped = translate(self.producer.error)
                self.collector.add_error(f"producer: {mapped.message if mapped else self.producer.error}")
                snapshot.errors = list(self.collector.errors)
            phase = self.producing_phase()
            stopped = self.duration is None and self.producer.finished
            short = self.producer.shortfall
            remark = phase if stopped else (short or "")  # --no-live: the line says what the header would
            self._show(snapshot, self.header(phase), remark=remark)
            if self.duration is not None and self.producer.finished:
                if self.producer.error is not None:
                    raise self.producer.error
                return snapshot
            self.producer.wait(max(0.0, tick + REFRESH_S - time.monotonic()))  # returns early when it ends
            if self.producer.finished:  # (endless mode, producer failed) keep refreshing once a second
                time.sleep(max(0.0, tick + REFRESH_S - time.monotonic()))

    def _drain(self, snapshot: Snapshot) -> tuple[Snapshot, float]:
        """Wait until every sink holds exactly the produced records, or the deadline passes."""
        expected = self.producer.produced
        started = time.monotonic()
        deadline = started + self.drain_timeout
        while not snapshot.drained(expected):
            if time.monotonic() >= deadline:
                break
            time.sleep(max(0.0, REFRESH_S - snapshot.poll_seconds))
            snapshot = self.collector.poll(thorough=True)
            self._show(snapshot, self.header(f"draining ({expected} records)"), expected=expected)
        self._show(snapshot, self.header("done"), expected=expected, force_line=True)
        return snapshot, time.monotonic() - started

    def _summarize(self, snapshot: Snapshot, drain_s: float) -> None:
        expected = self.producer.produced
        summary = self.producer.summary
        mine = snapshot.sink_counts()  # this run's records per sink (other producers may write too)
        table = Table(title=f"sandbox up summary (run {self.producer.run_id})", title_justify="left")
        for column in ("stage", "count", "= produced", "p50", "p95"):
            table.add_column(column, justify="left" if column == "stage" else "right")
        table.add_row(Stage.PRODUCED.value, str(expected), "", "", "")
        for stage in (Stage.STREAM_RECORDS, Stage.KINESIS, *SINK_STAGES, Stage.FAILED_BATCHES):
            value = mine[stage] if stage in mine else snapshot.counts.get(stage)
            sink = next((name for name, s in LATENCY_SINKS.items() if s is stage), None)
            latency = snapshot.latency.get(sink) if sink else None
            table.add_row(
                stage.value,
                "—" if value is None else str(value),
                ("yes" if value == expected else "NO") if stage in SINK_STAGES else "",
                f"{latency.p50_ms:.0f} ms" if latency else "",
                f"{latency.p95_ms:.0f} ms" if latency else "",
            )
        out = console()
        out.print(table)
        if summary is not None:
            out.print(
                f"produced {summary.written} clicks, {summary.updated} updates, {summary.deleted} deletes "
                f"in {summary.elapsed_s:.1f} s ({summary.rate:g} writes/s"
                + (f"; {short}" if (short := shortfall(summary.rate, summary.target_rate, summary.elapsed_s)) else "")
                + f"); manifest {summary.manifest_uri}"
            )
        others = {s: (snapshot.counts.get(s) or 0) - (mine[s] or 0) for s in SINK_STAGES}
        if any(others.values()):
            note("the sinks also hold other runs' records (another producer wrote): "
                 + ", ".join(f"{s.value} +{n}" for s, n in others.items()) + "; only this run's are counted")
        drained = snapshot.drained(expected)
        counts = " ".join(f"{k}={mine[s]}" for k, s in (
            ("archived", Stage.ARCHIVED), ("analytics", Stage.ANALYTICS), ("http", Stage.HTTP)))
        typer.echo(f"summary: produced={expected} {counts} drained={'yes' if drained else 'no'} drain_s={drain_s:.1f}")
        if not drained:
            raise drain_failure(mine, expected, self.producer.run_id, self.drain_timeout)


def drain_failure(mine: dict[Stage, int | None], expected: int, run_id: str, timeout: float) -> SandboxError:
    """Why a drain failed: sinks behind (wait longer, look at the logs) or ahead (more than produced)."""
    off = ", ".join(f"{s.value} {mine.get(s)}/{expected}" for s in SINK_STAGES if mine.get(s) != expected)
    if any((mine.get(s) or 0) > expected for s in SINK_STAGES):
        return SandboxError(
            f"the sinks hold more than run {run_id} produced ({off}): another producer? "
            "(rows without a run_id, as from a KEYS_ONLY stream, count for every run)",
            f"check the run with `sandbox verify {run_id}`; a longer --drain-timeout will not help",
        )
    return SandboxError(
        f"the pipeline did not drain within {timeout:.0f} s ({off})",
        "look at `sandbox logs` and the failed-batches queue; raise --drain-timeout on a slow machine",
    )
