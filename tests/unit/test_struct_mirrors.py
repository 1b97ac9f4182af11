"""Every struct Python mirrors (syscount/kernel/structs.py) matches the compiled objects' BTF.

A field added, moved or resized in a header without the mirror following fails here,
instead of silently shifting what user space reads."""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from typing import Any

import pytest

from syscount.kernel.layout import CStruct
from syscount.kernel.objects import BPF_DIR, object_path
from syscount.kernel.structs import MIRRORS
from tests.unit.tool_scripts import load_tool

build_bpf = load_tool("build_bpf")


@cache
def btf_types(stem: str) -> dict[int, dict[str, Any]]:
    path = object_path(stem)
    if not os.path.exists(path):
        pytest.fail(f"{path} is not built: run `make bpf`")
    return dump_btf(path)


def dump_btf(path: str) -> dict[int, dict[str, Any]]:
    dump = subprocess.run(["bpftool", "-j", "btf", "dump", "file", path], capture_output=True, text=True, check=True)
    return {entry["id"]: entry for entry in json.loads(dump.stdout)["types"]}


def type_size(types: dict[int, dict[str, Any]], type_id: int) -> int:
    entry = types[type_id]
    kind = entry["kind"]
    if kind in ("INT", "STRUCT", "UNION", "ENUM"):
        return int(entry["size"])
    if kind == "ARRAY":
        return int(entry["nr_elems"]) * type_size(types, entry["type_id"])
    if kind in ("TYPEDEF", "VOLATILE", "CONST"):
        return type_size(types, entry["type_id"])
    raise AssertionError(f"unexpected BTF kind {kind}")


def find_struct(types: dict[int, dict[str, Any]], name: str) -> dict[str, Any] | None:
    found = [t for t in types.values() if t["kind"] == "STRUCT" and t.get("name") == name]
    return found[0] if found else None


@cache
def probe_types(stem: str, name: str, tmp: str) -> dict[int, dict[str, Any]]:
    """A struct only used through pointers has no BTF in the object: compile one global
    of it from the same header, with the same flags as the Makefile."""
    source = os.path.join(tmp, f"probe_{name}.c")
    with open(source, "w", encoding="utf-8") as out:
        out.write("#include <linux/types.h>\n#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n")
        out.write(f'#include "{stem}.h"\n')
        out.write(f"struct {name} probe;\n")
    target = source[:-2] + ".o"
    # The flags tools/build_bpf.py builds the objects with, for this machine, plus the headers' directory.
    machine = next(t for t in build_bpf.TARGETS if t.machine == os.uname().machine)
    clang, *flags = build_bpf.command(build_bpf.find_clang(), machine, source, target)
    subprocess.run([clang, f"-I{BPF_DIR}", *flags], check=True)
    return dump_btf(target)


@pytest.mark.parametrize(("stem", "mirror"), MIRRORS, ids=[f"{stem}:{m.name}" for stem, m in MIRRORS])
def test_mirror_matches_btf(stem: str, mirror: CStruct, tmp_path_factory: pytest.TempPathFactory) -> None:
    types = btf_types(stem)
    btf = find_struct(types, mirror.name)
    if btf is None:
        types = probe_types(stem, mirror.name, str(tmp_path_factory.mktemp("probe")))
        btf = find_struct(types, mirror.name)
    assert btf is not None, f"struct {mirror.name} is in neither {stem}.bpf.o nor {stem}.h"
    assert [m["name"] for m in btf["members"]] == list(mirror.fields), "members and their order"
    for member in btf["members"]:
        field = mirror.fields[member["name"]]
        assert (field.offset, field.size) == (member["bits_offset"] // 8, type_size(types, member["type_id"])), (
            f"{mirror.name}.{field.name}: (offset, size)"
        )
    assert mirror.size == btf["size"]


def test_every_struct_python_reads_is_mirrored() -> None:
    """Each shared struct of the headers has a mirror (kernel-only ones are listed)."""
    kernel_only = {"sc_lat_start", "sc_lat_running", "sc_trace_task", "sc_trace_running", "pt_regs"}
    mirrored = {mirror.name for _, mirror in MIRRORS}
    for stem in ("counts", "latency", "trace", "track"):
        structs = [t for t in btf_types(stem).values() if t["kind"] == "STRUCT"]
        names = {t["name"] for t in structs if t.get("name", "").startswith("sc_")}
        assert names - mirrored - kernel_only == set(), stem
