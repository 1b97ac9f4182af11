"""syscount trace against programs whose system calls are known exactly, and against strace -f."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .helpers import ROOT, SYSCOUNT, TIMEOUT, WORKLOAD, held_workload, release, workload_args

FLOOD = ROOT / "tests" / "workloads" / "build" / "flood"
WORKLOAD32 = ROOT / "tests" / "workloads" / "build" / "workload32"
ANNOUNCE = "syscount: tracing system calls"
TRACE_PROGRAMS = {"trace_enter", "trace_exit", "trace_switch"}


def trace(*args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """``syscount trace ARGS``, events written to stdout (-o /dev/stdout), both streams captured."""
    return subprocess.run(
        [*SYSCOUNT, "trace", "-o", "/dev/stdout", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def parse_json(out: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(events, loss records, final record) of a JSON trace."""
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert records and records[-1].get("final") is True, out[-2000:]
    events = [r for r in records if "syscall" in r]
    losses = [r for r in records if "lost_total" in r]
    assert len(events) + len(losses) + 1 == len(records)
    return events, losses, records[-1]


def calls(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["syscall"] == name]


def assert_reconciled(final: dict[str, Any], events: int) -> None:
    assert final["events"] == events
    assert final["events"] + final["lost"] == final["calls"]


def test_known_workload_gives_exactly_its_calls_with_decoded_arguments() -> None:
    argv = workload_args(getppid=3, openclose=2, fail_close=1, fail_open=1, exit=7)
    result = trace("--format", "json", "--", *argv)
    assert result.returncode == 7, result.stderr
    events, losses, final = parse_json(result.stdout)
    assert not losses and final["lost"] == 0
    assert_reconciled(final, len(events))
    syscount_pid = int(calls(events, "getppid")[0]["ret"])  # the workload is syscount's child
    pid = events[0]["pid"]
    assert {e["pid"] for e in events} == {pid} and {e["tid"] for e in events} == {pid}

    execve = events[0]
    assert execve["syscall"] == "execve" and execve["ret"] == 0 and execve["comm"] == "workload"
    assert execve["args"]["filename"] == str(WORKLOAD)
    assert execve["args"]["argv"] == argv

    assert [e["ret"] for e in calls(events, "getppid")] == [syscount_pid] * 3
    opens = calls(events, "openat")
    assert [e["args"] for e in opens] == [
        {"dfd": "AT_FDCWD", "filename": "/dev/null", "flags": "O_RDONLY"},
        {"dfd": "AT_FDCWD", "filename": "/dev/null", "flags": "O_RDONLY"},
        {"dfd": "AT_FDCWD", "filename": "/nonexistent/syscount-workload", "flags": "O_RDONLY"},
    ]
    assert [(e["ret"], e["errno"]) for e in opens] == [(3, None), (3, None), (-1, "ENOENT")]
    closes = calls(events, "close")
    assert [(e["args"]["fd"], e["ret"], e["errno"]) for e in closes] == [(3, 0, None), (3, 0, None), (-1, -1, "EBADF")]
    assert all(e["duration_ns"] >= 0 for e in opens + closes)

    last = events[-1]
    assert last["syscall"] == "exit_group" and last["args"] == {"error_code": 7}
    assert (last["ret"], last["errno"], last["duration_ns"]) == (None, None, None)


def test_text_lines_read_like_strace() -> None:
    result = trace("--", *workload_args(openclose=1, fail_close=1, fail_open=1))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    prefix = r"^\d\d:\d\d:\d\d\.\d{6} (\d+)/\1 workload "
    duration = r" <\d+\.\d{6}>$"
    expected = [
        r'openat\(dfd=AT_FDCWD, filename="/dev/null", flags=O_RDONLY\) = 3',
        r"close\(fd=3\) = 0",
        r"close\(fd=-1\) = -1 EBADF \(Bad file descriptor\)",
        r'openat\(dfd=AT_FDCWD, filename="/nonexistent/syscount-workload", flags=O_RDONLY\)'
        r" = -1 ENOENT \(No such file or directory\)",
    ]
    body = [line for line in lines if not line.startswith("#")]
    assert re.match(prefix + r'execve\(filename="' + re.escape(str(WORKLOAD)) + r'", argv=\["', body[0])
    for pattern, line in zip(expected, body[-5:-1], strict=True):
        assert re.match(prefix + pattern + duration, line), line
    assert re.match(prefix + r"exit_group\(error_code=0\) = \?$", body[-1])
    assert re.match(r"^# final: (\d+) events, 0 lost, \1 calls traced in \d+\.\d{3} s$", lines[-1])
    assert int(lines[-1].split()[2]) == len(body)


def test_threads_and_children_each_get_their_own_calls() -> None:
    argv = workload_args(threads=2, thread_getppid=50, children=2, child_getppid=30, depth=1)
    result = trace("--format", "json", "-s", "getppid,clone,clone3,execve,exit_group,exit", "--", *argv)
    assert result.returncode == 0, result.stderr
    events, _, final = parse_json(result.stdout)
    assert_reconciled(final, len(events))
    per_tid: dict[int, int] = defaultdict(int)
    for event in calls(events, "getppid"):
        per_tid[event["tid"]] += 1
    main = events[0]["pid"]
    threads = sorted(n for tid, n in per_tid.items() if tid != main and _pid_of(events, tid) == main)
    children = sorted(n for tid, n in per_tid.items() if _pid_of(events, tid) != main)
    assert threads == [50, 50]
    assert children == [30, 30, 30, 30]  # two children, each with a grandchild
    assert len(calls(events, "exit_group")) == 5 and len(calls(events, "exit")) == 2


def _pid_of(events: list[dict[str, Any]], tid: int) -> int:
    return int(next(e["pid"] for e in events if e["tid"] == tid))


RENAMES = """
import ctypes, os, threading
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NAME = 15
def named(name, n):
    libc.prctl(PR_SET_NAME, name.encode())
    for _ in range(n):
        os.getppid()
named("fifteen-chars-x", 3)
named("y", 2)
t = threading.Thread(target=named, args=("thread-name", 4))
t.start()
t.join()
os.getppid()
"""


def test_names_and_ids_are_each_threads_own_at_every_call() -> None:
    """Names and ids come straight from the task at exit: a name of the full 15 bytes,
    a shorter one after a rename (nothing left of the longer one), and a thread's own
    name and id next to its process's."""
    result = trace("--format", "json", "-s", "getppid", "--", sys.executable, "-c", RENAMES)
    assert result.returncode == 0, result.stderr
    events, losses, final = parse_json(result.stdout)
    assert not losses
    assert_reconciled(final, len(events))
    pid = events[0]["pid"]
    seen = [(e["comm"], e["pid"], e["tid"] == pid) for e in calls(events, "getppid")]
    assert seen == (
        [("fifteen-chars-x", pid, True)] * 3
        + [("y", pid, True)] * 2
        + [("thread-name", pid, False)] * 4
        + [("y", pid, True)]
    )
    assert len({e["tid"] for e in events}) == 2


def test_pid_mode_and_filters_apply_in_the_kernel() -> None:
    plan = {"getppid": 40, "openclose": 5, "fail_close": 3, "fail_open": 2, "threads": 2, "thread_getppid": 10}
    with held_workload(**plan) as target:
        process = subprocess.Popen(
            [*SYSCOUNT, "trace", "-p", str(target.pid), "-x", "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        assert ANNOUNCE in process.stderr.readline()
        release(target)
        assert target.wait(timeout=30) == 0
        out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    events, _, final = parse_json(out)
    assert_reconciled(final, len(events))
    assert [(e["syscall"], e["errno"]) for e in events] == [("close", "EBADF")] * 3 + [("openat", "ENOENT")] * 2
    assert {e["pid"] for e in events} == {target.pid}


def test_syscall_and_errno_filters() -> None:
    argv = workload_args(getppid=25, openclose=4, fail_close=2, fail_open=3)
    events, _, final = parse_json(trace("--format", "json", "-s", "%file", "-e", "ENOENT", "--", *argv).stdout)
    assert [e["args"]["filename"] for e in events] == ["/nonexistent/syscount-workload"] * 3
    assert_reconciled(final, 3)
    events, _, _ = parse_json(trace("--format", "json", "-s", "getppid", "--comm", "workload", "--", *argv).stdout)
    assert len(events) == 25


def test_long_strings_are_truncated_visibly() -> None:
    result = trace("--strings", "8", "-s", "openat", "--", *workload_args(fail_open=1))
    assert 'filename="/nonexis"..., flags=O_RDONLY) = -1 ENOENT' in result.stdout
    result = trace("--format", "json", "--strings", "8", "-s", "openat", "--", *workload_args(fail_open=1))
    events, _, _ = parse_json(result.stdout)
    assert events[-1]["args"]["filename"] == "/nonexis" and events[-1]["truncated"] == ["filename"]


def test_32_bit_programs_are_decoded_with_their_own_table() -> None:
    result = trace("--format", "json", "--", str(WORKLOAD32), "--getppid", "2", "--fail-open", "1")
    assert result.returncode == 0, result.stderr
    events, _, final = parse_json(result.stdout)
    assert_reconciled(final, len(events))
    names = [e["syscall"] for e in events]
    assert names[0] == "execve"  # the 64-bit exec of a 32-bit program
    assert names.count("i386:getppid") == 2 and names[-1] == "i386:exit_group"
    (failed,) = [e for e in events if e["syscall"] == "i386:openat"]
    assert failed["args"]["filename"] == "/nonexistent/syscount-workload" and failed["errno"] == "ENOENT"


# -- against strace -f ----------------------------------------------------------------

# Results that differ from run to run in any tracer: addresses (ASLR) and process ids.
# For these only success or failure is compared.
VOLATILE = {"mmap", "brk", "mremap", "clone", "clone3", "fork", "vfork", "wait4", "getpid", "getppid", "gettid"}
VOLATILE |= {"set_tid_address"}
# Whether pthread_join must wait depends on timing, in any tracer.
NONDETERMINISTIC = {"futex"}
_STRACE_LINE = re.compile(r"^(\d+)\s+(\w+)\(.*\)\s+=\s+(-?\w+|\?)(?: (E[A-Z0-9_]+) )?")
# A call another thread's output interrupted: "<unfinished ...>", later "<... name resumed>".
_UNFINISHED = re.compile(r"^(\d+)\s+(\w+)\(.*<unfinished \.\.\.>$")
_RESUMED = re.compile(r"^(\d+)\s+<\.\.\. (\w+) resumed>.*\)\s+=\s+(-?\w+|\?)(?: (E[A-Z0-9_]+) )?")


def strace_sequences(argv: Sequence[str], cwd: Path) -> list[list[tuple[str, str]]]:
    """Per thread, strace -f's (syscall, result) sequence."""
    log = cwd / "strace.log"
    subprocess.run(
        ["strace", "-f", "-qq", "-e", "signal=none", "-o", str(log), *argv],
        cwd=cwd,
        capture_output=True,
        timeout=TIMEOUT,
        check=True,
    )
    per_tid: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for line in log.read_text().splitlines():
        if _UNFINISHED.match(line):
            continue  # counted where it resumes, which is where it returned
        match = _STRACE_LINE.match(line) or _RESUMED.match(line)
        assert match, f"unexpected strace line: {line}"
        tid, name, ret, err = match.groups()
        per_tid[tid].append((name, _result(name, err or (ret if ret == "?" else str(int(ret, 0))))))
    return _normalise(per_tid.values())


def syscount_sequences(argv: Sequence[str], cwd: Path) -> list[list[tuple[str, str]]]:
    result = subprocess.run(
        [*SYSCOUNT, "trace", "--format", "json", "-o", str(cwd / "trace.jsonl"), "--", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    events, _, final = parse_json((cwd / "trace.jsonl").read_text())
    assert final["lost"] == 0
    per_tid: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for e in events:
        value = "?" if e["ret"] is None else e["errno"] or str(e["ret"])
        per_tid[e["tid"]].append((e["syscall"], _result(e["syscall"], value)))
    return _normalise(per_tid.values())


def _result(name: str, value: str) -> str:
    if name in VOLATILE and not value.startswith("E"):
        return "ok"
    return value


def _normalise(sequences: Any) -> list[list[tuple[str, str]]]:
    return sorted([call for call in seq if call[0] not in NONDETERMINISTIC] for seq in sequences)


def _fixed_directory(tmp_path: Path) -> Path:
    directory = tmp_path / "dir"
    directory.mkdir()
    for name in ("alpha", "beta", "gamma"):
        (directory / name).write_text(name)
    (directory / "sub").mkdir()
    return directory


def test_ls_gives_the_same_calls_and_results_as_strace(tmp_path: Path) -> None:
    directory = _fixed_directory(tmp_path)
    argv = ["ls", "-la", str(directory)]
    ours = syscount_sequences(argv, tmp_path)
    theirs = strace_sequences(argv, tmp_path)
    assert len(ours) == 1 and len(ours[0]) > 50
    assert ours == theirs


def test_threads_and_processes_give_the_same_per_thread_sequences_as_strace(tmp_path: Path) -> None:
    argv = workload_args(threads=2, thread_getppid=20, children=2, child_getppid=10, openclose=3, fail_open=2)
    assert syscount_sequences(argv, tmp_path) == strace_sequences(argv, tmp_path)


# -- loss and reconciliation ----------------------------------------------------------


def flood_trace(options: list[str], *, calls: int, events: Path) -> subprocess.CompletedProcess[bytes]:
    """Trace the getppid calls of two threads making ``calls`` each, events to a file.

    Not to the flood's own stdout: its report, written as it exits, could land inside
    one of syscount's large writes to the same pipe."""
    flood = [str(FLOOD), "--threads", "2", "--calls", str(calls)]
    argv = [*SYSCOUNT, "trace", "-s", "getppid", "-o", str(events), *options, "--", *flood]
    return subprocess.run(argv, capture_output=True, timeout=300, check=False)


def test_flood_reconciles_exactly_and_reports_loss(tmp_path: Path) -> None:
    # A 4 KiB ring holds 36 events: two threads flooding 2 M calls must overflow it.
    events = tmp_path / "events.jsonl"
    result = flood_trace(["--buffer-size", "4K", "--format", "json"], calls=1_000_000, events=events)
    assert result.returncode == 0, result.stderr
    lines = events.read_bytes().splitlines()
    final = json.loads(lines[-1])
    losses = [json.loads(line) for line in lines if b'"lost_total"' in line]
    written = sum(1 for line in lines if b'"syscall":"getppid"' in line)
    assert final["final"] is True
    assert final["calls"] == 2_000_000
    assert final["events"] + final["lost"] == 2_000_000
    assert final["lost"] > 0 and losses and sum(r["lost"] for r in losses) == final["lost"]
    assert sum(final["lost_by_cpu"].values()) == final["lost"]
    assert final["events"] == written  # every event counted was written
    assert b"CALLS 2000000 " in result.stdout
    assert b"syscount: lost " in result.stderr


def test_flood_that_fits_the_ring_loses_nothing(tmp_path: Path) -> None:
    # 400 000 events of 112 bytes fit in 64 MiB even if nothing were read meanwhile.
    events = tmp_path / "events.txt"
    result = flood_trace(["--buffer-size", "64M"], calls=200_000, events=events)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"CALLS 400000 ")
    lines = events.read_bytes().splitlines()
    assert lines[-1].startswith(b"# final: 400000 events, 0 lost, 400000 calls traced"), lines[-1]
    assert sum(1 for line in lines if b" getppid() = " in line) == 400_000


# -- stopping -------------------------------------------------------------------------


def loaded_trace_programs() -> list[str]:
    result = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=True)
    return [p.get("name", "") for p in json.loads(result.stdout or "[]") if p.get("name") in TRACE_PROGRAMS]


def test_sigint_stops_cleanly_with_the_final_line_and_detaches() -> None:
    process = subprocess.Popen(
        [*SYSCOUNT, "trace", "--format", "json", "-s", "getppid"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    assert ANNOUNCE in process.stderr.readline()
    subprocess.run([str(WORKLOAD), "--getppid", "1000"], check=True)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 130, err
    events, _, final = parse_json(out)
    assert_reconciled(final, len(events))
    assert len([e for e in events if e["comm"] == "workload"]) >= 1000
    deadline = time.monotonic() + 5
    while loaded_trace_programs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert loaded_trace_programs() == []


def test_bad_input_is_one_line() -> None:
    for args, message in (
        (["--buffer-size", "3M"], "power of two"),
        (["-s", "nosuchcall"], "unknown syscall"),
        (["-o", "/nonexistent/dir/file", "--", "true"], "cannot write"),
        (["--", "no-such-command-here"], "command not found"),
    ):
        result = subprocess.run(
            [*SYSCOUNT, "trace", *args], capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        assert result.returncode in (1, 2), result.stderr
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert os.geteuid() == 0


# -- captured buffers and structs ---------------------------------------------------------

CAPTURES = ROOT / "tests" / "workloads" / "captures.py"


def captured_events(*options: str) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    """The JSON events of tests/workloads/captures.py (its own process only), its final
    record and the port it listened on."""
    result = trace("--format", "json", *options, "--", sys.executable, str(CAPTURES))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    port = int(next(line for line in lines if line.startswith("PORT "))[5:])
    events, losses, final = parse_json("\n".join(line for line in lines if not line.startswith("PORT ")))
    assert not losses
    assert_reconciled(final, len(events))
    return events, final, port


def test_buffers_addresses_and_times_are_decoded_exactly() -> None:
    events, final, port = captured_events()
    assert final["schema"] == 3  # buffers, structs and outputs carry their data (docs/trace.md, "Versions")
    pipe = [e for e in events if e["syscall"] in ("write", "read") and e["args"]["fd"] in (3, 4)]
    pipe = [e for e in pipe if e["ret"] != -1 and e["args"].get("count") in (6, 11, 40, 64)][-6:]
    assert [(e["syscall"], e["args"]["buf"], e["ret"], e.get("truncated")) for e in pipe] == [
        ("write", "hello\n", 6, None),
        ("read", "hello\n", 6, None),
        ("write", {"base64": "G1szMW1yZWQA/wo="}, 11, None),  # ESC [31m red NUL 0xff LF: not UTF-8
        ("read", {"base64": "G1szMW1yZWQA/wo="}, 11, None),
        ("write", "0123456789" * 3 + "01", 40, ["buf"]),  # cut at -s 32, listed as cut
        ("read", "0123456789" * 3 + "01", 40, ["buf"]),
    ]
    loopback = {"sa_family": "AF_INET", "sin_port": port, "sin_addr": "127.0.0.1"}
    assert [e["args"]["uservaddr"] for e in calls(events, "connect")] == [loopback]
    assert {"sa_family": "AF_UNIX", "sun_path": "@syscount-captures"} in [
        e["args"]["umyaddr"] for e in calls(events, "bind")
    ]
    accepted = [e for e in calls(events, "accept4") if e["ret"] >= 0]
    assert accepted[0]["args"]["upeer_sockaddr"]["sin_addr"] == "127.0.0.1"
    sent = [e for e in calls(events, "sendto") if e["args"]["buff"] == "ping"]
    received = [e for e in calls(events, "recvfrom") if e["args"]["ubuf"] == "ping"]
    assert len(sent) == 1 and len(received) == 1 and received[0]["ret"] == 4
    (sendmsg,) = calls(events, "sendmsg")
    assert [(i["iov_base"], i["iov_len"]) for i in sendmsg["args"]["msg"]["msg_iov"]] == [("ab", 2), ("cd", 2)]
    (recvmsg,) = calls(events, "recvmsg")
    assert [(i["iov_base"], i["iov_len"]) for i in recvmsg["args"]["msg"]["msg_iov"]] == [("abcd", 100)]
    (writev,) = calls(events, "writev")
    assert [(i["iov_base"], i["iov_len"]) for i in writev["args"]["vec"]] == [("xy", 2), ("z", 1)]
    (readv,) = calls(events, "readv")
    assert [(i["iov_base"], i["iov_len"]) for i in readv["args"]["vec"]] == [("xy", 2), ("z", 8)]
    sleeps = [e for e in calls(events, "clock_nanosleep") if e["args"]["rqtp"] == {"tv_sec": 0, "tv_nsec": 10_000_000}]
    assert len(sleeps) == 1 and sleeps[0]["duration_ns"] >= 10_000_000
    polls = [e["args"]["ufds"] for e in calls(events, "poll") if e["args"]["timeout_msecs"] == 1000]
    assert polls == [[{"fd": 3, "events": 1, "revents": 1}]]


def test_text_shows_buffers_escaped_like_strace() -> None:
    result = trace("-s", "8", "--", sys.executable, str(CAPTURES))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(' write(fd=4, buf="hello\\n", count=6) = 6 <' in line for line in lines)
    assert any(' write(fd=4, buf="\\33[31mred"..., count=11) = 11 <' in line for line in lines)  # strace: \33
    assert any(' read(fd=3, buf="01234567"..., count=64) = 40 <' in line for line in lines)
    assert any(
        ' bind(fd=8, umyaddr={sa_family=AF_UNIX, sun_path=@"syscount-captures"}, addrlen=20) = 0' in line
        for line in lines
    )
    assert not any("\x1b" in line for line in lines)  # the escape byte never reaches the terminal raw


def test_buffer_flood_reconciles_exactly(tmp_path: Path) -> None:
    # 100 000 writes of 64 bytes (32 kept each) through a 16 KiB ring: most are lost, all are counted.
    events = tmp_path / "events.jsonl"
    loop = "import os\nfd = os.open('/dev/null', os.O_WRONLY)\nfor _ in range(100000): os.write(fd, b'x' * 64)"
    options = ["-s", "write", "--buffer-size", "16K", "--format", "json", "-o", str(events)]
    result = subprocess.run(
        [*SYSCOUNT, "trace", *options, "--", sys.executable, "-c", loop],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = events.read_text().splitlines()
    final = json.loads(lines[-1])
    written = [json.loads(line) for line in lines if '"syscall":"write"' in line]
    assert final["calls"] == 100_000
    assert final["events"] + final["lost"] == final["calls"] and final["events"] == len(written)
    assert final["lost"] > 0
    assert all(e["args"]["buf"] == "x" * 32 and e["truncated"] == ["buf"] for e in written)
