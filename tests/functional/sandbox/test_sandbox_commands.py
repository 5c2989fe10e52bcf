"""Every `sandbox` command against a running pipeline on the emulator (typer's CliRunner)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from bootstrap.clients import client
from bootstrap.settings import Settings
from producer import manifest as manifests
from sandbox import state
from sandbox.cli import app
from sandbox.commands import verify as verify_command
from sandbox.reconcile import SinkEvent
from sandbox.sinkwatch import SinkWatch

from .conftest import Pipeline

runner = CliRunner()


def test_status_shows_every_stage(pipeline: Pipeline) -> None:
    result = runner.invoke(app, ["status"], env=pipeline.env)
    assert result.exit_code == 0, result.output
    expected = str(pipeline.run.expected_stream_records)
    for label in ("consumer B deliveries", "archived records", "Kinesis records", "failed batches", "p95"):
        assert label in result.stdout
    assert result.stdout.count(f" {expected} ") >= 4  # produced, Kinesis and the three sinks


def test_status_watch_refreshes_until_ctrl_c(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("sandbox.commands.status.time.sleep", sleep)
    result = runner.invoke(app, ["status", "--watch", "--interval", "0.5"], env=pipeline.env)
    assert result.exit_code == 0, result.output
    assert len(sleeps) == 2 and all(s <= 0.5 for s in sleeps)


def test_verify_reconciles_the_run(pipeline: Pipeline) -> None:
    result = runner.invoke(app, ["verify", pipeline.run.run_id], env=pipeline.env)
    assert result.exit_code == 0, result.output
    assert "every click reached every sink exactly once" in result.stdout


def test_verify_names_missing_clicks(pipeline: Pipeline) -> None:
    broken = manifests.load(pipeline.settings, pipeline.run.run_id)
    broken.run_id = f"{pipeline.run.run_id}-tampered"
    broken.clicks.append("00000000-0000-4000-8000-000000000000")  # never written
    manifests.save(pipeline.settings, pipeline.topology.data_lake_bucket, broken)
    result = runner.invoke(app, ["verify", broken.run_id], env=pipeline.env)
    assert result.exit_code == 1
    assert result.stderr.count("missing 00000000-0000-4000-8000-000000000000") == 3  # in every sink
    assert "NOT reconciled" in result.stdout


def test_verify_wait_keeps_its_readers_between_checks(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a run that never reconciles (a click that was never written)
    broken = manifests.load(pipeline.settings, pipeline.run.run_id)
    broken.run_id = f"{pipeline.run.run_id}-waited"
    broken.clicks.append("00000000-0000-4000-8000-000000000001")
    manifests.save(pipeline.settings, pipeline.topology.data_lake_bucket, broken)
    watches: list[CountingWatch] = []

    class CountingWatch(SinkWatch):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.polls = 0
            watches.append(self)

        def poll(self) -> dict[str, list[SinkEvent]]:
            self.polls += 1
            return super().poll()

    clock = [0.0]
    monkeypatch.setattr(verify_command, "SinkWatch", CountingWatch)
    monkeypatch.setattr(verify_command, "time", SimpleNamespace(monotonic=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s)))
    # WHEN verify waits 3 s THEN it re-checks each second with the same readers, then once afresh
    result = runner.invoke(app, ["verify", broken.run_id, "--wait", "3"], env=pipeline.env)
    assert result.exit_code == 1 and "NOT reconciled" in result.stdout
    loop, final = watches
    assert loop.polls == 4 and final.polls == 1
    assert loop.objects_read == final.objects_read > 0  # every object read once, however many checks


def test_verify_unknown_run(pipeline: Pipeline) -> None:
    result = runner.invoke(app, ["verify", "no-such-run"], env=pipeline.env)
    assert result.exit_code == 1 and "no manifest for run no-such-run" in result.stderr


def test_produce_then_verify_latest(pipeline: Pipeline) -> None:
    produced = runner.invoke(app, ["produce", "--count", "5", "--seed", "3", "--run-id", "zz-sandbox-cli"], env=pipeline.env)
    assert produced.exit_code == 0, produced.output
    result = runner.invoke(app, ["verify", "--wait", "30"], env=pipeline.env)  # the latest run: this one
    assert result.exit_code == 0, result.output
    assert "run zz-sandbox-cli" in result.stdout


def test_logs_of_one_function(pipeline: Pipeline) -> None:
    result = runner.invoke(app, ["logs", "archive"], env=pipeline.env)
    assert result.exit_code == 0, result.output
    assert "archive" in result.stdout and "REPORT RequestId" in result.stdout
    full_name = runner.invoke(app, ["logs", f"{pipeline.settings.prefix}-http", "--since", "3600"], env=pipeline.env)
    assert full_name.exit_code == 0 and "http" in full_name.stdout


def test_logs_follow_until_ctrl_c(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("sandbox.commands.logs.time.sleep", sleep)
    result = runner.invoke(app, ["logs", "--follow"], env=pipeline.env)
    assert result.exit_code == 0, result.output
    assert len(calls) == 2


def test_logs_of_an_unknown_function(pipeline: Pipeline) -> None:
    result = runner.invoke(app, ["logs", "archiver"], env=pipeline.env)
    assert result.exit_code == 2 and result.stderr.startswith("error: no function 'archiver'")


def test_bootstrap_plan_and_apply_change_nothing(pipeline: Pipeline) -> None:
    plan = runner.invoke(app, ["bootstrap", "plan"], env=pipeline.env)
    assert plan.exit_code == 0, plan.output
    assert "0 changes" in plan.stdout
    apply = runner.invoke(app, ["bootstrap", "apply"], env=pipeline.env)
    assert apply.exit_code == 0 and "already up to date" in apply.stdout


def test_env_drives_the_aws_cli(pipeline: Pipeline, tmp_path: Path) -> None:
    """README: eval "$(sandbox env)" then the AWS CLI talks to the running sandbox."""
    settings = Settings(state_dir=str(tmp_path))
    state.write(settings, state.StackInfo(os.getpid(), "embedded", pipeline.settings.endpoint_url or "", pipeline.sink.url, time.time()))
    bin_dir = Path(sys.executable).parent
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environ.update(SANDBOX_STATE_DIR=str(tmp_path), PATH=f"{bin_dir}{os.pathsep}{environ.get('PATH', '')}")
    table = f"{pipeline.settings.prefix}-events"
    done = subprocess.run(
        ["bash", "-c", f'eval "$(sandbox env)" && aws dynamodb describe-table --table-name {table} '
         "--query Table.TableStatus --output text"],
        env=environ, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ACTIVE"
    # AND the sink comes along: a shell without the state dir still finds it
    code = "from sandbox import target; print(target.load().http_sink_url)"
    found = subprocess.run(
        ["bash", "-c", f'eval "$(sandbox env)" && SANDBOX_STATE_DIR={tmp_path}/none {sys.executable} -c "{code}"'],
        env=environ, capture_output=True, text=True, timeout=60,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == pipeline.sink.url


def test_status_of_an_endpoint_without_the_pipeline(pipeline: Pipeline) -> None:
    result = runner.invoke(app, ["status"], env={**pipeline.env, "SANDBOX_PREFIX": "nothing-here"})
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "sandbox bootstrap apply" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- the HTTP sink down: one line with where it should be and how to start it -------------------
def test_verify_with_the_sink_down_is_one_line_with_the_fix(pipeline: Pipeline) -> None:
    env = {**pipeline.env, "SANDBOX_HTTP_SINK_URL": "http://127.0.0.1:9/deliveries"}
    result = runner.invoke(app, ["verify", pipeline.run.run_id], env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: the HTTP sink does not answer at http://127.0.0.1:9 (")
    assert "python -m sandbox.httpsink --port 9" in line and "SANDBOX_HTTP_SINK_URL" in line


def test_status_with_the_sink_down_still_shows_the_rest(pipeline: Pipeline) -> None:
    env = {**pipeline.env, "SANDBOX_HTTP_SINK_URL": "http://127.0.0.1:9/deliveries"}
    result = runner.invoke(app, ["status"], env=env)
    assert result.exit_code == 0, result.output
    assert "the HTTP sink does not answer at http://127.0.0.1:9" in result.stdout


# --- a running run: partial, never "exactly once" --------------------------------------------------
def _store_running_header(pipeline: Pipeline, run_id: str) -> None:
    """The header of a run that is still producing: counts for every write, no id part yet."""
    done = manifests.load(pipeline.settings, pipeline.run.run_id)
    header = done.header(parts=0)
    header.run_id, header.status, header.finished_at = run_id, "running", None
    s3 = client("s3", pipeline.settings)
    s3.put_object(Bucket=pipeline.topology.data_lake_bucket, Key=manifests.manifest_key(run_id), Body=header.to_json().encode())


def test_verify_of_a_running_run_is_partial(pipeline: Pipeline) -> None:
    run_id = f"{pipeline.run.run_id}-running"
    _store_running_header(pipeline, run_id)
    result = runner.invoke(app, ["verify", run_id], env=pipeline.env)
    assert result.exit_code == verify_command.EXIT_PARTIAL, result.output
    assert f"partial: 0 of {pipeline.run.written} ids in the manifest so far" in result.stdout
    assert "exactly once" not in result.stdout and "NOT reconciled" not in result.stdout
    assert f" {pipeline.run.expected_stream_records} " in result.stdout  # expected: the header's count


def test_verify_wait_waits_for_a_running_run_to_end(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a run still running, whose ids reach the manifest only when it ends (after the first check)
    run_id = f"{pipeline.run.run_id}-ends"
    _store_running_header(pipeline, run_id)
    finished = manifests.load(pipeline.settings, pipeline.run.run_id)
    finished.run_id = run_id
    clock, sleeps = [0.0], []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds
        if len(sleeps) == 2:
            manifests.save(pipeline.settings, pipeline.topology.data_lake_bucket, finished)  # the run ends

    monkeypatch.setattr(verify_command, "time", SimpleNamespace(monotonic=lambda: clock[0], sleep=sleep))
    # WHEN verify waits THEN it does not return at once: it re-checks until the run has ended and reconciles
    result = runner.invoke(app, ["verify", run_id, "--wait", "30"], env=pipeline.env)
    assert result.exit_code == 0, result.output
    assert len(sleeps) == 2 and "every click reached every sink exactly once" in result.stdout


def test_verify_lists_a_runs_clicks(pipeline: Pipeline) -> None:
    result = runner.invoke(app, ["verify", pipeline.run.run_id, "--list"], env=pipeline.env)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == manifests.load(pipeline.settings, pipeline.run.run_id).clicks


def test_verify_flags_events_of_the_run_its_manifest_does_not_list(pipeline: Pipeline) -> None:
    """A reused run id: the later run's manifest replaced the earlier one's, whose rows remain."""
    run_id = f"reused-{pipeline.run.run_id[-6:]}"
    produced = runner.invoke(app, ["produce", "--count", "3", "--run-id", run_id], env=pipeline.env)
    assert produced.exit_code == 0, produced.output
    assert runner.invoke(app, ["verify", run_id, "--wait", "30"], env=pipeline.env).exit_code == 0
    overwritten = manifests.load(pipeline.settings, run_id)
    overwritten.clicks = overwritten.clicks[:1]
    manifests.save(pipeline.settings, pipeline.topology.data_lake_bucket, overwritten)
    result = runner.invoke(app, ["verify", run_id], env=pipeline.env)
    assert result.exit_code == 1 and "NOT reconciled" in result.stdout
    assert result.stderr.count(f"2 clicks of run {run_id} its manifest does not list") == 3  # every sink
    assert "was the run id reused" in result.stderr


# --- status: one shot, piped watch ----------------------------------------------------------------
def test_one_shot_status_has_no_ctrl_c_hint(pipeline: Pipeline) -> None:
    result = runner.invoke(app, ["status"], env=pipeline.env)
    assert result.exit_code == 0 and "Ctrl-C" not in result.output
    assert "endpoint http://127.0.0.1" in result.stderr and "AWS_ENDPOINT_URL" in result.stderr


def test_status_watch_piped_prints_one_plain_line_per_refresh(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    ticks: list[float] = []

    def sleep(seconds: float) -> None:
        ticks.append(seconds)
        if len(ticks) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr("sandbox.commands.status.time.sleep", sleep)
    result = runner.invoke(app, ["status", "--watch"], env=pipeline.env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and all("produced=" in line and " B=" in line for line in lines)
    assert "pipeline" not in result.stdout  # no view redrawn into a pipe
