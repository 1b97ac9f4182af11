"""The dashboard and docs name only metrics the exporter really exports, and document all of them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.metrics_core import Metric

from syscount.kernel.libbpf import ProgramInfo
from syscount.sinks.prometheus.folding import SeriesCap
from syscount.sinks.prometheus.metrics import build_info, program_families, scrape_duration, syscall_families
from syscount.sinks.prometheus.sources import Durations, Labelled, Totals

DOCS = Path(__file__).resolve().parents[2] / "docs"
METRIC = re.compile(r"\b(?:syscount|process)_[a-z_]+\b")


def every_family() -> list[Metric]:
    """Every family in every mode: all optional totals present, labels on."""
    totals = Totals(
        counts={"read": 1},
        labelled=Labelled("comm", SeriesCap(1).fold({("a", "read"): 1})),
        errors={("read", "EBADF"): 1},
        durations={"read": Durations((1,) * 32, 10)},
        in_flight=0,
        untracked_forks=0,
        errno_overflow=0,
        untimed=0,
        unattributed=0,
    )
    registry = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=registry)
    process = list(registry.collect())
    programs = program_families([ProgramInfo("count_enter", 1, 1, 1, 0)], False)
    return [*syscall_families(totals), *programs, build_info({"version": "0"}), scrape_duration(0.0), *process]


def sample_names() -> set[str]:
    return {sample.name for family in every_family() for sample in family.samples}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DOCS / "grafana-dashboard.json").read_text())
    return loaded


def expressions(board: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]


def test_dashboard_queries_use_only_exported_metrics() -> None:
    used = {name for expr in expressions(dashboard()) for name in METRIC.findall(expr)}
    assert used, "no queries found"
    assert used <= sample_names(), used - sample_names()


def test_dashboard_panels_have_unique_ids_and_a_datasource_variable() -> None:
    board = dashboard()
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    assert "datasource" in {variable["name"] for variable in board["templating"]["list"]}


def test_every_syscount_family_is_documented() -> None:
    text = (DOCS / "exporter.md").read_text()
    documented = 0
    for family in every_family():
        if family.name.startswith("syscount_"):
            name = family.name + "_total" if family.type == "counter" else family.name
            assert f"`{name}`" in text, name
            documented += 1
    assert documented >= 15
