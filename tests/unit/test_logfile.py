"""The -o file (sinks/logfile.py): whole records, write errors survived, reopen for rotation.

Real failures without root: /dev/full gives ENOSPC, RLIMIT_FSIZE gives EFBIG after a
short write (in a child process, so the limit does not touch pytest's own files)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from syscount.sinks.logfile import LogFile


class Warnings(list[str]):
    def __call__(self, message: str) -> None:
        self.append(message)


def record(log: LogFile, text: str) -> None:
    log.write(text[:3])
    log.write(text[3:])
    log.flush()


def test_records_are_appended_whole_and_only_on_flush(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_text("old\n")
    with LogFile(str(path)) as log:
        log.write("half")
        assert path.read_text() == "old\n"
        log.write(" a record\n")
        log.flush()
        assert path.read_text() == "old\nhalf a record\n"
        log.flush()  # nothing buffered: nothing written
    assert path.read_text() == "old\nhalf a record\n"


def test_a_bad_path_fails_on_enter(tmp_path: Path) -> None:
    log = LogFile(str(tmp_path / "missing" / "log"))
    try:
        log.__enter__()
    except FileNotFoundError:
        return
    raise AssertionError("opened a file in a missing directory")


def test_reopen_after_a_move_sends_the_next_record_to_a_new_file(tmp_path: Path) -> None:
    path, moved = tmp_path / "log", tmp_path / "log.1"
    with LogFile(str(path)) as log:
        log.set_header("h\n")
        record(log, "one\n")
        path.rename(moved)
        record(log, "two\n")  # no SIGHUP yet: the moved file still gets it (logrotate's convention)
        log.request_reopen()
        record(log, "three\n")
        record(log, "four\n")
    assert moved.read_text() == "h\none\ntwo\n"
    assert path.read_text() == "h\nthree\nfour\n"  # a new file gets the header again


def test_header_only_into_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_text("h\nrow\n")
    with LogFile(str(path)) as log:
        log.set_header("h\n")
        record(log, "next\n")
    assert path.read_text() == "h\nrow\nnext\n"


def test_disk_full_is_reported_once_counted_and_recovery_reported(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.symlink_to("/dev/full")
    warnings = Warnings()
    with LogFile(str(path), warn=warnings) as log:
        for n in range(3):
            record(log, f"interval {n}\n")
        assert log.unwritten == 3 and log.failing
        assert warnings == [f"writing {path}: No space left on device; counting goes on"]
        path.unlink()
        path.write_text("")
        log.request_reopen()
        record(log, "interval 3\n")
        assert not log.failing and log.unwritten == 3
    assert path.read_text() == "interval 3\n"
    assert warnings[1:] == [f"writing {path} works again; 3 intervals could not be written"]


def test_a_deleted_file_is_created_again(tmp_path: Path) -> None:
    path = tmp_path / "log"
    with LogFile(str(path)) as log:
        record(log, "one\n")
        path.unlink()
        record(log, "two\n")
    assert path.read_text() == "two\n"


def test_a_vanished_directory_is_a_failure_until_it_is_back(tmp_path: Path) -> None:
    directory = tmp_path / "d"
    directory.mkdir()
    path = directory / "log"
    warnings = Warnings()
    with LogFile(str(path), unit="event", warn=warnings) as log:
        record(log, "one\n")
        path.unlink()
        directory.rmdir()
        assert not log.commit(b"two\nthree\n", items=2)
        assert log.unwritten == 2
        directory.mkdir()
        assert log.commit(b"four\n")
    assert path.read_text() == "four\n"
    assert warnings == [
        f"writing {path}: No such file or directory; counting goes on",
        f"writing {path} works again; 2 events could not be written",
    ]


CHILD = """
import resource, signal, sys
from syscount.sinks.logfile import LogFile
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))
with LogFile(sys.argv[1]) as log:
    for n in range(12):
        log.write(f"record {n:02d} " + "x" * 10 + "\\n")
        log.flush()
    print(log.unwritten)
"""


def test_a_short_write_is_cut_back_so_no_record_is_split(tmp_path: Path) -> None:
    path = tmp_path / "log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env, check=True)
    lines = path.read_text().splitlines(keepends=True)
    # 21-byte records under a 100-byte limit: 4 fit; the 5th is written in part, then cut back.
    assert [line[:9] for line in lines] == [f"record {n:02d}" for n in range(4)]
    assert all(len(line) == 21 for line in lines)
    assert done.stdout.strip() == "8"
    assert done.stderr.count("\n") == 1 and "File too large; counting goes on" in done.stderr
