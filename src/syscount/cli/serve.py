"""``syscount serve``: a Prometheus exporter. argv → collectors + HTTP server → wait for a stop.

The kernel is read at scrape time only (sinks/prometheus/collector.py). The port is bound
before any BPF work, so a taken port fails fast; on SIGTERM or Ctrl-C the server
stops first (no scrape runs while the programs are detached), then every program
is detached and the socket closed. A stop asked for is a success: exit status 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import NamedTuple

from ..errors import UsageError
from ..filters import Filters, Selection
from ..names.syscalls import native_table
from ..programs.counts import CountsProgram
from ..programs.track import ProcessFilter
from ..readings import CountsReader, LatencyReader
from ..sinks.prometheus.bpfstats import BpfStats
from ..sinks.prometheus.folding import SeriesCap
from ..sinks.prometheus.http import DEFAULT_LISTEN, Listen, MetricsServer, metrics_app, parse_listen
from ..sinks.prometheus.labels import LABELS, KeyedCollector, KeyedLabels, LabelsSource
from ..sinks.prometheus.sources import Combined, ReadingSource, Source
from . import common
from .filter_args import add_filter_options, selection_from
from .targeting import resolve_targets
from .waiting import Waiter

DEFAULT_MAX_SERIES = 50
DOING = "counting"  # system calls, in the announcement and the privilege error

USAGE = """\
syscount serve [--listen ADDR:PORT] [-p PID[,PID...]] [-L] [--errors]
                      [--labels comm|cgroup] [--max-series N] [--bpf-stats] [--keep-capabilities]
                      [--comm NAME] [-u UID] [--cgroup PATH] [-s LIST] [-x] [-e ERRNO] [--debug]"""

DESCRIPTION = """\
Serve system call counts as Prometheus metrics on /metrics (Prometheus text or
OpenMetrics). The kernel counts; the counters are read only when Prometheus
scrapes, so the exporter's cost does not grow with the rate of system calls.
"""

EXAMPLES = """\
examples:
  syscount serve                          every process, on http://127.0.0.1:9464/metrics
  syscount serve --listen 0.0.0.0:9464    on every interface (mind who can reach it)
  syscount serve -L                       also durations (histogram) and errors by errno
  syscount serve --errors                 errors by errno, without the histogram
  syscount serve --labels comm            calls per thread name (at most 50, the rest as "other")
  syscount serve --cgroup system.slice -s %network   the filters of the count command apply
  syscount serve -p 1234 --bpf-stats      one process; report the BPF programs' own cost

Once attached, the exporter drops every capability it does not need to read its
counters (on Linux >= 6.5: all of them; else it keeps CAP_BPF + CAP_PERFMON) before it
serves; --keep-capabilities keeps them all (docs/exporter.md says when that helps).
Metrics, dashboard and cardinality: docs/exporter.md. Needs root (or CAP_BPF + CAP_PERFMON).
"""


class ServeArgs(NamedTuple):
    listen: Listen
    pids: tuple[int, ...]
    latency: bool
    errors: bool  # export errors by errno: needs the exit-side (latency) collector
    labels: str | None
    max_series: int
    bpf_stats: bool
    selection: Selection = Selection()
    debug: bool = False
    keep_capabilities: bool = False


def build_parser() -> argparse.ArgumentParser:
    parser = common.command_parser("syscount serve", USAGE, DESCRIPTION, EXAMPLES)
    parser.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="ADDR:PORT",
        help=f"where to serve /metrics (default {DEFAULT_LISTEN}, loopback only; port 0 picks a free one)",
    )
    common.add_pid_option(parser, "count only these processes, all their threads")
    parser.add_argument(
        "-L",
        "--latency",
        action="store_true",
        help="also syscount_syscall_duration_seconds (a histogram per syscall) and errors by errno",
    )
    parser.add_argument(
        "--errors",
        action="store_true",
        help="also syscount_syscall_errors_total{syscall,errno}, without the histogram (implied by -L, -x, -e)",
    )
    parser.add_argument(
        "--labels", choices=LABELS, help="split syscount_syscalls_total by thread name (comm) or cgroup"
    )
    parser.add_argument(
        "--max-series",
        type=common.whole_number,
        metavar="N",
        help=f"with --labels: at most N label values get series; the rest add into 'other'"
        f" (default {DEFAULT_MAX_SERIES})",
    )
    parser.add_argument(
        "--bpf-stats",
        action="store_true",
        help="turn on the kernel's BPF statistics (system-wide; ~100 ns per program run here) to export"
        " the programs' run time",
    )
    parser.add_argument(
        "--keep-capabilities",
        action="store_true",
        help="keep every capability while serving (by default all that reading the counters does not need"
        " are dropped once attached): for cgroups root cannot list, or an LSM that checks more",
    )
    add_filter_options(parser)
    common.add_debug_option(parser)
    return parser


def parse(argv: Sequence[str]) -> ServeArgs:
    ns, _ = common.parse_options(build_parser(), argv, takes_command=False)
    if ns.max_series is not None and ns.labels is None:
        raise UsageError("--max-series only applies with --labels comm|cgroup")
    selection = selection_from(ns)
    return ServeArgs(
        listen=parse_listen(ns.listen),
        pids=common.pids_from(ns),
        latency=ns.latency,
        errors=ns.errors or ns.latency or selection.needs_exit,
        labels=ns.labels,
        max_series=DEFAULT_MAX_SERIES if ns.max_series is None else ns.max_series,
        bpf_stats=ns.bpf_stats,
        selection=selection,
        debug=ns.debug,
        keep_capabilities=ns.keep_capabilities,
    )


def run(args: ServeArgs) -> int:
    # prometheus_client only here: the parser must import without it (man page, completions).
    from prometheus_client import CollectorRegistry, ProcessCollector

    from ..sinks.prometheus.collector import SyscountCollector

    # Everything the user can get wrong is checked before any BPF work.
    tgids, _ = resolve_targets(args.pids, ())
    with ExitStack() as stack:
        server = stack.enter_context(MetricsServer(args.listen))
        common.require_bpf(DOING)
        stats = stack.enter_context(BpfStats(enable=args.bpf_stats))
        process_filter = stack.enter_context(ProcessFilter()) if tgids else None
        source = open_source(args, Filters(args.selection, process_filter, native_table()), stack)
        if process_filter is not None:
            for tgid in tgids:
                process_filter.add(tgid)
        waiter = stack.enter_context(Waiter())
        registry = CollectorRegistry(auto_describe=False)
        registry.register(SyscountCollector(source, stats))
        ProcessCollector(registry=registry)  # the exporter's own CPU, memory, fds: process_*
        # Before the server's thread starts: capabilities are per thread, and it inherits ours.
        held = "all capabilities kept" if args.keep_capabilities else _drop_capabilities()
        server.start(metrics_app(registry, _report))
        stack.callback(server.stop)  # unwound first: scrapes end before the collectors close
        common.announce(DOING, tgids, f"; metrics at {server.address.url}; {held}", stop="Ctrl-C or SIGTERM")
        while waiter.signal is None:
            waiter.wait(3600.0)
    return common.ExitStatus.OK


def open_source(args: ServeArgs, filters: Filters, stack: ExitStack) -> Source:
    """Attach the one collector this mode needs (closed by ``stack``) and wrap it for scrapes.

    The exit-side (latency) collector when errors or durations are exported or the
    filters need the result (-x, -e); the entry-side counter otherwise. With --labels
    the same collector also keeps the kernel's per-comm or per-cgroup rows."""
    if args.errors:
        from ..programs.latency import LatencyProgram

        latency = stack.enter_context(LatencyProgram(filters, args.labels))
        # With --labels, the labelled rows are read by KeyedLabels (stable label values).
        timed = ReadingSource(LatencyReader(latency, breakdown=False), durations=args.latency)
        if args.labels is None:
            return timed
        return Combined(_labels(args.labels, latency, args.max_series), timed)
    counts = stack.enter_context(CountsProgram(filters, args.labels))
    if args.labels is None:
        return ReadingSource(CountsReader(counts), durations=False)
    return _labels(args.labels, counts, args.max_series)


def _drop_capabilities() -> str:
    """Keep none if the kernel lets bpf() read without (measured here: Linux 6.18), else
    CAP_BPF + CAP_PERFMON; for good (privileges.py). What is held, for the start-up line."""
    from ..kernel import privileges
    from ..kernel.stats import read_one_program

    keep = 0 if privileges.reads_without_capabilities(read_one_program) else privileges.FOR_READING
    held = privileges.drop(keep).effective
    return "capabilities: " + (", ".join(privileges.names(held)) if held else "none")


def _labels(label: str, collector: KeyedCollector, max_series: int) -> LabelsSource:
    return LabelsSource(label, KeyedLabels(collector, label), SeriesCap(max_series))


def _report(message: str) -> None:
    """A failed scrape: one line, and the exporter goes on (the next scrape may succeed)."""
    sys.stderr.write(f"syscount: {message}\n")
    sys.stderr.flush()
