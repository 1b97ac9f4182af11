"""Rendering totals as Prometheus metrics: exact text, exact histogram edges, both formats."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from syscount.kernel.libbpf import ProgramInfo
from syscount.sinks.prometheus.bpfstats import BpfStats
from syscount.sinks.prometheus.collector import SyscountCollector
from syscount.sinks.prometheus.folding import SeriesCap
from syscount.sinks.prometheus.metrics import bucket_bounds, build_info, program_families, syscall_families
from syscount.sinks.prometheus.sources import Durations, Labelled, Totals

BUCKETS = 32


class Families:
    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


def text(families: Iterable[Metric]) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Families(families))
    return generate_latest(registry).decode()


def samples(output: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(output)
        for sample in family.samples
    }


def test_counts_render_as_one_counter_per_syscall_sorted() -> None:
    output = text(syscall_families(Totals(counts={"write": 7, "read": 42})))
    assert output == (
        "# HELP syscount_syscalls_total System calls made, by syscall.\n"
        "# TYPE syscount_syscalls_total counter\n"
        'syscount_syscalls_total{syscall="read"} 42.0\n'
        'syscount_syscalls_total{syscall="write"} 7.0\n'
    )


def test_errors_and_losses_appear_only_in_modes_that_collect_them() -> None:
    totals = Totals(
        counts={"close": 87},
        errors={("close", "EBADF"): 77, ("openat", "ENOENT"): 55},
        in_flight=2,
        untracked_forks=1,
        errno_overflow=0,
        untimed=3,
    )
    got = samples(text(syscall_families(totals)))
    assert got[("syscount_syscall_errors_total", (("errno", "EBADF"), ("syscall", "close")))] == 77
    assert got[("syscount_syscall_errors_total", (("errno", "ENOENT"), ("syscall", "openat")))] == 55
    assert got[("syscount_calls_in_flight", ())] == 2
    assert got[("syscount_untracked_forks_total", ())] == 1
    assert got[("syscount_errno_overflow_total", ())] == 0
    assert got[("syscount_untimed_calls_total", ())] == 3
    plain = text(syscall_families(Totals(counts={"close": 1})))
    for name in ("errors", "duration", "in_flight", "untracked", "overflow", "untimed"):
        assert name not in plain


def test_bucket_edges_are_exactly_the_kernels_powers_of_two() -> None:
    bounds = bucket_bounds(BUCKETS)
    assert len(bounds) == BUCKETS - 1  # the last bucket is open-ended: +Inf
    assert bounds[0] == "2e-09" and bounds[9] == "1.024e-06" and bounds[-1] == "2.147483648"
    for k, bound in enumerate(bounds):
        assert float(bound) * 1e9 == 2 ** (k + 1)  # exact in float: no re-bucketing error


def test_histogram_is_cumulative_with_the_open_bucket_only_in_inf() -> None:
    hist = [0] * BUCKETS
    hist[10] = 3  # 1024 <= d < 2048 ns
    hist[23] = 20  # 8.4 ms <= d < 16.8 ms
    hist[31] = 1  # >= 2.1 s
    totals = Totals(counts={"nanosleep": 24}, durations={"nanosleep": Durations(tuple(hist), 250_000_000_000)})
    got = samples(text(syscall_families(totals)))

    def bucket(le: str) -> float:
        return got[("syscount_syscall_duration_seconds_bucket", (("le", le), ("syscall", "nanosleep")))]

    bounds = bucket_bounds(BUCKETS)
    assert bucket(bounds[9]) == 0  # le 1.024 us: below bucket 10
    assert bucket(bounds[10]) == 3  # le 2.048 us
    assert bucket(bounds[22]) == 3
    assert bucket(bounds[23]) == 23  # le 16.777216 ms
    assert bucket(bounds[30]) == 23  # le 2.147483648 s: the open bucket is not below it
    assert bucket("+Inf") == 24
    assert got[("syscount_syscall_duration_seconds_count", (("syscall", "nanosleep"),))] == 24
    assert got[("syscount_syscall_duration_seconds_sum", (("syscall", "nanosleep"),))] == 250.0


def test_labelled_counts_replace_the_plain_ones_and_the_folding_is_reported() -> None:
    folded = SeriesCap(1).fold({("nginx", "read"): 10, ("bash", "read"): 2, ("cron", "openat"): 1})
    totals = Totals(counts={"read": 12, "openat": 1}, labelled=Labelled("comm", folded))
    output = text(syscall_families(totals))
    got = samples(output)
    assert {key: value for key, value in got.items() if key[0] == "syscount_syscalls_total"} == {
        ("syscount_syscalls_total", (("comm", "other"), ("syscall", "openat"))): 1,
        ("syscount_syscalls_total", (("comm", "nginx"), ("syscall", "read"))): 10,
        ("syscount_syscalls_total", (("comm", "other"), ("syscall", "read"))): 2,
    }
    assert got[("syscount_label_values_kept", (("label", "comm"),))] == 1
    assert got[("syscount_label_values_folded", (("label", "comm"),))] == 2
    assert got[("syscount_series_folded", (("label", "comm"),))] == 2


def test_program_figures_and_build_info() -> None:
    programs = [ProgramInfo("count_enter", 7, 1_500_000_000, 1000, 2)]
    got = samples(text([*program_families(programs, True), build_info({"version": "0.1.0", "kernel": "6.18"})]))
    assert got[("syscount_bpf_program_run_seconds_total", (("program", "count_enter"),))] == 1.5
    assert got[("syscount_bpf_program_runs_total", (("program", "count_enter"),))] == 1000
    assert got[("syscount_bpf_program_recursion_misses_total", (("program", "count_enter"),))] == 2
    assert got[("syscount_bpf_stats_enabled", ())] == 1
    assert got[("syscount_build_info", (("kernel", "6.18"), ("version", "0.1.0")))] == 1


class FixedSource:
    def __init__(self, totals: Totals) -> None:
        self.reads = 0
        self._totals = totals

    def totals(self) -> Totals:
        self.reads += 1
        return self._totals


def test_a_scrape_reads_the_source_once() -> None:
    source = FixedSource(Totals(counts={"read": 42}))
    with BpfStats(enable=False) as stats:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(SyscountCollector(source, stats))
        assert source.reads == 0  # registering does not scrape
        output = generate_latest(registry).decode()
    assert source.reads == 1
    assert 'syscount_syscalls_total{syscall="read"} 42.0\n' in output
    assert "# TYPE syscount_scrape_duration_seconds gauge\n" in output
    assert "syscount_build_info{" in output
