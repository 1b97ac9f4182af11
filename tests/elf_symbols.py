"""Sizes of symbols in compiled BPF objects, to check the Python mirrors of C structs."""

from __future__ import annotations

import subprocess


def symbol_size(obj: str, symbol: str) -> int:
    out = subprocess.run(["readelf", "-sW", obj], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[-1] == symbol:
            return int(fields[2], 0)
    raise AssertionError(f"{symbol} not in {obj}")
