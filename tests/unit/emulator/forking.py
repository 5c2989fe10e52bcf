"""A forked reader, the way the snapshotter reads the stores: forked now, reading later."""

from __future__ import annotations

import os
from collections.abc import Callable


def forked_check(check: Callable[[], bool]) -> Callable[[], bool]:
    """Fork a child that runs ``check`` once the returned function is called; that call
    waits for the child and answers whether ``check`` held in it."""
    go_read, go_write = os.pipe()
    child = os.fork()
    if child == 0:
        code = 1
        try:
            os.read(go_read, 1)
            code = 0 if check() else 1
        finally:
            os._exit(code)

    def release() -> bool:
        os.write(go_write, b"x")
        return os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 0

    return release
