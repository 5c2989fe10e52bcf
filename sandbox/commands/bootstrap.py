"""`sandbox bootstrap plan|apply|destroy [--prefix …]`: bootstrap's own commands (bootstrap/cli.py),
aimed at the running sandbox by default and refusing early when nothing answers (``target.connect``)."""

from __future__ import annotations

from bootstrap.cli import build_app
from sandbox import target

app = build_app(target.connect, help="Create, update or delete the pipeline's AWS resources.")
