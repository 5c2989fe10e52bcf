"""Why an image could not be built, with the command that fixes it."""

from __future__ import annotations

from sandbox.errors import SandboxError


class ImageBuildError(SandboxError):
    """One step of `make images` failed; ``message`` names the step and what it said last."""
