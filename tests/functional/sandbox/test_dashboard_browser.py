"""The dashboard in a real headless browser: Debian's chromium, driven by Playwright.

Playwright is given chromium's path (no `playwright install`: no browser is downloaded).
The page must load, show the counts `sandbox status` prints, draw charts with data and
trace a click. The run writes a screenshot: build/dashboard.png (ignored by git, so a test
run leaves the tree clean); `make screenshot` writes docs/dashboard.png, the one the README shows.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from producer.manifest import load
from sandbox.cli import app
from sandbox.dashboard import Poller, start_server
from sandbox.dashboard_app import DashboardServer
from sandbox.dashboard_state import DashboardState
from sandbox.stats import Stage
from tests.waiting import wait_until

from .conftest import SEEDED_CLICKS, Pipeline

CHROMIUM = "/usr/bin/chromium"
#: Where the screenshot goes: $SANDBOX_SCREENSHOT_DIR (docs/ for `make screenshot`), else build/.
SCREENSHOT_DIR = os.environ.get("SANDBOX_SCREENSHOT_DIR") or Path(__file__).resolve().parents[3] / "build"
SCREENSHOT = Path(SCREENSHOT_DIR) / "dashboard.png"
#: Rows of `sandbox status` (rich, unwrapped): "│<stage label> │ <count> │ <rate> │ <note>│".
_ROW = re.compile(r"^\W*(?P<label>[a-zA-Z][^│┃|]*?)\s*[│┃|]\s*(?P<count>[\d,—]+)\s*[│┃|]")


def _chromium() -> str:
    path = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if path is None:
        pytest.fail(
            "chromium is missing: the dashboard's browser test needs Debian's chromium "
            "(fix: apt-get install -y chromium; `make test` installs it as root)",
            pytrace=False,
        )
    return path


def status_counts(pipe: Pipeline) -> dict[str, str]:
    """Stage label -> count as `sandbox status` prints them."""
    result = CliRunner().invoke(app, ["status"], env={**pipe.env, "COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    labels = {stage.value for stage in Stage}
    counts = {}
    for line in result.stdout.splitlines():
        match = _ROW.match(line)
        if match and match["label"] in labels:
            counts[match["label"]] = match["count"]
    assert set(counts) == labels, result.stdout
    return counts


@pytest.fixture
def dashboard(seeded: Pipeline) -> Iterator[DashboardServer]:
    state = DashboardState(f"dashboard test · {seeded.settings.endpoint_url}")
    poller = Poller(seeded.settings, seeded.topology, state, interval=0.5).start()
    server = start_server(seeded.settings, seeded.topology, state, host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        server.stop()
        poller.stop()


@pytest.fixture
def page(dashboard: DashboardServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # a dev dependency: an ImportError is a real failure

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.goto(dashboard.url)
            yield page
            assert problems == [], problems
        finally:
            browser.close()


def _page_counts(page: Any) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#stages tbody tr')]
             .map(row => [row.cells[0].textContent, row.querySelector('.count').textContent]))"""
    )


def _chart_total(page: Any, chart: str) -> float:
    """Sum of every y value drawn in a Plotly chart (Plotly keeps the traces on the div)."""
    return page.evaluate(
        f"""() => (document.getElementById('{chart}').data || [])
             .reduce((sum, trace) => sum + trace.y.reduce((a, b) => a + (b || 0), 0), 0)"""
    )


def test_dashboard_shows_the_pipeline_and_traces_a_click(seeded: Pipeline, page: Any) -> None:
    # GIVEN a drained seeded run WHEN the page has refreshed a few times
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    expected = status_counts(seeded)
    # THEN its counts are `sandbox status`'s (the sinks: the run's 1,000 records)
    counts = wait_until(lambda: (c := _page_counts(page)) == expected and c, timeout=30, interval=0.5,
                        what=f"the page's counts to equal sandbox status's {expected}")
    assert counts[Stage.ANALYTICS.value] == counts[Stage.HTTP.value] == f"{SEEDED_CLICKS:,}"
    # the charts have data points: every click in the per-action and per-page bars, latency over time
    wait_until(lambda: _chart_total(page, "actions-chart") == SEEDED_CLICKS, timeout=30, what="1,000 clicks in the action chart")
    assert _chart_total(page, "pages-chart") == SEEDED_CLICKS
    wait_until(lambda: page.evaluate("document.getElementById('latency-chart').data[0].x.length") >= 2,
               timeout=30, what="two latency points")
    assert page.evaluate("document.getElementById('latency-chart').data[0].y.some(v => v > 0)")
    assert page.locator("#errors li").first.text_content() == "none"
    assert page.locator("#failed tbody td").first.text_content() == "none"

    # WHEN a click id is searched THEN the trace shows it in every stage of the pipeline
    click = load(seeded.settings, seeded.run.run_id).clicks[0]
    page.fill("#trace-input", click)
    page.click("#trace-button")
    page.wait_for_selector("#trace-result[data-state=found]", timeout=60_000)
    stages = page.evaluate("[...document.querySelectorAll('#trace-result tr.hit')].map(r => r.dataset.stage)")
    for stage in ("producer", "table", "data lake (raw)", "consumer A (analytics)", "consumer B (HTTP)"):
        assert stage in stages, stages
    assert click in page.locator("#trace-result").text_content()

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000


def test_an_unknown_click_is_said_so(seeded: Pipeline, page: Any) -> None:
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    page.fill("#trace-input", "no-such-click")
    page.click("#trace-button")
    page.wait_for_selector("#trace-result[data-state=missing]", timeout=60_000)
    assert "is not in any stage" in page.locator("#trace-result").text_content()
