"""Totals → Prometheus metric families: pure functions, no kernel access.

Names and meanings are documented in docs/exporter.md; they are a contract like the
JSON output (add, never rename). Every family is built in a stable order (sorted), so
the same totals always give the same text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from ...kernel.stats import ProgramInfo
from .sources import Durations, Labelled, Totals

PREFIX = "syscount_"
NS_PER_S = 1e9


def bucket_bounds(buckets: int) -> list[str]:
    """The ``le`` of each syscount bucket but the last, in seconds: bucket k holds
    2^k <= d < 2^(k+1) ns, so its upper bound is 2^(k+1) ns. The same edges as the
    kernel's, so nothing is re-bucketed; the last bucket has no upper edge (+Inf)."""
    return [_go_float((1 << (k + 1)) / NS_PER_S) for k in range(buckets - 1)]


def _go_float(value: float) -> str:
    """A float as prometheus_client writes every other value (Go's formatting)."""
    text: str = floatToGoString(value)  # type: ignore[no-untyped-call]
    return text


def histogram_buckets(durations: Durations, bounds: Sequence[str]) -> list[tuple[str, float]]:
    """Cumulative Prometheus buckets from per-bucket counts."""
    cumulative: list[tuple[str, float]] = []
    running = 0
    for bound, count in zip(bounds, durations.buckets, strict=False):
        running += count
        cumulative.append((bound, running))
    cumulative.append(("+Inf", durations.timed))
    return cumulative


def syscall_families(totals: Totals) -> list[Metric]:
    """What the kernel counted: calls, failures, durations, and what could not be counted."""
    families: list[Metric] = [_calls(totals)]
    if totals.errors is not None:
        errors = CounterMetricFamily(
            PREFIX + "syscall_errors", "System calls that returned an error, by errno.", labels=["syscall", "errno"]
        )
        for (syscall, err), count in sorted(totals.errors.items()):
            errors.add_metric([syscall, err], count)
        families.append(errors)
    if totals.durations is not None:
        families.append(_durations(totals.durations))
    if totals.in_flight is not None:
        families.append(
            GaugeMetricFamily(PREFIX + "calls_in_flight", "Timed system calls running right now.", totals.in_flight)
        )
    families.extend(_losses(totals))
    if totals.labelled is not None:
        families.extend(_folding(totals.labelled))
    return families


def _calls(totals: Totals) -> Metric:
    help_text = "System calls made, by syscall."
    if totals.labelled is None:
        calls = CounterMetricFamily(PREFIX + "syscalls", help_text, labels=["syscall"])
        for syscall, count in sorted(totals.counts.items()):
            calls.add_metric([syscall], count)
        return calls
    label = totals.labelled.label
    calls = CounterMetricFamily(PREFIX + "syscalls", f"{help_text[:-1]} and {label}.", labels=["syscall", label])
    for (value, syscall), count in sorted(totals.labelled.folded.counts.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        calls.add_metric([syscall, value], count)
    return calls


def _durations(durations: dict[str, Durations]) -> Metric:
    family = HistogramMetricFamily(
        PREFIX + "syscall_duration_seconds",
        "Time from entry to exit of system calls, by syscall (log2 buckets; upper bounds exclusive).",
        labels=["syscall"],
    )
    bounds: list[str] = []
    for syscall, figures in sorted(durations.items()):
        if len(bounds) != len(figures.buckets) - 1:
            bounds = bucket_bounds(len(figures.buckets))
        family.add_metric([syscall], histogram_buckets(figures, bounds), figures.sum_ns / NS_PER_S)
    return family


def _losses(totals: Totals) -> Iterable[Metric]:
    """Counters of what could not be counted; present when the mode can lose it."""
    losses = (
        (
            "untracked_forks",
            totals.untracked_forks,
            "Children of followed processes whose id is past the process filter (pid_max raised).",
        ),
        ("errno_overflow", totals.errno_overflow, "Failed calls missing from the errno breakdown (errno map full)."),
        ("untimed_calls", totals.untimed, "System calls that could not be timed (no per-thread storage)."),
        (
            "unattributed_calls",
            totals.unattributed,
            "Calls the kernel's breakdown map had no room for (counted under the label value other).",
        ),
    )
    for name, value, help_text in losses:
        if value is not None:
            yield CounterMetricFamily(PREFIX + name, help_text, value)


def _folding(labelled: Labelled) -> Iterable[Metric]:
    """The cardinality cap at work: what it kept, and what it added into ``other``."""
    folded = labelled.folded
    figures = (
        ("label_values_kept", "Label values with series of their own (at most --max-series).", folded.kept_values),
        (
            "label_values_folded",
            "Label values whose calls were added into the series labelled other.",
            folded.folded_values,
        ),
        ("series_folded", "Series that --max-series added into the other series.", folded.folded_series),
    )
    for name, help_text, value in figures:
        gauge = GaugeMetricFamily(PREFIX + name, help_text, labels=["label"])
        gauge.add_metric([labelled.label], value)
        yield gauge


# -- the exporter itself ---------------------------------------------------------------


def program_families(programs: Sequence[ProgramInfo], stats_enabled: bool) -> list[Metric]:
    """The BPF programs' own cost, from the kernel's BPF statistics (run time and runs
    grow only while statistics are on: ``syscount_bpf_stats_enabled``)."""
    run_time = CounterMetricFamily(
        PREFIX + "bpf_program_run_seconds", "Time spent in each syscount BPF program.", labels=["program"]
    )
    runs = CounterMetricFamily(PREFIX + "bpf_program_runs", "Runs of each syscount BPF program.", labels=["program"])
    misses = CounterMetricFamily(
        PREFIX + "bpf_program_recursion_misses",
        "Times a program did not run because it was already running on that CPU (those calls went uncounted).",
        labels=["program"],
    )
    for program in sorted(programs):
        run_time.add_metric([program.name], program.run_time_ns / NS_PER_S)
        runs.add_metric([program.name], program.run_cnt)
        misses.add_metric([program.name], program.recursion_misses)
    enabled = GaugeMetricFamily(
        PREFIX + "bpf_stats_enabled", "1 when the kernel is collecting BPF run-time statistics.", int(stats_enabled)
    )
    return [run_time, runs, misses, enabled]


def build_info(labels: dict[str, str]) -> Metric:
    info = GaugeMetricFamily(
        PREFIX + "build_info", "syscount version, libbpf, kernel and Python; always 1.", labels=sorted(labels)
    )
    info.add_metric([labels[key] for key in sorted(labels)], 1)
    return info


def scrape_duration(seconds: float) -> Metric:
    return GaugeMetricFamily(
        PREFIX + "scrape_duration_seconds", "Time this scrape spent reading the kernel and building metrics.", seconds
    )
