"""Where snapshots go: a rich Live view on a terminal, or a status line every few seconds."""

from __future__ import annotations

import time
from types import TracebackType

from rich.live import Live

from sandbox.output import console, note
from sandbox.stats import Snapshot
from sandbox.view import one_line, render

LINE_EVERY_S = 5.0


class Display:
    """``show`` is called once per refresh; ``live=False`` (or no terminal) prints lines instead."""

    def __init__(self, *, live: bool) -> None:
        self._console = console()
        self.live = live and self._console.is_terminal
        self._live: Live | None = None
        self._last_line = 0.0
        self._started = time.monotonic()

    def __enter__(self) -> Display:
        if self.live:
            # auto_refresh off: we refresh once per poll, no extra thread touching the terminal.
            self._live = Live(console=self._console, auto_refresh=False, transient=False)
            self._live.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def show(
        self,
        snapshot: Snapshot,
        header: str,
        *,
        expected: int | None = None,
        force_line: bool = False,
        remark: str = "",
    ) -> None:
        """``remark``: what the status line adds (the view's header says it already), e.g. a stopped producer."""
        if self._live is not None:
            size = (self._console.size.width, self._console.size.height)  # compact on a short terminal
            self._live.update(render(snapshot, header, expected, size=size), refresh=True)
            return
        now = time.monotonic()
        if force_line or now - self._last_line >= LINE_EVERY_S:
            self._last_line = now
            note(f"[{now - self._started:5.0f}s] {one_line(snapshot)}" + (f" · {remark}" if remark else ""))
