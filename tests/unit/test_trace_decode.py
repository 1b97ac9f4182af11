"""syscount trace: tracefs signatures, argument kinds, value decoders, the ring buffer walk, layout, CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from syscount.cli.trace import parse, parse_size
from syscount.errors import UsageError
from syscount.filters import Filters, Selection
from syscount.kernel.objects import object_path
from syscount.kernel.ringbuf import BUSY_BIT, DISCARD_BIT, complete, record_size, records, valid_size
from syscount.kernel.structs import CPU_ROWS, SLOTS, TRACE_CAP
from syscount.names.syscalls import NR_SLOTS, table_for
from syscount.programs.trace import TraceOptions, arg_captures, check_options, trace_config
from syscount.trace import values as v
from syscount.trace.captures import ARGV, BUF, STR
from syscount.trace.kinds import Kind, arg_kind, kinds
from syscount.trace.record import STR_HEAD, TraceConstants
from syscount.trace.signatures import Arg, Signature, parse_format, read_signatures
from syscount.trace.strings import CString, StringArray, parse_strings, text_value
from tests.elf_symbols import symbol_size

C = TraceConstants.from_header()
OPENAT_FORMAT = """\
name: sys_enter_openat
ID: 782
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;
\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;
\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;

print fmt: "dfd: 0x%08lx, filename: 0x%08lx, flags: 0x%08lx, mode: 0x%08lx", ((unsigned long)(REC->dfd))
"""


def test_parse_format_gives_names_and_types_in_order() -> None:
    assert parse_format(OPENAT_FORMAT) == (
        Arg("dfd", "int"),
        Arg("filename", "const char *"),
        Arg("flags", "int"),
        Arg("mode", "umode_t"),
    )
    execve = "\tfield:const char *const * argv;\toffset:24;\tsize:8;\tsigned:0;\n"
    assert parse_format(execve) == (Arg("argv", "const char * const *"),)


def test_read_signatures_from_a_tracefs_tree(tmp_path: Path) -> None:
    events = tmp_path / "events" / "syscalls"
    for name in ("openat", "newstat"):
        (events / f"sys_enter_{name}").mkdir(parents=True)
        (events / f"sys_enter_{name}" / "format").write_text(OPENAT_FORMAT)
    signatures = read_signatures(table_for("x86_64"), tmp_path)
    assert set(signatures) == {257, 4}  # openat, and stat under its entry point's name
    assert signatures[4].name == "stat"


def test_argument_kinds() -> None:
    openat = Signature("openat", parse_format(OPENAT_FORMAT))
    assert kinds(openat) == (Kind.DIRFD, Kind.STRING, Kind.OPEN_FLAGS, Kind.OPEN_MODE)
    assert set(arg_captures(openat, native=True)) == {1}
    execve = Signature(
        "execve", (Arg("filename", "const char *"), Arg("argv", "const char * const *"), Arg("envp", "x **"))
    )
    assert arg_captures(execve, native=True) == {0: bytes([STR, 0, 0, 0]), 1: bytes([ARGV, 0, 0, 0])}
    assert arg_kind("write", Arg("buf", "const char *")) is Kind.CAPTURED  # a buffer, not a string
    write = Signature("write", (Arg("fd", "unsigned int"), Arg("buf", "const char *"), Arg("count", "size_t")))
    assert arg_captures(write, native=True) == {1: bytes([BUF, 2, 0, 0])}  # length: argument 2
    assert arg_captures(write, native=False) == {}  # compat: pointers
    assert arg_kind("sethostname", Arg("name", "char *")) is Kind.POINTER
    assert arg_kind("mmap", Arg("fd", "unsigned long")) is Kind.FD
    assert arg_kind("mmap", Arg("addr", "unsigned long")) is Kind.POINTER
    assert arg_kind("read", Arg("count", "size_t")) is Kind.ULONG
    assert arg_kind("lseek", Arg("offset", "off_t")) is Kind.LONG
    assert arg_kind("setuid", Arg("uid", "uid_t")) is Kind.UINT
    assert arg_kind("mkdir", Arg("mode", "umode_t")) is Kind.MODE
    assert arg_kind("faccessat2", Arg("flags", "int")) is Kind.AT_FLAGS_ACCESS


def test_value_decoders() -> None:
    assert v.open_flags(0o2000000) == "O_RDONLY|O_CLOEXEC"
    assert v.open_flags(0o4010002) == "O_RDWR|O_SYNC"
    assert v.open_flags(0o20200000 | 2) == "O_RDWR|O_TMPFILE"
    assert v.open_flags(0o200000 | 0o4000 | 0x80000000) == "O_RDONLY|O_NONBLOCK|O_DIRECTORY|0x80000000"
    assert v.mmap_prot(0) == "PROT_NONE"
    assert v.mmap_flags(0x812) == "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE"
    assert v.at_flags(0x1100) == "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"
    assert v.at_flags(0) == "0"
    assert v.at_flags(0x200, v.AT_FLAGS_UNLINK) == "AT_REMOVEDIR"
    assert v.access_mode(0) == "F_OK"
    assert v.file_mode(0o100644) == "S_IFREG|0644"
    assert v.file_mode(0) == "0000"
    assert v.dirfd(0xFFFFFF9C) == "AT_FDCWD"
    assert v.dirfd(0xFFFFFFFF) == "-1"
    assert v.error_text(-2) == "-1 ENOENT (No such file or directory)"
    assert v.error_text(-512) == "-1 ERESTARTSYS (Restart the system call after the signal handler (kernel-internal))"
    assert v.int32(0x1_FFFF_FFFF) == -1 and v.int64(2**64 - 2) == -2
    assert v.signal_name(9) == "SIGKILL" and v.whence(1) == "SEEK_CUR"


def test_memo_remembers_and_stays_bounded() -> None:
    calls: list[int] = []

    def decoder(value: int) -> str:
        calls.append(value)
        return str(value)

    memo = v.Memo(decoder)
    assert memo[5] == "5" and memo[5] == "5" and calls == [5]
    memo.LIMIT = 3
    for value in range(10):
        assert memo[value] == str(value)
    assert len(memo) <= 3


def test_parse_strings() -> None:
    head = STR_HEAD.pack
    data = (
        b"xx"
        + head(0, 0, 3)
        + b"abc"
        + head(1, C.str_element, 2)
        + b"-l"
        + head(1, C.str_element | C.str_more, 0)
        + head(2, C.str_fault, 0)
        + head(3, C.str_truncated, 4)
        + b"long"
    )
    assert parse_strings(data, 2, len(data) - 2) == {
        0: CString(b"abc", False),
        1: StringArray((CString(b"-l", False),), True),
        2: None,
        3: CString(b"long", True),
    }


def test_strings_are_quoted_and_escaped_by_the_one_rule() -> None:
    assert text_value(CString(b"/etc/passwd", False)) == '"/etc/passwd"'
    assert text_value(CString(b"tab\there", True)) == '"tab\\there"...'
    assert text_value(CString("é".encode(), False)) == '"é"'  # printable non-ASCII kept
    assert text_value(CString(b"\x1b]0;x\x07\xff", False)) == '"\\033]0;x\\007\\xff"'


def _header(length: int) -> bytes:
    return length.to_bytes(4, "little") + bytes(4)


def test_ring_walk_stops_at_busy_and_partial_records() -> None:
    a = _header(5) + b"aaaaa" + bytes(3)
    b = _header(8) + b"bbbbbbbb"
    busy = _header(8 | BUSY_BIT) + bytes(8)
    discarded = _header(3 | DISCARD_BIT) + bytes(8)
    assert record_size(5) == 16 and record_size(8) == 16
    assert complete(a + b + busy + a) == 32
    assert complete(a + b[:10]) == 16
    assert records(a + discarded + b) == [(8, 5), (40, 8)]
    assert valid_size(4096) and valid_size(1 << 24) and not valid_size(3 << 20) and not valid_size(2048)


def _btf_struct_sizes(obj: str) -> dict[str, int]:
    out = subprocess.run(["bpftool", "-j", "btf", "dump", "file", obj], capture_output=True, text=True, check=True)
    return {t["name"]: t["size"] for t in json.loads(out.stdout)["types"] if t.get("kind") == "STRUCT"}


def test_python_mirror_matches_the_object() -> None:
    path = object_path("trace")
    if not Path(path).exists():
        pytest.fail(f"{path} is not built: run `make bpf`")
    table = table_for("x86_64")
    config = trace_config(Filters(Selection(), None, table), {}, [table], TraceOptions(), C)
    assert symbol_size(path, "cfg") == len(config)
    assert symbol_size(path, "counters") == CPU_ROWS * 64
    sizes = _btf_struct_sizes(path)
    assert sizes["sc_trace_event"] == 104
    assert sizes["sc_trace_config"] == len(config)
    assert sizes["sc_trace_cpu"] == 64


def test_config_marks_strings_and_calls_per_slot() -> None:
    x86_64, i386 = table_for("x86_64"), table_for("i386")
    openat = Signature("openat", parse_format(OPENAT_FORMAT))
    signatures = {257: openat, NR_SLOTS + 295: openat}
    config = trace_config(Filters(Selection(), None, x86_64), signatures, [x86_64, i386], TraceOptions(), C)
    base = len(Filters(Selection(), None, x86_64).config())
    settings = [int.from_bytes(config[base + i : base + i + 4], "little") for i in range(0, 16, 4)]
    assert settings == [256, 32, 32, (16 << 20) // 8]  # str_max, argv_max, data_max (-s), wake-up
    calls = config[base + 16 : base + 16 + SLOTS]
    caps = config[base + 16 + SLOTS :]
    cap = TRACE_CAP.size

    def how(slot: int, arg: int) -> int:
        return caps[(slot * C.args + arg) * cap]

    assert how(257, 1) == STR and how(NR_SLOTS + 295, 1) == STR  # openat's filename, both ABIs
    assert [how(257, arg) for arg in (0, 2, 3)] == [0, 0, 0]
    assert calls[257] == C.call_capture and calls[NR_SLOTS + 295] == C.call_capture
    assert calls[231] == C.call_noreturn and calls[59] == C.call_exec  # x86_64 exit_group, execve
    assert calls[NR_SLOTS + 252] == C.call_noreturn and calls[NR_SLOTS + 11] == C.call_exec  # i386


def test_options_are_checked() -> None:
    check_options(TraceOptions(), C)
    bad_options = (
        TraceOptions(buffer_size=3 << 20),
        TraceOptions(str_max=0),
        TraceOptions(str_max=C.str_max + 1),
        TraceOptions(data_max=C.data_max + 1),
    )
    for bad in bad_options:
        with pytest.raises(UsageError):
            check_options(bad, C)


def test_parse_size() -> None:
    assert parse_size("16M") == 16 << 20
    assert parse_size("256k") == 256 << 10
    assert parse_size("64MiB") == 64 << 20
    assert parse_size("4096") == 4096


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--buffer-size", "lots"], "not a size"),
        (["--strings", "0"], "whole number > 0"),
        (["-p", "1", "--", "ls"], "cannot be combined"),
        (["--bogus"], "unknown option"),
        (["stray"], "unexpected argument"),
        (["--"], "no command given"),
        (["--format", "csv"], "invalid choice"),
        (["-e", "ENOTANERRNO"], "unknown errno"),
    ],
)
def test_usage_errors_are_one_line(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(argv)


def test_parse_defaults_and_filters() -> None:
    args = parse(["-x", "-s", "getppid", "--format", "json", "--", "true"])
    assert args.command == ("true",) and args.format == "json"
    assert args.selection.failed_only and args.selection.syscalls == frozenset({110, 512 + 64})  # getppid, i386 too
    assert (args.buffer_size, args.str_max, args.argv_max) == (16 << 20, 256, 32)
