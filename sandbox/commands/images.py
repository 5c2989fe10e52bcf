"""`sandbox images`: build the Docker path's images on a machine that cannot pull (what `make images` runs)."""

from __future__ import annotations

from typing import Annotated

import typer

from sandbox.output import note


def images(
    force: Annotated[bool, typer.Option("--force", help="Rebuild the base, the wheelhouse and every layer.")] = False,
) -> None:
    """Build the offline base (debootstrap) and the project image (wheelhouse, no network in the build)."""
    from sandbox.images import build_images

    report = build_images(note, force=force)
    note(report.summary())
