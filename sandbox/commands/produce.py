"""`sandbox produce`: the producer's own command, aimed at the running sandbox by default.

Same options as ``python -m producer``; only where the settings come from differs:
``sandbox.target.load`` (an explicit AWS_ENDPOINT_URL, else the running `sandbox up`,
else the default local endpoint), handed to the producer directly.
"""

from __future__ import annotations

import functools
from typing import Any

from producer.cli import produce_command, run_command
from sandbox import target


@functools.wraps(produce_command)  # typer reads the options from produce_command's signature
def produce(**arguments: Any) -> None:
    run_command(target.load, **arguments)
