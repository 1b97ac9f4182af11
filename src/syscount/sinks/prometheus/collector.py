"""One scrape: read the kernel through the source, render, add the exporter's own metrics.

Registered with prometheus_client as a custom collector, so the kernel is read only
when Prometheus asks: between scrapes syscount does no work per system call at all.
prometheus_client calls ``collect`` from one thread per request; the sources make
concurrent scrapes safe.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterator

from prometheus_client.metrics_core import Metric

from ... import __version__
from ...kernel.stats import libbpf_version
from .bpfstats import BpfStats
from .metrics import build_info, program_families, scrape_duration, syscall_families
from .sources import Source


class SyscountCollector:
    def __init__(self, source: Source, stats: BpfStats) -> None:
        self._source = source
        self._stats = stats
        self._build = build_labels()

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        families = syscall_families(self._source.totals())
        families += program_families(self._stats.programs(), self._stats.enabled())
        families.append(build_info(self._build))
        families.append(scrape_duration(time.perf_counter() - started))
        yield from families


def build_labels() -> dict[str, str]:
    return {
        "version": __version__,
        "libbpf": libbpf_version(),
        "kernel": os.uname().release,
        "python": platform.python_version(),
    }
