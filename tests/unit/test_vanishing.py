"""A /proc entry that vanishes while it is being read: the process exits between the
open and the read, and the kernel answers ESRCH. Arranged with a real process: the
file is opened while it lives and read after it was killed and reaped."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import pytest

from syscount import targets
from syscount.errors import TargetError
from syscount.names import procfs


@contextmanager
def vanished(name: str) -> Iterator[tuple[int, IO[Any]]]:
    """``/proc/<pid>/<name>`` opened while the process lived; the process is gone now."""
    process = subprocess.Popen(["sleep", "30"])
    with open(f"/proc/{process.pid}/{name}", encoding="utf-8", newline="") as held:
        process.kill()
        process.wait()
        yield process.pid, held


def test_a_thread_name_that_vanishes_mid_read_is_unknown_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with vanished("comm") as (pid, held):
        monkeypatch.setattr(procfs, "open", lambda *args, **kwargs: held, raising=False)
        # The breakdown then names the row from what the kernel recorded (or "?").
        assert procfs.proc_comm(pid) is None


def test_a_process_that_vanishes_while_p_reads_it_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with vanished("status") as (pid, held):
        monkeypatch.setattr(targets, "open", lambda *args, **kwargs: held, raising=False)
        with pytest.raises(TargetError) as raised:
            targets.process_tgid(pid)
    assert str(raised.value) == f"-p {pid}: no such process"
