"""The Python mirror of struct bpf_prog_info agrees with the C header; program discovery."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest

from syscount.kernel.libbpf import BpfProgInfo
from syscount.kernel.stats import own_programs
from syscount.sinks.prometheus.bpfstats import BpfStats

FIELDS = ("id", "name", "run_time_ns", "run_cnt", "recursion_misses", "verified_insns", "attach_btf_id")


def test_prog_info_layout_matches_linux_bpf_h(tmp_path: Path) -> None:
    if shutil.which("gcc") is None:
        pytest.fail("gcc is needed to check struct bpf_prog_info (./bootstrap installs it)")
    source = tmp_path / "layout.c"
    prints = "".join(f'printf("{f} %zu\\n", offsetof(struct bpf_prog_info, {f}));' for f in FIELDS)
    source.write_text(
        "#include <stddef.h>\n#include <stdio.h>\n#include <linux/bpf.h>\n"
        f'int main(void) {{ printf("size %zu\\n", sizeof(struct bpf_prog_info)); {prints} return 0; }}\n'
    )
    binary = tmp_path / "layout"
    subprocess.run(["gcc", "-o", str(binary), str(source)], check=True, capture_output=True)
    lines = subprocess.run([str(binary)], check=True, capture_output=True, text=True).stdout.split("\n")
    from_c = {key: int(value) for key, value in (line.split() for line in lines if line)}
    assert from_c["size"] == ctypes.sizeof(BpfProgInfo)
    for field in FIELDS:
        assert from_c[field] == getattr(BpfProgInfo, field).offset, field


def test_a_process_without_bpf_programs_has_none() -> None:
    assert own_programs() == []


def test_stats_are_off_unless_asked_for_or_on_by_sysctl() -> None:
    with BpfStats(enable=False) as stats:
        sysctl = Path("/proc/sys/kernel/bpf_stats_enabled")
        expected = sysctl.exists() and sysctl.read_text().strip() != "0"
        assert stats.enabled() is expected
