"""Syscall and errno tables: spot checks against the kernel's numbering, and the generator's ABI rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from syscount.errors import NotSupported
from syscount.names.errnos import errno_description, errno_name, errno_number
from syscount.names.syscalls import SyscallTable, compat_table, native_table, table_for
from syscount.names.tables import aarch64 as aarch64_module
from syscount.names.tables import i386 as i386_module
from syscount.names.tables import x86_64 as x86_64_module
from tests.unit.tool_scripts import load_tool

REPO = Path(__file__).resolve().parents[2]
GENERATED = {
    "x86_64": x86_64_module,
    "i386": i386_module,
    "aarch64": aarch64_module,
}


gen = load_tool("gen_syscall_tables")


# --- x86_64 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("nr", "name"),
    [
        (0, "read"),
        (1, "write"),
        (2, "open"),
        (39, "getpid"),
        (59, "execve"),
        (110, "getppid"),
        (185, "security"),  # reserved, no entry point: kept on purpose
        (257, "openat"),
        (321, "bpf"),
        (334, "rseq"),
        (435, "clone3"),
        (451, "cachestat"),
        (462, "mseal"),
        (467, "open_tree_attr"),
        (469, "file_setattr"),
    ],
)
def test_x86_64_numbers(nr: int, name: str) -> None:
    table = table_for("x86_64")
    assert table.name(nr) == name
    assert table.number(name) == nr


def test_x86_64_has_no_x32_entries() -> None:
    table = table_for("x86_64")
    # 512-547 are x32-only numbers in syscall_64.tbl; the native ABI has nothing there.
    assert not [nr for nr in table.names if 512 <= nr <= 547]
    assert table.name(512) == "unknown(512)"
    assert max(table.names) == 469


# --- i386 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nr", "name"),
    [
        (1, "exit"),
        (3, "read"),
        (4, "write"),
        (5, "open"),
        (6, "close"),
        (20, "getpid"),
        (64, "getppid"),
        (102, "socketcall"),
        (192, "mmap2"),
        (295, "openat"),
        (435, "clone3"),
        (469, "file_setattr"),
    ],
)
def test_i386_numbers(nr: int, name: str) -> None:
    table = table_for("i686")
    assert table.arch == "i386"
    assert table.name(nr) == name


def test_i386_gaps_stay_unknown() -> None:
    table = table_for("i386")
    # "# 222 is unused", "# 223 is unused", "# 251 is available for reuse".
    assert table.name(222) == "unknown(222)"
    assert table.name(223) == "unknown(223)"
    assert table.name(251) == "unknown(251)"


# --- aarch64 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("nr", "name"),
    [
        (25, "fcntl"),  # ABI "64"; the "32" line (fcntl64) must not win
        (56, "openat"),
        (62, "lseek"),
        (63, "read"),
        (64, "write"),
        (79, "newfstatat"),
        (80, "fstat"),
        (172, "getpid"),
        (173, "getppid"),
        (222, "mmap"),
        (435, "clone3"),
        (469, "file_setattr"),
    ],
)
def test_aarch64_numbers(nr: int, name: str) -> None:
    table = table_for("arm64")
    assert table.arch == "aarch64"
    assert table.name(nr) == name


def test_aarch64_abi_selection() -> None:
    table = table_for("aarch64")
    # No legacy calls that the generic table never had.
    assert table.number("open") is None
    assert table.number("fork") is None
    # arm64's Makefile.syscalls enables renameat, rlimit and memfd_secret ...
    assert table.name(38) == "renameat"
    assert table.name(163) == "getrlimit"
    assert table.name(164) == "setrlimit"
    assert table.name(447) == "memfd_secret"
    # ... but not the 32-bit-only ABIs: no time32, stat64 or "32" names anywhere.
    for name in ("fcntl64", "fstatat64", "fstat64", "mmap2", "clock_gettime64", "llseek"):
        assert table.number(name) is None, name
    # and nothing from other architectures' private 244-259 range.
    assert not [nr for nr in table.names if 244 <= nr <= 259]


# --- SyscallTable and selection --------------------------------------------


def test_unknown_numbers() -> None:
    for arch in ("x86_64", "i386", "aarch64"):
        table = table_for(arch)
        assert table.name(9999) == "unknown(9999)"
        assert table.name(-1) == "unknown(-1)"
        assert table.number("no_such_syscall") is None


def test_table_behaviour() -> None:
    table = SyscallTable("test", {5: "five", 1: "one"})
    assert len(table) == 2
    assert table.items() == [(1, "one"), (5, "five")]
    assert table.number("five") == 5
    with pytest.raises(TypeError):
        table.names[2] = "two"  # type: ignore[index]


@pytest.mark.parametrize(
    ("machine", "arch"),
    [
        ("x86_64", "x86_64"),
        ("amd64", "x86_64"),
        ("AMD64", "x86_64"),
        ("aarch64", "aarch64"),
        ("arm64", "aarch64"),
        ("i386", "i386"),
        ("i686", "i386"),
    ],
)
def test_table_for_spellings(machine: str, arch: str) -> None:
    assert table_for(machine).arch == arch


@pytest.mark.parametrize("machine", ["riscv64", "armv7l", "ppc64le", "s390x", ""])
def test_table_for_unsupported(machine: str) -> None:
    with pytest.raises(NotSupported) as info:
        table_for(machine)
    assert "x86_64" in info.value.why


def test_native_and_compat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("syscount.names.syscalls.machine", lambda: "x86_64")
    assert native_table().arch == "x86_64"
    compat = compat_table()
    assert compat is not None and compat.arch == "i386"
    monkeypatch.setattr("syscount.names.syscalls.machine", lambda: "aarch64")
    assert native_table().arch == "aarch64"
    assert compat_table() is None
    monkeypatch.setattr("syscount.names.syscalls.machine", lambda: "mips")
    with pytest.raises(NotSupported):
        native_table()


# --- generated modules ------------------------------------------------------


@pytest.mark.parametrize("arch", sorted(GENERATED))
def test_generated_tables_are_one_to_one(arch: str) -> None:
    names = GENERATED[arch].NAMES
    assert list(names) == sorted(names)
    assert all(isinstance(nr, int) and nr >= 0 for nr in names)
    assert all(name and name.isidentifier() for name in names.values())
    duplicates = {name for name in names.values() if list(names.values()).count(name) > 1}
    assert not duplicates


@pytest.mark.parametrize("arch", sorted(GENERATED))
def test_generated_files_have_header(arch: str) -> None:
    source = (REPO / "src" / "syscount" / "names" / "tables" / f"{arch}.py").read_text(encoding="utf-8")
    head = source.split("NAMES:", 1)[0]
    assert source.startswith("# Generated by tools/gen_syscall_tables.py -- DO NOT EDIT.")
    assert "DO NOT EDIT" in head
    assert "of Linux " in head
    assert "python3 tools/gen_syscall_tables.py" in head
    assert "Rule:" in head


# --- errnos -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("nr", "name"),
    [
        (1, "EPERM"),
        (2, "ENOENT"),
        (9, "EBADF"),
        (11, "EAGAIN"),
        (35, "EDEADLK"),
        (95, "EOPNOTSUPP"),
        (38, "ENOSYS"),
        (512, "ERESTARTSYS"),
        (513, "ERESTARTNOINTR"),
        (514, "ERESTARTNOHAND"),
        (515, "ENOIOCTLCMD"),
        (516, "ERESTART_RESTARTBLOCK"),
        (517, "EPROBE_DEFER"),
        (518, "EOPENSTALE"),
        (519, "ENOPARAM"),
        (521, "EBADHANDLE"),
        (524, "ENOTSUPP"),
        (529, "EIOCBQUEUED"),
        (530, "ERECALLCONFLICT"),
    ],
)
def test_errno_names(nr: int, name: str) -> None:
    assert errno_name(nr) == name
    assert errno_number(name) == nr


def test_errno_lookup_rules() -> None:
    assert errno_number("enoent") == 2
    assert errno_number("ENOENT") == 2
    assert errno_number("EWOULDBLOCK") == 11  # aliases resolve, though EAGAIN is what prints
    assert errno_number("ENOTSUP") == 95
    assert errno_number("EDEADLOCK") == 35
    assert errno_number("ENOTANERRNO") is None
    assert errno_name(999) == "ERRNO_999"
    assert errno_name(520) == "ERRNO_520"  # a hole in include/linux/errno.h


def test_errno_descriptions() -> None:
    assert errno_description(2) == "No such file or directory"
    assert "kernel-internal" in errno_description(512)
    assert errno_description(999)  # libc's "Unknown error 999", never empty


# --- the generator, on small synthetic kernel files ---------------------------


def _write_tree(root: Path, makefile_abis: str) -> None:
    (root / "arch/x86/entry/syscalls").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "arch/arm64/kernel").mkdir(parents=True)
    (root / "arch/x86/entry/syscalls/syscall_64.tbl").write_text(
        "# <number> <abi> <name> <entry point>\n"
        "0\tcommon\tread\t\t\tsys_read\n"
        "1\t64\trt_sigreturn\t\tsys_rt_sigreturn\n"
        "2 \tcommon  odd_spacing\tsys_odd_spacing\n"
        "3\tcommon\treserved\n"
        "\n"
        "512\tx32\trt_sigaction\t\tcompat_sys_rt_sigaction\n"
    )
    (root / "arch/x86/entry/syscalls/syscall_32.tbl").write_text(
        "0\ti386\trestart_syscall\tsys_restart_syscall\n# 1 is unused\n2\ti386\tfork\tsys_fork\n"
    )
    (root / "scripts/syscall.tbl").write_text(
        "25\t32\tfcntl64\t\tsys_fcntl64\t\tcompat_sys_fcntl64\n"
        "25\t64\tfcntl\t\tsys_fcntl\n"
        "38\trenameat renameat\t\tsys_renameat\n"
        "79\tstat64\tfstatat64\tsys_fstatat64\n"
        "79\t64\tnewfstatat\tsys_newfstatat\n"
        "101\ttime32\tnanosleep\tsys_nanosleep_time32\n"
        "101\t64\tnanosleep\tsys_nanosleep\n"
        "163\trlimit\tgetrlimit\tsys_getrlimit\n"
        "244\tarc\tcacheflush\tsys_cacheflush\n"
        "447\tmemfd_secret\tmemfd_secret\tsys_memfd_secret\n"
    )
    (root / "arch/arm64/kernel/Makefile.syscalls").write_text(
        f"# SPDX-License-Identifier: GPL-2.0\n\nsyscall_abis_32 +=\n{makefile_abis}\n\nsyscalltbl = x\n"
    )


def _names(module_path: Path) -> dict[int, str]:
    namespace: dict[str, object] = {}
    exec(module_path.read_text(encoding="utf-8"), namespace)
    names = namespace["NAMES"]
    assert isinstance(names, dict)
    return names


def test_generator_abi_rules(tmp_path: Path) -> None:
    tree, out = tmp_path / "linux", tmp_path / "out"
    _write_tree(tree, "syscall_abis_64 += renameat rlimit")
    assert gen.main(["--linux-tree", str(tree), "--version", "v9.9-test", "--out-dir", str(out)]) == 0

    assert _names(out / "x86_64.py") == {0: "read", 1: "rt_sigreturn", 2: "odd_spacing", 3: "reserved"}
    assert _names(out / "i386.py") == {0: "restart_syscall", 2: "fork"}
    # common + 64 + the Makefile's renameat and rlimit; memfd_secret is not enabled in this tree.
    assert _names(out / "aarch64.py") == {
        25: "fcntl",
        38: "renameat",
        79: "newfstatat",
        101: "nanosleep",
        163: "getrlimit",
    }
    header = (out / "aarch64.py").read_text(encoding="utf-8").split("NAMES:", 1)[0]
    assert "DO NOT EDIT" in header
    assert "of Linux v9.9-test" in header
    assert '"common", "64", "renameat", "rlimit"' in header

    # --check passes on what was just written, and fails once a module is stale.
    check = ["--linux-tree", str(tree), "--version", "v9.9-test", "--out-dir", str(out), "--check"]
    assert gen.main(check) == 0
    (out / "i386.py").write_text("NAMES: dict[int, str] = {}\n")
    assert gen.main(check) == 1


def test_generator_makefile_forms(tmp_path: Path) -> None:
    makefile = tmp_path / "Makefile.syscalls"
    makefile.write_text("syscall_abis_64 += renameat \\\n\trlimit\nsyscall_abis_64 += memfd_secret,renameat\n")
    assert gen.parse_abis_64(makefile) == ["common", "64", "renameat", "rlimit", "memfd_secret"]
    makefile.write_text("syscall_abis_64 +=\n")
    assert gen.parse_abis_64(makefile) == ["common", "64"]
    makefile.write_text("syscall_abis_64 := common\n")  # replaces kbuild's defaults, as make would
    assert gen.parse_abis_64(makefile) == ["common"]


def test_generator_rejects_conflicts(tmp_path: Path) -> None:
    tbl = tmp_path / "x.tbl"
    tbl.write_text("7\tcommon\tone\tsys_one\n7\t64\ttwo\tsys_two\n")
    with pytest.raises(gen.TableError, match="number 7"):
        gen.select(gen.parse_tbl(tbl), ("common", "64"), "x.tbl")
    tbl.write_text("7\tcommon\tsame\tsys_same\n8\t64\tsame\tsys_same\n")
    with pytest.raises(gen.TableError, match="name 'same'"):
        gen.select(gen.parse_tbl(tbl), ("common", "64"), "x.tbl")
    tbl.write_text("seven\tcommon\tx\n")
    with pytest.raises(gen.TableError, match="not a decimal"):
        gen.parse_tbl(tbl)


def test_generator_missing_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gen.main(["--linux-tree", str(tmp_path), "--version", "v0", "--out-dir", str(tmp_path / "o")]) == 2
    assert "not found" in capsys.readouterr().err
