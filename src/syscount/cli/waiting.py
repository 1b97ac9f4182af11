"""Sleep until the next interval, a stop signal, or the exit of a watched process.

Signals are turned into a byte on a pipe (``signal.set_wakeup_fd``) and process exits
into a readable pidfd, so one ``select`` waits for all three without races and without
raising out of arbitrary code: the loop decides when to stop and always flushes.
"""

from __future__ import annotations

import os
import select
import signal
from collections.abc import Callable
from types import FrameType

from ..closing import Closing

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Waiter(Closing):
    """``on_hangup``: called on SIGHUP (from the signal handler: it must only set a flag),
    which then wakes ``wait`` without stopping anything: the log files' reopen.
    ``stop_signals``: what stops the loop (syscount top adds SIGHUP: its terminal is gone)."""

    def __init__(
        self, on_hangup: Callable[[], None] | None = None, *, stop_signals: tuple[int, ...] = STOP_SIGNALS
    ) -> None:
        self.signal: int | None = None
        self._on_hangup = on_hangup
        self._stop_signals = stop_signals
        self._pidfds: dict[int, int] = {}  # pidfd -> pid
        self.watched: set[int] = set()
        self.exited: set[int] = set()
        self._old_handlers: dict[int, object] = {}
        self._old_wakeup = -1

    def __enter__(self) -> Waiter:
        self._read_end, self._write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._old_wakeup = signal.set_wakeup_fd(self._write_end)
        for signum in self._stop_signals:
            self._old_handlers[signum] = signal.signal(signum, self._on_signal)
        if self._on_hangup is not None:
            self._old_handlers[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._hangup)
        return self

    def close(self) -> None:
        for signum, handler in self._old_handlers.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        signal.set_wakeup_fd(self._old_wakeup)
        for fd in (*self._pidfds, self._read_end, self._write_end):
            os.close(fd)
        self._pidfds.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is None:
            self.signal = signum

    def _hangup(self, signum: int, frame: FrameType | None) -> None:
        if self._on_hangup is not None:
            self._on_hangup()

    def watch(self, pid: int) -> None:
        """Report when process ``pid`` exits (it may already have)."""
        self.watched.add(pid)
        try:
            self._pidfds[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            self.exited.add(pid)

    def wait(self, timeout: float, also: tuple[int, ...] = ()) -> set[int]:
        """Return after ``timeout`` seconds, or earlier on a signal, a watched exit or
        one of the ``also`` descriptors becoming readable (those ready are returned)."""
        if self.signal is not None or timeout <= 0:
            return set()
        readable, _, _ = select.select([self._read_end, *self._pidfds, *also], [], [], timeout)
        ready = set()
        for fd in readable:
            if fd in also:
                ready.add(fd)
            elif fd == self._read_end:
                self._drain()
            else:
                # A pidfd stays readable once the process is gone: stop selecting on it.
                self.exited.add(self._pidfds.pop(fd))
                os.close(fd)
        return ready

    def _drain(self) -> None:
        try:
            while os.read(self._read_end, 64):
                pass
        except BlockingIOError:
            pass

    def all_exited(self) -> bool:
        return bool(self.watched) and self.exited >= self.watched
