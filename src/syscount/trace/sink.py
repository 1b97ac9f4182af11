"""The event stream of ``syscount trace``: lines out, losses as they happen, a final line.

One ``EventSink`` per run, whatever the format: it decodes each batch of ring buffer
records with the format's compiled formatters and writes the lines with one system
call per batch; the format (events_text, events_json) decides what a line, a loss
report and the final line look like.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .compile import Formatters, LineFormat
from .signatures import Signature
from .stream import decode, joined

if TYPE_CHECKING:
    from .vector import Vectorized

EVENT_FORMATS = ("text", "json")


class Loss(NamedTuple):
    """Events the kernel could not queue since the previous report."""

    lost: int  # new since the last report
    total: int  # since the start


class Totals(NamedTuple):
    """The run's figures for the final line."""

    events: int  # events decoded and written
    lost: int  # events the kernel counted as lost
    calls: int  # events due (events + lost when nothing was missed)
    duration_s: float
    lost_by_cpu: dict[int, int]
    no_storage: int  # of the lost: arguments not kept (no per-thread storage)
    untracked_forks: int = 0
    unwritten: int = 0  # of the events: decoded, but -o could not take them (disk full...)


class Output(Protocol):
    """Where the lines go: the terminal (``FdOutput``) or the -o file (sinks/logfile.LogFile)."""

    def commit(self, data: bytes, items: int = 1) -> bool:
        """Write ``data`` (``items`` events) whole; False if it could not be (then counted)."""
        ...


class FdOutput:
    """stdout or stderr: every byte written, errors raised (a closed pipe ends the run)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def commit(self, data: bytes, items: int = 1) -> bool:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]
        return True


class StreamFormat(LineFormat, Protocol):
    """A LineFormat that also spells loss reports and the final line."""

    def loss_line(self, loss: Loss) -> str: ...

    def final_line(self, totals: Totals) -> str: ...


def _vectorized(formatters: Formatters) -> Vectorized | None:
    """numpy's batch renderer when numpy is installed; the per-event formatters alone if not."""
    try:
        from .vector import Vectorized
    except ImportError:
        return None
    return Vectorized(formatters)


def wall_offset_ns() -> int:
    """Add to a CLOCK_MONOTONIC time (bpf_ktime_get_ns) to get wall-clock time."""
    return time.clock_gettime_ns(time.CLOCK_REALTIME) - time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class EventSink:
    """Writes decoded events to an Output, in batches: one write per batch, whole lines."""

    def __init__(
        self,
        output: Output,
        line: StreamFormat,
        names: Callable[[int], str],
        signatures: Mapping[int, Signature],
        noreturn: frozenset[int],
        *,
        vectorize: bool = True,
        formatters: Callable[..., Formatters] = Formatters,
        vectorized: Callable[[Formatters], Vectorized | None] | None = None,
    ) -> None:
        self.output = output
        self.line = line
        self.formatters = formatters(line, names, signatures, noreturn)
        self.vector = (vectorized or _vectorized)(self.formatters) if vectorize else None
        self.events = 0  # decoded
        self.unwritten = 0  # decoded, but not written (the -o file failed)
        self._lines: list[str | bytes] = []

    def batch(self, span: bytes) -> int:
        """Decode and write the whole events of ``span``; returns the bytes consumed."""
        lines = self._lines
        consumed, events = decode(span, self.formatters, lines, self.vector)
        if lines:
            self.events += events
            if not self.output.commit(joined(lines), events):
                self.unwritten += events
            lines.clear()
        return consumed

    def loss(self, loss: Loss) -> None:
        self._write(self.line.loss_line(loss), 0)

    def final(self, totals: Totals) -> None:
        self._write(self.line.final_line(totals), 0)

    def _write(self, text: str, events: int) -> bool:
        return self.output.commit(text.encode("utf-8", "backslashreplace"), events)
