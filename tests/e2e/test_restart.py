"""GIVEN `sandbox up` delivering a producer run, WHEN it is SIGKILLed (or SIGTERMed) mid-pipeline and
started again, THEN it says it restored the saved state and `sandbox verify` reconciles the run."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from .restart_run import run_with_kills


@pytest.mark.slow
@pytest.mark.parametrize(
    "signals",
    [pytest.param((signal.SIGKILL, signal.SIGKILL), id="sigkill-twice"), pytest.param((signal.SIGTERM,), id="sigterm")],
)
def test_a_run_spanning_restarts_reconciles(tmp_path: Path, signals: tuple[int, ...]) -> None:
    outcome = run_with_kills(tmp_path / "state", clicks=600, signals=signals, verify_wait_s=120, sink_latency_ms=60)
    assert outcome.state_lines[0].startswith("state: none saved yet, starting fresh")
    assert all("restored the saved state from" in line for line in outcome.state_lines[1:]), outcome.state_lines
    assert outcome.verify_rc == 0, outcome.verify_output
    assert "every click reached every sink exactly once" in outcome.verify_output
