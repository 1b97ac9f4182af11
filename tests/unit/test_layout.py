"""The Python side of bpf/counts.h and track.h agrees with the compiled objects."""

from __future__ import annotations

import os

import pytest

from syscount.filters import Selection, filter_config
from syscount.kernel.objects import object_path
from syscount.kernel.structs import COUNTERS, CPU_ROWS, SLOTS
from syscount.names.syscalls import NR_SLOTS
from tests.elf_symbols import symbol_size


def test_counters_struct_size_matches_the_object() -> None:
    path = object_path("counts")
    if not os.path.exists(path):
        pytest.fail(f"{path} is not built: run `make bpf`")
    assert symbol_size(str(path), "counters") == COUNTERS.size
    # struct sc_config: the filter config, then breakdown + pad; the latency config has
    # 4 noreturn slots between the two.
    filter_size = len(filter_config(Selection(), by_pid=False, execve_nr=0, execveat_nr=0))
    assert symbol_size(str(path), "cfg") == filter_size + 8
    assert symbol_size(str(object_path("latency")), "cfg") == filter_size + 16 + 8
    assert symbol_size(str(object_path("track")), "stats") == 8


def test_layout_constants() -> None:
    assert NR_SLOTS == 512 and SLOTS == 2 * NR_SLOTS and CPU_ROWS == 128 + 1  # 128 CPUs + the shared row
    assert COUNTERS.offset("cpu") == 8 * SLOTS  # after the overflow row


def test_filter_config_packs_the_user_choices() -> None:
    packed = filter_config(
        Selection(comm="sleep", uid=1000, syscalls=frozenset({0, 9, 1023}), failed_only=True, errno=2),
        by_pid=True,
        execve_nr=59,
        execveat_nr=322,
        self_tgid=4321,
    )
    assert packed[:6] == bytes([1, 1, 1, 0, 1, 1])
    assert packed[8:24] == (1000).to_bytes(4, "little") + (2).to_bytes(4, "little") + (59).to_bytes(4, "little") + (
        322
    ).to_bytes(4, "little")
    assert packed[24:28] == (4321).to_bytes(4, "little")
    assert packed[28:44] == b"sleep" + bytes(11)
    bitmap = packed[44:]
    assert len(bitmap) == 128 and bitmap[0] == 0b1 and bitmap[1] == 0b10 and bitmap[127] == 0x80
