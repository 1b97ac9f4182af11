"""Work on the other core: a function run in a forked child, its result sent back pickled.

Reading a large recording is seconds of parsing in one Python thread; the machine has
more cores. ``diff`` reads NEW this way while it reads BASE, ``report`` the second half
of a file while it reads the first. A fork (not a spawned interpreter) starts in
milliseconds and needs nothing imported again.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from typing import Any

from .load import RecordingError


class ChildFailed(Exception):
    """The child met something other than a RecordingError: redo the work here to meet it too."""


def can_fork() -> bool:
    return hasattr(os, "fork")


class Forked:
    """``function()`` running in a child process; ``result()`` waits for it, ``cancel()`` kills it."""

    def __init__(self, function: Callable[[], Any]) -> None:
        reader, writer = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover (the parent's tests check what it sends)
            os.close(reader)
            _run_and_send(writer, function)
        os.close(writer)
        self._stream = os.fdopen(reader, "rb")

    def result(self) -> Any:
        """What ``function`` returned; its RecordingError raised again here."""
        try:
            kind, value = pickle.load(self._stream)
        except EOFError:  # killed (out of memory, say) before it could send anything
            kind, value = "failed", "the child process ended without a result"
        finally:
            self._reap()
        if kind == "error":
            raise RecordingError(value)
        if kind == "failed":
            raise ChildFailed(value)
        return value

    def cancel(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self._reap()

    def _reap(self) -> None:
        self._stream.close()
        os.waitpid(self.pid, 0)


def _run_and_send(writer: int, function: Callable[[], Any]) -> None:  # pragma: no cover (in the child)
    result: tuple[str, Any]
    try:
        result = ("ok", function())
    except RecordingError as exc:
        result = ("error", str(exc))
    except BaseException as exc:
        result = ("failed", repr(exc))
    try:
        with os.fdopen(writer, "wb") as stream:
            pickle.dump(result, stream, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        os._exit(0)
