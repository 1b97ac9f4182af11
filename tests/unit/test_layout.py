"""The Python mirror of bpf/counts.h agrees with the compiled object."""

from __future__ import annotations

import subprocess

import pytest

from syscount.collectors.counts import CountsLayout
from syscount.objects import object_path


def _symbol_size(obj: str, symbol: str) -> int:
    out = subprocess.run(["readelf", "-sW", obj], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[-1] == symbol:
            return int(fields[2], 0)
    raise AssertionError(f"{symbol} not in {obj}")


def test_counters_struct_size_matches_the_object() -> None:
    path = object_path("counts")
    if not path.exists():
        pytest.fail(f"{path} is not built: run `make bpf`")
    layout = CountsLayout.from_header()
    assert _symbol_size(str(path), "counters") == layout.size
    assert _symbol_size(str(path), "cfg") == 16
    assert _symbol_size(str(object_path("track")), "stats") == 8


def test_layout_constants() -> None:
    layout = CountsLayout.from_header()
    assert layout.nr_slots == 512 and layout.abis == 2 and layout.max_cpus == 128
    assert layout.cpu_offset(0) == layout.row_bytes  # after the shared row
