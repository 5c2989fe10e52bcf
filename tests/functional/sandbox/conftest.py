"""Bootstrapped pipelines on the session emulator, each with its own prefix and HTTP sink,
fed by one producer run and drained before the tests look at it: ``pipeline`` (30 clicks
with updates and deletes) and ``seeded`` (1,000 clicks, seed 42, inserts only: what the
issue's query check and the dashboard's browser test use)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from bootstrap import api
from bootstrap.plan import Action
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from emulator import Emulator
from producer.options import ProduceOptions
from producer.run import ProduceSummary, produce
from sandbox.cli import app
from sandbox.collector import Collector
from sandbox.httpsink import HttpSink
from sandbox.stats import Snapshot
from tests.functional.sandbox.support import cli_env
from tests.waiting import wait_until

CLICKS = 30
SEEDED_CLICKS = 1000
SEEDED_RATE = 250.0  # writes/s: the clicks spread over 4 s, so the dashboard's charts have several buckets


@dataclass
class Pipeline:
    settings: Settings
    topology: Topology
    sink: HttpSink
    run: ProduceSummary
    drained: Snapshot
    env: dict[str, str | None]  # for CliRunner: the CLI aimed at this pipeline


@pytest.fixture(scope="package")
def pipeline(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    options = ProduceOptions(count=CLICKS, update_ratio=0.2, delete_ratio=0.1, seed=7)
    yield from _drained_pipeline(emulator, tmp_path_factory, options)


@pytest.fixture(scope="package")
def seeded(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    yield from _drained_pipeline(emulator, tmp_path_factory, ProduceOptions(count=SEEDED_CLICKS, seed=42, rate=SEEDED_RATE))


def _drained_pipeline(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory, options: ProduceOptions) -> Iterator[Pipeline]:
    with HttpSink("127.0.0.1", 0) as sink:
        settings = Settings(endpoint_url=emulator.endpoint_url, prefix=f"sb{uuid.uuid4().hex[:8]}", http_sink_url=sink.url)
        env = cli_env(settings, tmp_path_factory.mktemp("state"))
        api.apply(settings)
        try:
            run = produce(settings, options)
            topology = Topology.from_settings(settings)
            collector = Collector(settings, topology, since_ms=0)
            drained = wait_until(
                lambda: (s := collector.poll(thorough=True)).drained(run.expected_stream_records) and s,
                timeout=60,
                interval=0.5,
                what=f"{run.expected_stream_records} records in every sink",
            )
            yield Pipeline(settings, topology, sink, run, drained, env)
        finally:
            # README: `sandbox bootstrap destroy` removes everything it created.
            destroyed = CliRunner().invoke(app, ["bootstrap", "destroy"], env=env)
            assert destroyed.exit_code == 0, destroyed.output
            left = api.plan(settings)
            assert left.changes and all(change.action is Action.CREATE for change in left.changes), left.summary()
