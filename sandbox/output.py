"""Rich consoles for the CLI: results on stdout, progress and notes on stderr.

Piped (not a terminal), rich would wrap at 80 columns and cut ids, keys and URIs in
table cells across lines, where scripts and `grep` cannot find them: a piped console
is as wide as its widest line needs (up to ``PIPE_WIDTH``) unless COLUMNS says otherwise.
"""

from __future__ import annotations

import os

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

#: Columns of a console that is not a terminal (tables take only the width they need).
PIPE_WIDTH = 1000


def console(*, stderr: bool = False) -> Console:
    """A console bound to the current sys.stdout/sys.stderr (so test runners capture it)."""
    out = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not out.is_terminal and not os.environ.get("COLUMNS"):
        out = Console(stderr=stderr, highlight=False, soft_wrap=True, width=PIPE_WIDTH)
    return out


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 record``, ``2 records`` (``many`` for irregular plurals: ``1 batch``, ``2 batches``)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def note(message: str) -> None:
    """A progress line on stderr (keeps stdout clean for scripts)."""
    console(stderr=True).print(message)


def progress_bar(label: str, unit: TextColumn) -> Progress:
    """The progress bar of long commands (replay, redrive): on stderr, gone when done."""
    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), unit, TimeElapsedColumn(),
        console=console(stderr=True), transient=True,
    )
