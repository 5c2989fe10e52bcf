"""The scenarios, one module each; every one has ``run(small: bool) -> Row``."""

from __future__ import annotations

from collections.abc import Callable

from tests.chaos.harness import Row
from tests.chaos.scenarios import burst, endpoint_kill, flaky_sink, poison, restart, sink_outage, worker_kill

#: Keep the names in step with tests.chaos.__main__.SCENARIOS (a test checks it).
SCENARIOS: dict[str, Callable[[bool], Row]] = {
    "flaky-sink": flaky_sink.run,
    "sink-outage": sink_outage.run,
    "poison": poison.run,
    "worker-kill": worker_kill.run,
    "restart": restart.run,
    "burst": burst.run,
    "endpoint-kill": endpoint_kill.run,
}
