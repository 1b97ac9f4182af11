"""The objects for every machine: the choice by `uname -m`, and each object's BTF and programs.

Both machines' objects are opened with libbpf (no load, so no root): libbpf parses their
ELF and BTF exactly as it would before loading them on that machine.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest

from syscount.errors import NotSupported
from syscount.kernel import objects
from syscount.kernel.objects import MACHINES, BpfObject, object_dir, object_path

SOURCES = Path(objects.BPF_DIR)
STEMS = sorted(path.name.removesuffix(".bpf.c") for path in SOURCES.glob("*.bpf.c"))
# SEC("<section>") then the function: int name(...) or int BPF_PROG(name, ...)
_PROGRAM = re.compile(r'^SEC\("([^"]+)"\)\s*\nint\s+(?:BPF_PROG\()?(\w+)', re.MULTILINE)


def declared_programs(stem: str) -> list[tuple[str, str]]:
    """(name, section) of each program, as the C source declares them."""
    text = (SOURCES / f"{stem}.bpf.c").read_text()
    return [(name, section) for section, name in _PROGRAM.findall(text)]


def test_each_machine_has_its_own_directory() -> None:
    assert object_path("counts", "x86_64") == os.path.join(objects.BPF_DIR, "x86_64", "counts.bpf.o")
    assert object_path("counts", "aarch64") == os.path.join(objects.BPF_DIR, "aarch64", "counts.bpf.o")


def test_the_running_machine_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.uname()
    for machine in MACHINES:
        fake = os.uname_result((real.sysname, real.nodename, real.release, real.version, machine))
        monkeypatch.setattr(os, "uname", lambda fake=fake: fake)
        assert object_dir() == os.path.join(objects.BPF_DIR, machine)
        assert BpfObject("counts").path == os.path.join(objects.BPF_DIR, machine, "counts.bpf.o")


@pytest.mark.parametrize("machine", ["riscv64", "i686", "armv7l", "ppc64le", "s390x"])
def test_other_machines_get_one_clear_error(machine: str) -> None:
    with pytest.raises(NotSupported) as caught:
        object_path("counts", machine)
    message = str(caught.value)
    assert message.startswith(f"this machine ({machine}) is not supported here: ")
    assert "built for x86_64 and aarch64 only" in message and "syscount doctor" in message
    assert "\n" not in message


def test_every_source_is_built_for_every_machine() -> None:
    assert STEMS == ["counts", "floor", "latency", "trace", "track"]
    for machine in MACHINES:
        built = sorted(path.name for path in Path(object_dir(machine)).glob("*.bpf.o"))
        assert built == [f"{stem}.bpf.o" for stem in STEMS], f"run `make bpf` ({machine})"


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("stem", STEMS)
def test_object_has_btf_and_the_declared_programs(machine: str, stem: str) -> None:
    expected = declared_programs(stem)
    assert expected, f"no programs found in {stem}.bpf.c"
    with BpfObject(stem, machine) as bpf:
        assert bpf.has_btf()
        assert sorted(bpf.programs()) == sorted(expected)


def section_bytes(path: str, name: str) -> bytes:
    """The contents of ELF section ``name`` (64-bit little-endian, as BPF objects are)."""
    data = Path(path).read_bytes()
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names = headers[shstrndx]
    for header in headers:
        start = names[4] + header[0]
        if data[start : data.index(b"\0", start)].decode() == name:
            return data[header[4] : header[4] + header[5]]
    raise AssertionError(f"no section {name} in {path}")


# The ABI check of abi.h reads one register of the frame: x86-64's cs (16 bits at 17 * 8)
# or arm64's pstate (64 bits at 33 * 8). BPF_LDX | BPF_MEM | size: 0x69 is 16 bits, 0x79 64.
FRAME_LOADS = {"x86_64": (0x69, 136), "aarch64": (0x79, 264)}


@pytest.mark.parametrize("machine", MACHINES)
def test_each_object_reads_its_own_machines_register_frame(machine: str) -> None:
    code = section_bytes(object_path("counts", machine), "tp_btf/sys_enter")
    loads = {(insn[0], struct.unpack_from("<h", insn, 2)[0]) for (insn,) in struct.iter_unpack("8s", code)}
    assert FRAME_LOADS[machine] in loads
    others = {other for name, other in FRAME_LOADS.items() if name != machine}
    assert not others & loads
