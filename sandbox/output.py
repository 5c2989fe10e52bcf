"""Rich consoles for the CLI: results on stdout, progress and notes on stderr."""

from __future__ import annotations

from rich.console import Console


def console(*, stderr: bool = False) -> Console:
    """A console bound to the current sys.stdout/sys.stderr (so test runners capture it)."""
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def note(message: str) -> None:
    """A progress line on stderr (keeps stdout clean for scripts)."""
    console(stderr=True).print(message)
