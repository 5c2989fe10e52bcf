"""LocalStack's READY hook (docker/localstack/ready.d/warm_services.py), run the way LocalStack runs it.

LocalStack exec()s ready.d Python files in its own interpreter; here the same
source is exec()d in a fresh interpreter against the embedded emulator (which
serves every service the hook touches) and against a port where nothing listens.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from typing import Any

from tests.unit.docker_static.compose import REPO_ROOT

HOOK = REPO_ROOT / "docker" / "localstack" / "ready.d" / "warm_services.py"
_EXEC_LIKE_LOCALSTACK = (
    "import sys; path = sys.argv[1]; "
    "exec(compile(open(path).read(), path, 'exec'), {'__file__': path, '__name__': 'ready_hook'})"
)


def run_hook(endpoint_url: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    env = {**os.environ, "WARM_ENDPOINT_URL": endpoint_url, "WARM_READ_TIMEOUT": "20"}
    done = subprocess.run(
        [sys.executable, "-c", _EXEC_LIKE_LOCALSTACK, str(HOOK)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r"sandbox warm-up: (\{.*\})", done.stdout)
    assert match, f"no summary line in {done.stdout!r} / {done.stderr[-500:]!r}"
    outcome = json.loads(match.group(1))
    return done, outcome


def test_every_service_warms_up_against_a_real_endpoint(emulator: Any) -> None:
    done, outcome = run_hook(emulator.endpoint_url)
    assert done.returncode == 0, done.stderr[-1000:]
    assert outcome and set(outcome.values()) == {"ok"}, outcome


def test_an_unreachable_service_is_reported_not_fatal() -> None:
    started = time.monotonic()
    done, outcome = run_hook("http://127.0.0.1:9")
    assert done.returncode == 0, "a failed warm-up must not mark LocalStack's init as failed"
    assert outcome and all("EndpointConnectionError" in value for value in outcome.values()), outcome
    assert time.monotonic() - started < 60
