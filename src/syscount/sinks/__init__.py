"""Sinks: each output format is one small module behind the ``Sink`` interface.

A sink receives snapshots and writes them somewhere; it never reaches back into the
kernel. ``open_sink`` is the one place that maps a format name to a sink.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TextIO

if TYPE_CHECKING:
    from ..model import Snapshot


class Sink(Protocol):
    def emit(self, snapshot: Snapshot) -> None: ...


FORMATS = ("text", "json", "csv")


class SinkOptions(NamedTuple):
    """What the user asked of the output, beyond its format."""

    top: int = 0
    latency: bool = False
    histogram: bool = False
    strace_summary: bool = False
    breakdown: bool = False
    meta: dict[str, Any] | None = None  # the run's metadata, written once by the JSON sink


def open_sink(fmt: str, stream: TextIO, *, log: bool, options: SinkOptions | None = None) -> Sink:
    """The sink for ``fmt``; ``log`` picks the seed's ``name: count`` lines over the table for text."""
    from . import csvrows, jsonl, table, textlog

    options = options or SinkOptions()
    if fmt == "json":
        return jsonl.JsonLinesSink(stream, meta=options.meta)
    if fmt == "csv":
        return csvrows.CsvSink(stream, latency=options.latency, breakdown=options.breakdown)
    if log:
        return textlog.TextLogSink(stream)
    return table.TableSink(stream, top=options.top, histogram=options.histogram, strace_summary=options.strace_summary)
