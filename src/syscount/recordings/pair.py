"""Reading the two recordings of ``syscount diff`` side by side, one per core.

Each large recording costs seconds of parsing (a day of -L lines is ~600 MB). A forked
child reads NEW while this process reads BASE. Small files are read one after the
other: a fork costs more than it saves there.
"""

from __future__ import annotations

import os

from .forked import ChildFailed, Forked, can_fork
from .load import Needs, Recording, load

FORK_ABOVE = 32 << 20  # bytes in each file before the second one gets its own process


def load_both(first: str, second: str, needs: Needs) -> tuple[Recording, Recording]:
    """``load(first)`` and ``load(second)``; errors as ``load`` raises them, FIRST's first."""
    if not can_fork() or min(_size(first), _size(second)) < FORK_ABOVE:
        return load(first, needs=needs), load(second, needs=needs)
    child = Forked(lambda: load(second, needs=needs))
    try:
        recording = load(first, needs=needs)
    except BaseException:
        child.cancel()  # FIRST's error is the one to report: SECOND is not waited for
        raise
    try:
        return recording, child.result()
    except ChildFailed:
        return recording, load(second, needs=needs)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0  # load() says what is wrong with it
