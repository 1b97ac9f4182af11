"""Privileged tests load real BPF programs: they need root and a BPF-capable kernel.

Without either they skip with the reason; under CI (SYSCOUNT_REQUIRE_PRIVILEGED=1)
a skip fails the run (see tests/conftest.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .helpers import WORKLOAD


def _missing_requirement() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if not Path("/sys/fs/bpf").exists() and not Path("/sys/kernel/btf/vmlinux").exists():
        return "no BPF support in this kernel"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    reason = _missing_requirement()
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.privileged)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def _workload_built() -> None:
    if not WORKLOAD.exists():
        pytest.fail(f"{WORKLOAD} is missing: run `make workloads`")
