"""syscount trace: records built by hand, decoded, compared with the exact text and JSON."""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from syscount.kernel.ringbuf import BUSY_BIT, DISCARD_BIT, record_size
from syscount.names.syscalls import NR_SLOTS, SyscallTable, slot_name, table_for
from syscount.trace.jsonl import JsonLine
from syscount.trace.record import EVENT_SIZE, RECORD, STR_HEAD, TraceConstants
from syscount.trace.signatures import Signature, from_prototypes
from syscount.trace.sink import EventSink, FdOutput, Loss, StreamFormat, Totals
from syscount.trace.stream import decode, joined
from syscount.trace.text import TextLine

C = TraceConstants.from_header()
TABLES = [table_for("x86_64"), table_for("i386")]
PROTOTYPES = {
    "openat": [("int", "dfd"), ("const char *", "filename"), ("int", "flags"), ("umode_t", "mode")],
    "close": [("unsigned int", "fd")],
    "getppid": [],
    "mmap": [
        ("unsigned long", "addr"),
        ("unsigned long", "len"),
        ("unsigned long", "prot"),
        ("unsigned long", "flags"),
        ("unsigned long", "fd"),
        ("unsigned long", "off"),
    ],
    "execve": [("const char *", "filename"), ("const char *const *", "argv"), ("const char *const *", "envp")],
    "exit_group": [("int", "error_code")],
    "unlinkat": [("int", "dfd"), ("const char *", "pathname"), ("int", "flag")],
    "access": [("const char *", "filename"), ("int", "mode")],
    "kill": [("pid_t", "pid"), ("int", "sig")],
    "lseek": [("unsigned int", "fd"), ("off_t", "offset"), ("unsigned int", "whence")],
}
SIGNATURES: dict[int, Signature] = from_prototypes(TABLES[0], PROTOTYPES)
SIGNATURES |= {NR_SLOTS + nr: sig for nr, sig in from_prototypes(TABLES[1], PROTOTYPES).items()}
NORETURN = frozenset({231, NR_SLOTS + 231, 60})
COMM = b"ls".ljust(16, b"\0")
# Entry time chosen so that the wall clock reads 2026-11-24 22:51:36.123456 UTC.
WALL_NS = 1795560696123456789
START_NS = 1_000_000_000_000
OFFSET = WALL_NS - START_NS


def nr(name: str, table: SyscallTable = TABLES[0]) -> int:
    number = table.number(name)
    assert number is not None
    return number


def record(
    name: str,
    args: tuple[int, ...] = (),
    ret: int = 0,
    *,
    duration: int = 12345,
    strings: bytes = b"",
    flags: int = 0,
    key: int | None = None,
    pid: int = 1234,
    tid: int = 1235,
    length: int | None = None,
    comm: bytes = COMM,
) -> bytes:
    """One ring buffer record: header, event, string data, padding."""
    padded = (tuple(args) + (0,) * 6)[:6]
    data_len = EVENT_SIZE + len(strings)
    body = RECORD.pack(
        data_len if length is None else length,
        0,
        START_NS,
        duration,
        ret,
        *padded,
        pid,
        tid,
        nr(name) if key is None else key,
        flags,
        len(strings),
        comm.ljust(16, b"\0"),
    )
    whole = body + strings
    return whole + bytes(record_size(data_len) - len(whole))


def string(arg: int, data: bytes, flags: int = 0) -> bytes:
    return STR_HEAD.pack(arg, flags, len(data)) + data


def sink(line: StreamFormat) -> EventSink:
    return EventSink(FdOutput(-1), line, partial(slot_name, TABLES), SIGNATURES, NORETURN)


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    import time

    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def text(*records: bytes) -> list[str]:
    lines: list[str] = []
    consumed, events = decode(b"".join(records), sink(TextLine(OFFSET)).formatters, lines)
    assert consumed == sum(map(len, records)) and events == len(lines)
    return lines


def json_records(*records: bytes) -> list[dict[str, Any]]:
    lines: list[str] = []
    decode(b"".join(records), sink(JsonLine(OFFSET)).formatters, lines)
    return [json.loads(line) for line in lines]


OPENAT = record(
    "openat",
    (0xFFFFFF9C, 0x7FFD0000, 0o2000000, 0),
    3,
    strings=string(1, b"/etc/ld.so.cache"),
)


def test_openat_reads_as_strace_with_names() -> None:
    assert text(OPENAT) == [
        '22:51:36.123456 1234/1235 ls openat(dfd=AT_FDCWD, filename="/etc/ld.so.cache", flags=O_RDONLY|O_CLOEXEC)'
        " = 3 <0.000012>\n"
    ]


def test_openat_as_json() -> None:
    lines: list[str] = []
    decode(OPENAT, sink(JsonLine(OFFSET)).formatters, lines)
    assert lines == [
        '{"time":"2026-11-24T22:51:36.123456Z","pid":1234,"tid":1235,"comm":"ls","syscall":"openat",'
        '"args":{"dfd":"AT_FDCWD","filename":"/etc/ld.so.cache","flags":"O_RDONLY|O_CLOEXEC"},'
        '"ret":3,"errno":null,"duration_ns":12345}\n'
    ]


def test_errors_show_errno_name_and_text() -> None:
    failed = record("openat", (0xFFFFFF9C, 1, 0, 0), -2, strings=string(1, b"/nope"))
    assert text(failed)[0].endswith(
        'openat(dfd=AT_FDCWD, filename="/nope", flags=O_RDONLY) = -1 ENOENT (No such file or directory) <0.000012>\n'
    )
    (event,) = json_records(failed)
    assert (event["ret"], event["errno"]) == (-1, "ENOENT")


def test_open_mode_only_when_creating() -> None:
    creating = record("openat", (3, 1, 0o1 | 0o100 | 0o1000, 0o644), 4, strings=string(1, b"f"))
    assert 'openat(dfd=3, filename="f", flags=O_WRONLY|O_CREAT|O_TRUNC, mode=0644) = 4' in text(creating)[0]
    assert json_records(creating)[0]["args"]["mode"] == "0644"


def test_ints_are_sign_correct_and_pointers_hex() -> None:
    anonymous = record("mmap", (0, 8192, 3, 0x22, 0xFFFFFFFFFFFFFFFF, 0), 0x7F0000001000)
    assert text(anonymous)[0].split(" ", 3)[3] == (
        "mmap(addr=NULL, len=8192, prot=PROT_READ|PROT_WRITE, flags=MAP_PRIVATE|MAP_ANONYMOUS, fd=-1, off=0)"
        " = 0x7f0000001000 <0.000012>\n"
    )
    assert json_records(anonymous)[0]["args"] == {
        "addr": None,
        "len": 8192,
        "prot": "PROT_READ|PROT_WRITE",
        "flags": "MAP_PRIVATE|MAP_ANONYMOUS",
        "fd": -1,
        "off": 0,
    }
    assert "close(fd=-1) = -1 EBADF (Bad file descriptor)" in text(record("close", (0xFFFFFFFF,), -9))[0]


def test_other_decoders() -> None:
    assert (
        'unlinkat(dfd=AT_FDCWD, pathname="d", flag=AT_REMOVEDIR) = 0'
        in text(record("unlinkat", (0xFFFFFF9C, 1, 0x200), strings=string(1, b"d")))[0]
    )
    assert 'access(filename="x", mode=R_OK|X_OK) = 0' in text(record("access", (1, 5), strings=string(0, b"x")))[0]
    assert "kill(pid=-1, sig=SIGTERM) = 0" in text(record("kill", (0xFFFFFFFF, 15)))[0]
    assert "lseek(fd=3, offset=-1, whence=SEEK_END) = 0" in text(record("lseek", (3, 2**64 - 1, 2)))[0]


def test_exit_group_never_returns() -> None:
    ended = record("exit_group", (7,), flags=C.noreturn, duration=0)
    assert text(ended) == ["22:51:36.123456 1234/1235 ls exit_group(error_code=7) = ?\n"]
    (event,) = json_records(ended)
    assert (event["ret"], event["errno"], event["duration_ns"]) == (None, None, None)


def test_execve_argv_and_truncation() -> None:
    data = (
        string(0, b"/usr/bin/ls")
        + string(1, b"ls", C.str_element)
        + string(1, b"-l", C.str_element)
        + string(1, b"a-long-na", C.str_element | C.str_truncated)
        + string(1, b"", C.str_element | C.str_more)
    )
    event = record("execve", (1, 2, 0x7FFE0000), strings=data)
    assert text(event)[0].split(" ", 3)[3] == (
        'execve(filename="/usr/bin/ls", argv=["ls", "-l", "a-long-na"..., ...], envp=0x7ffe0000) = 0 <0.000012>\n'
    )
    (decoded,) = json_records(event)
    assert decoded["args"]["argv"] == ["ls", "-l", "a-long-na"]
    assert decoded["truncated"] == ["argv"]


def test_unreadable_string_shows_the_pointer() -> None:
    faulted = record("openat", (0xFFFFFF9C, 0xDEAD, 0, 0), -14, strings=string(1, b"", C.str_fault))
    assert "openat(dfd=AT_FDCWD, filename=0xdead, flags=O_RDONLY) = -1 EFAULT (Bad address)" in text(faulted)[0]
    assert json_records(faulted)[0]["args"]["filename"] == "0xdead"


def test_strings_are_escaped() -> None:
    odd = record("openat", (0xFFFFFF9C, 1, 0, 0), 3, strings=string(1, b'a"b\\c\nd\x01\xff'))
    assert 'filename="a\\"b\\\\c\\nd\\001\\xff"' in text(odd)[0]
    assert json_records(odd)[0]["args"]["filename"] == 'a"b\\c\nd\x01\\xff'


def test_compat_calls_are_named_from_their_table() -> None:
    key = NR_SLOTS + nr("getppid", TABLES[1])
    assert "ls i386:getppid() = 1 <" in text(record("getppid", ret=1, key=key))[0]
    assert json_records(record("getppid", ret=1, key=key))[0]["syscall"] == "i386:getppid"


def test_unknown_calls_show_raw_arguments() -> None:
    assert (
        "unknown(500)(arg0=0x1, arg1=NULL, arg2=NULL, arg3=NULL, arg4=NULL, arg5=NULL) = 0"
        in text(record("getppid", (1,), key=500))[0]  # events carry slots: native number 500
    )
    assert (
        "i386:unknown(487)(arg0=0x1, arg1=NULL, arg2=NULL, arg3=NULL, arg4=NULL, arg5=NULL) = 0"
        in text(record("getppid", (1,), key=999))[0]
    )


def test_decode_stops_at_a_record_being_written_and_skips_discarded() -> None:
    first = record("getppid", ret=5)
    busy = record("getppid", ret=6, length=EVENT_SIZE | BUSY_BIT)
    lines: list[str] = []
    formatters = sink(TextLine(OFFSET)).formatters
    assert decode(first + busy + first, formatters, lines) == (len(first), 1)
    assert len(lines) == 1
    discarded = record("getppid", ret=6, length=EVENT_SIZE | DISCARD_BIT)
    lines.clear()
    assert decode(discarded + first + first[:50], formatters, lines) == (2 * len(first), 1)
    assert [line.split(" = ")[1][0] for line in lines] == ["5"]


def test_a_run_of_fixed_records_around_string_records() -> None:
    getppid = record("getppid", ret=77)
    lines = text(getppid, getppid, OPENAT, getppid, record("close", (3,)), getppid)
    assert [line.split(" ")[3].split("(")[0] for line in lines] == [
        "getppid",
        "getppid",
        "openat",
        "getppid",
        "close",
        "getppid",
    ]


def test_loss_and_final_lines() -> None:
    totals = Totals(events=10, lost=5, calls=15, duration_s=1.5, lost_by_cpu={0: 2, 1: 3}, no_storage=0)
    assert TextLine(0).loss_line(Loss(3, 5)) == "# lost 3 events (5 so far): the ring buffer was full\n"
    assert TextLine(0).final_line(totals) == "# final: 10 events, 5 lost, 15 calls traced in 1.500 s\n"
    loss = json.loads(JsonLine(0).loss_line(Loss(3, 5)))
    assert (loss["lost"], loss["lost_total"], "syscall" in loss) == (3, 5, False)
    final = json.loads(JsonLine(0).final_line(totals))
    assert {k: final[k] for k in ("final", "events", "lost", "calls", "lost_by_cpu")} == {
        "final": True,
        "events": 10,
        "lost": 5,
        "calls": 15,
        "lost_by_cpu": {"0": 2, "1": 3},
    }


def test_sink_writes_batches_and_counts_events(tmp_path: Any) -> None:
    path = tmp_path / "out"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        out = EventSink(FdOutput(fd), TextLine(OFFSET), partial(slot_name, TABLES), SIGNATURES, NORETURN)
        span = record("getppid", ret=1) * 3
        assert out.batch(span + span[:20]) == len(span)
        out.final(Totals(3, 0, 3, 0.1, {}, 0))
    finally:
        os.close(fd)
    lines = path.read_text().splitlines()
    assert out.events == 3 and len(lines) == 4 and lines[-1].startswith("# final: 3 events")


def test_record_layout() -> None:
    assert (EVENT_SIZE, RECORD.size, STR_HEAD.size) == (104, 112, 4)
    assert struct.calcsize("=QQq6QIIIHH16s") == EVENT_SIZE


def _mixed_records(count: int) -> bytes:
    """A flood-like mix: long runs of a few calls, errors, and string records now and then."""
    parts = []
    for i in range(count):
        if i % 997 == 0:
            parts.append(OPENAT)
        elif i % 7 == 0:
            parts.append(record("close", (0xFFFFFFFF,), -9, duration=i * 1000, tid=1235 + i % 3))
        elif i % 11 == 0:
            parts.append(record("mmap", (0, 4096 * i, 3, 0x22, 2**64 - 1, 0), 0x7F0000000000 + i * 4096))
        elif i % 13 == 0:
            parts.append(record("openat", (3, 0, 0o101, 0o600), 5, key=257))  # no string data: pointer shown
        elif i % 17 == 0:
            parts.append(record("kill", (2**32 - 5, 9), -3, pid=2**31 + i))
        else:
            parts.append(record("getppid", ret=i, duration=i * 7919, tid=1235 + i % 2))
    parts.append(record("exit_group", (1,), flags=C.noreturn, duration=0))
    return b"".join(parts)


@pytest.mark.parametrize("line_format", [TextLine, JsonLine])
def test_numpy_batches_render_exactly_the_per_event_text(line_format: type[TextLine] | type[JsonLine]) -> None:
    pytest.importorskip("numpy")
    from syscount.trace.vector import Vectorized

    span = _mixed_records(5000)
    per_event: list[str] = []
    assert decode(span, sink(line_format(OFFSET)).formatters, per_event) == (len(span), 5001)
    formatters = sink(line_format(OFFSET)).formatters
    batched: list[str] = []
    assert decode(span, formatters, batched, Vectorized(formatters)) == (len(span), 5001)
    assert len(batched) < 200  # most events came in numpy-rendered pieces
    assert joined(batched) == joined(per_event)


HOSTILE_COMM = b"ev\x1b]0;x\x07\x1b[2J\r\n\xff"  # 15 bytes: retitle, clear, a line break, not UTF-8


@pytest.mark.parametrize("vectorized", [False, True])
def test_a_hostile_thread_name_is_escaped_in_text_and_exact_in_json(vectorized: bool) -> None:
    span = b"".join(record("getppid", ret=1, comm=HOSTILE_COMM) for _ in range(300))
    outputs = {}
    for line_format in (TextLine, JsonLine):
        formatters = sink(line_format(OFFSET)).formatters
        lines: list[str] = []
        vector = None
        if vectorized:
            pytest.importorskip("numpy")
            from syscount.trace.vector import Vectorized

            vector = Vectorized(formatters)
        assert decode(span, formatters, lines, vector) == (len(span), 300)
        outputs[line_format] = joined(lines).decode()
    text = outputs[TextLine]
    assert not set(text) & {"\x1b", "\x07", "\r"} and text.count("\n") == 300
    assert text.count(" 1234/1235 ev\\033]0;x\\007\\033[2J\\r\\n\\xff getppid() = 1 <") == 300
    records = [json.loads(line) for line in outputs[JsonLine].splitlines()]
    assert {r["comm"] for r in records} == {"ev\x1b]0;x\x07\x1b[2J\r\n\\xff"}
