"""Hostile names: a program, a cgroup directory and a file named with terminal escape
sequences (set the title, clear the screen) and line breaks. No raw ESC, BEL or CR may
reach any text output (table, -P/--by-thread/--by-comm/--by-cgroup, text log, CSV,
trace text); the name must be there, escaped by the one rule. JSON keeps the exact
name (JSON-escaped). Names of exactly 15 bytes, and names that are not UTF-8 (also
where the kernel's 15-byte cut splits a character), are shown whole and escaped.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import SYSCOUNT, TIMEOUT, WORKLOAD, held_workload, new_cgroup, release

# ESC ] 0 ; x BEL: set the window title; ESC [ 2 J: clear the screen; CR LF: forge a line.
# 15 bytes: the whole of it is the thread name (the kernel keeps 15).
HOSTILE = b"ev\x1b]0;x\x07\x1b[2J\r\nZ"
HOSTILE_SHOWN = "ev\\033]0;x\\007\\033[2J\\r\\nZ"
RAW = (b"\x1b", b"\x07", b"\r")

# case -> (the program's file name, its thread name as shown escaped, as JSON gives it)
NAMES = {
    "hostile": (HOSTILE, HOSTILE_SHOWN, HOSTILE.decode()),
    "exactly-15-bytes": (b"fifteen-bytes15", "fifteen-bytes15", "fifteen-bytes15"),
    "not-utf8": (b"bad\xff\xfename", "bad\\xff\\xfename", "bad\\xff\\xfename"),
    # 16 bytes of "é": the kernel cuts after 15, inside the 8th character.
    "cut-utf8": (("é" * 8).encode(), "é" * 7 + "\\xc3", "é" * 7 + "\\xc3"),
}
GETPPID = 123


def program(tmp_path: Path, name: bytes, original: Path = WORKLOAD) -> Path:
    """A copy of ``original`` under a file name of raw bytes."""
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    path = Path(os.fsdecode(os.fsencode(directory) + b"/" + name))
    shutil.copy(original, path)
    return path


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*SYSCOUNT, *args], capture_output=True, timeout=TIMEOUT, check=False)


def assert_clean(data: bytes, what: str) -> None:
    for byte in RAW:
        assert byte not in data, f"raw {byte!r} in {what}: {data!r}"


def log_lines_are_whole(text: str) -> None:
    """Every line of the text log is one of its kinds: the name cannot have broken one."""
    kinds = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+Z( summary [\d.]+s)?|[\w()]+: \d+|\[\d* ?.*\] [\w()]+: \d+|# .*|)$")
    for line in text.split("\n"):
        assert kinds.match(line), line


@pytest.mark.parametrize("case", list(NAMES))
@pytest.mark.parametrize("by", ["-P", "--by-thread", "--by-comm"])
def test_thread_names_are_escaped_in_table_and_text_log(tmp_path: Path, case: str, by: str) -> None:
    file_name, shown, _ = NAMES[case]
    exe = program(tmp_path, file_name)
    log = tmp_path / "log.txt"
    result = run(by, "-o", str(log), "--", str(exe), "--getppid", str(GETPPID))
    assert result.returncode == 0, result.stderr
    table, text = result.stderr, log.read_bytes()  # with -- COMMAND the table goes to stderr
    assert_clean(table, "the table")
    assert_clean(text, "the text log")
    assert f"{shown}  ".encode() in table  # the label column, padded
    assert f" {shown}] getppid: {GETPPID}\n".encode() in text or f"[{shown}] getppid: {GETPPID}\n".encode() in text
    log_lines_are_whole(text.decode())


@pytest.mark.parametrize("case", list(NAMES))
def test_thread_names_in_csv_are_escaped_cells_and_exact_in_json(tmp_path: Path, case: str) -> None:
    file_name, shown, in_json = NAMES[case]
    exe = program(tmp_path, file_name)
    csv_log, json_log = tmp_path / "log.csv", tmp_path / "log.jsonl"
    for fmt, path in (("csv", csv_log), ("json", json_log)):
        result = run("-P", "--format", fmt, "-o", str(path), "--", str(exe), "--getppid", str(GETPPID))
        assert result.returncode == 0, result.stderr
        assert_clean(result.stderr, "the table")
    data = csv_log.read_bytes()
    assert_clean(data, "CSV")
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    final = [row for row in rows if row["final"] == "1" and row["syscall"] == "getppid"]
    assert [(row["label"], row["count"]) for row in final] == [(shown, str(GETPPID))]
    assert_clean(json_log.read_bytes(), "JSON")  # JSON escapes control characters itself
    record = json.loads(json_log.read_text().splitlines()[-1])
    (row,) = record["breakdown"]["rows"]
    assert row["comm"] == in_json and row["counts"]["getppid"] == GETPPID


@pytest.fixture
def hostile_cgroup() -> Iterator[Path]:
    # A cgroup name may hold anything but '/' and a newline.
    with new_cgroup(b"cg\x1b]0;x\x07\x1b[2J\r" + str(os.getpid()).encode()) as path:
        yield path


def test_cgroup_names_are_escaped(tmp_path: Path, hostile_cgroup: Path) -> None:
    shown = "/cg\\033]0;x\\007\\033[2J\\r" + str(os.getpid())
    outputs: dict[str, bytes] = {}
    for fmt in ("text", "csv", "json"):
        log = tmp_path / f"log.{fmt}"
        with held_workload(getppid=GETPPID) as inside:
            (hostile_cgroup / "cgroup.procs").write_text(str(inside.pid))
            process = subprocess.Popen(
                [
                    *SYSCOUNT,
                    "--by-cgroup",
                    "--cgroup",
                    str(hostile_cgroup),
                    "-p",
                    str(inside.pid),
                    "-o",
                    str(log),
                    "--format",
                    fmt,
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            try:
                assert process.stderr is not None
                assert b"syscount: counting" in process.stderr.readline()
                release(inside)
                out, err = process.communicate(timeout=TIMEOUT)
            finally:
                if process.poll() is None:  # a failed test leaves nothing attached
                    process.kill()
                    process.communicate()
        assert process.returncode == 0, err
        assert_clean(out + err, "the table")
        assert f"{shown}  ".encode() in out
        outputs[fmt] = log.read_bytes()
        assert_clean(outputs[fmt], fmt)
    assert f" {shown}] getppid: {GETPPID}\n".encode() in outputs["text"]
    log_lines_are_whole(outputs["text"].decode())
    rows = list(csv.DictReader(io.StringIO(outputs["csv"].decode())))
    assert [row["label"] for row in rows if row["final"] == "1" and row["syscall"] == "getppid"] == [shown]
    (row,) = json.loads(outputs["json"].splitlines()[-1])["breakdown"]["rows"]
    assert os.fsencode(row["cgroup"]) == b"/" + os.fsencode(hostile_cgroup.name)
    assert row["counts"]["getppid"] == GETPPID


TRACE_LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{6} \d+/\d+ .*|# .*)$")


def test_trace_escapes_comm_paths_and_argv(tmp_path: Path) -> None:
    cat = program(tmp_path, HOSTILE, Path(shutil.which("cat") or "/bin/cat"))
    target = Path(os.fsdecode(os.fsencode(tmp_path) + b"/f\x1b]2;t\x07\r\nforged\xff"))
    target.write_text("content\n")
    target_shown = str(tmp_path) + "/f\\033]2;t\\007\\r\\nforged\\xff"
    log = tmp_path / "trace.txt"
    to_file = subprocess.run(
        [*SYSCOUNT, "trace", "-o", str(log), "--", str(cat), str(target)],
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    to_terminal = subprocess.run(
        [*SYSCOUNT, "trace", "--", str(cat), str(target)], capture_output=True, timeout=TIMEOUT, check=False
    )
    assert to_file.returncode == 0 and to_terminal.returncode == 0, to_file.stderr + to_terminal.stderr
    for what, data in (("trace -o", log.read_bytes()), ("trace on the terminal", to_terminal.stderr)):
        assert_clean(data, what)
        text = data.decode()
        lines = text.splitlines()
        assert all(TRACE_LINE.match(line) for line in lines), what
        events = [line for line in lines if not line.startswith("#")]
        final = re.search(r"# final: (\d+) events, 0 lost, (\d+) calls", text)
        assert final is not None and int(final.group(1)) == len(events) == int(final.group(2))
        assert f" {HOSTILE_SHOWN} read(" in text  # the comm column
        assert f'openat(dfd=AT_FDCWD, filename="{target_shown}", flags=O_RDONLY) = 3' in text
        assert f'"{target_shown}"]' in text  # execve's argv
    as_json = subprocess.run(
        [*SYSCOUNT, "trace", "--format", "json", "--", str(cat), str(target)],
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert_clean(as_json.stderr, "trace JSON")
    records: list[dict[str, Any]] = [json.loads(line) for line in as_json.stderr.splitlines() if line.strip()]
    opened = [e for e in records if e.get("syscall") == "openat" and e["args"]["filename"].startswith(str(tmp_path))]
    assert [e["comm"] for e in opened] == [HOSTILE.decode()]
    assert opened[0]["args"]["filename"] == str(tmp_path) + "/f\x1b]2;t\x07\r\nforged\\xff"


def test_a_hostile_name_does_not_stop_a_plain_count(tmp_path: Path) -> None:
    """The plain table (no breakdown) never shows names; a hostile program is counted exactly."""
    exe = program(tmp_path, HOSTILE)
    result = run("--format", "json", "--", str(exe), "--getppid", str(GETPPID))
    assert result.returncode == 0
    assert json.loads(result.stderr.splitlines()[-1])["counts"]["getppid"] == GETPPID
