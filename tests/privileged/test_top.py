"""syscount top in a real terminal (tmux: keys in, capture-pane out) and in batch mode.

The workload's calls are known exactly, so the screen must show exact totals; the
view is driven with the keys a person would press.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .helpers import NO_CAPABILITIES, SYSCOUNT, TIMEOUT, WORKLOAD, syscount, workload_args

# parent: 1234 getppid, 7 open+close, 3 failing close(-1), 2 failing openat; 2 children, 5 getppid each
PLAN = {"getppid": 1234, "openclose": 7, "fail_close": 3, "fail_open": 2, "children": 2, "child_getppid": 5}
WAIT_S = 20.0


class Tmux:
    """One detached tmux session on its own server socket (other engineers use tmux too)."""

    def __init__(self, tmp: Path, command: str, *, width: int = 160, height: int = 45) -> None:
        self.socket = f"syscount-top-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height), command)

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False)
        return result.stdout

    def keys(self, *keys: str) -> None:
        for key in keys:  # one at a time: each is one read for syscount
            self._tmux("send-keys", "-t", "0", key)
            time.sleep(0.15)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "0")

    def wait_for(self, ready: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + WAIT_S
        while True:
            text = self.screen()
            if ready(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{text}")
            time.sleep(0.1)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", "0", "-x", str(width), "-y", str(height))

    def kill(self) -> None:
        socket = self._tmux("display-message", "-p", "#{socket_path}").strip()
        self._tmux("kill-server")
        if socket:
            Path(socket).unlink(missing_ok=True)  # the server may leave it behind


@pytest.fixture
def tmux_factory(tmp_path: Path) -> Iterator[Callable[..., Tmux]]:
    sessions: list[Tmux] = []

    def start(command: str, **size: int) -> Tmux:
        session = Tmux(tmp_path, command, **size)
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        session.kill()


def top_command(tmp: Path, top_args: list[str]) -> str:
    """A shell that saves the terminal's settings, runs syscount top (its pid in a file),
    then reports the exit status and the settings again."""
    top = shlex.join([*SYSCOUNT, "top", *top_args])
    inner = f"echo $$ > {tmp}/pid; exec {top}"
    return (
        f"cd {shlex.quote(os.getcwd())}; stty -g > {tmp}/stty.before; sh -c {shlex.quote(inner)}; "
        f'echo "top-exit=$?"; stty -g > {tmp}/stty.after; sleep 120'
    )


def rows(screen: str) -> dict[str, list[str]]:
    """Table lines by their first field (the key column)."""
    return {line.split()[0]: line.split() for line in screen.splitlines() if line.strip()}


def test_screen_shows_exact_totals_process_view_drill_down_and_q_restores(
    tmux_factory: Callable[..., Tmux], tmp_path: Path
) -> None:
    session = tmux_factory(top_command(tmp_path, ["-i", "0.5", "--", *workload_args(**PLAN)]))
    screen = session.wait_for(lambda s: "command exited with status 0" in s, "the workload to finish")
    screen = session.wait_for(lambda s: "getppid" in s and "exit_group" in s, "the rows")
    table = rows(screen)
    # RATE then TOTAL: the exact cumulative counts, all three processes together.
    assert table["getppid"][2] == str(1234 + 2 * 5)
    assert table["openat"][2] == str(7 + 2)
    assert table["close"][2] == str(7 + 3)
    assert table["clone"][2] == "2" and table["exit_group"][2] == "3"
    assert "SYSCALL" in screen and "RATE▼" in screen

    session.keys("p")  # the process view
    screen = session.wait_for(lambda s: "view: processes" in s, "the process view")
    header = next(line for line in screen.splitlines() if "COMMAND" in line).split()
    assert header[:2] == ["PID", "COMMAND"]
    pids = [fields[0] for fields in rows(screen).values() if fields[0].isdigit()]
    assert len(pids) == 3, screen  # the workload and its two children

    session.keys("s", "Home", "Enter")  # getppid is the top row: its processes
    screen = session.wait_for(lambda s: "view: getppid ▸ processes" in s, "the drill-down")
    # PID COMMAND RATE TOTAL ...
    made = sorted((int(f[3]), int(f[0])) for f in rows(screen).values() if f[0].isdigit())
    assert [calls for calls, _ in made] == [5, 5, 1234], screen
    parent = made[-1][1]
    assert sorted(pid for _, pid in made) == sorted(map(int, pids))

    session.keys("BSpace", "p")
    session.wait_for(lambda s: "view: processes" in s, "the process view again")
    screen = session.screen()
    order = [int(f[0]) for f in rows(screen).values() if f[0].isdigit()]
    session.keys("Home", *["Down"] * order.index(parent), "Enter")  # the parent: its syscalls
    screen = session.wait_for(lambda s: f"process {parent} " in s and "▸ syscalls" in s, "the parent's syscalls")
    own = rows(screen)
    assert own["getppid"][2] == "1234" and own["close"][2] == "10" and own["openat"][2] == "9"
    assert own["clone"][2] == "2" and own["wait4"][2] == "2"

    session.keys("q")
    screen = session.wait_for(lambda s: "top-exit=" in s, "syscount to exit")
    assert "top-exit=0" in screen
    assert (tmp_path / "stty.before").read_text() == (tmp_path / "stty.after").read_text()
    assert "SYSCALL" not in screen  # the alternate screen is gone


def test_latency_key_attaches_the_exit_side_and_shows_errors(tmux_factory: Callable[..., Tmux], tmp_path: Path) -> None:
    session = tmux_factory(top_command(tmp_path, ["-i", "0.5", "--comm", "syscount-top-t"]))
    session.wait_for(lambda s: "latency off" in s and "errors/s - (press L)" in s, "the first frame")
    pid = int((tmp_path / "pid").read_text())
    before = programs_of(pid)
    session.keys("L")
    session.wait_for(lambda s: "latency on since" in s and "P99" in s, "latency on")
    after = programs_of(pid)
    assert len(after) > len(before)  # enter + exit (+ the scheduler hook) instead of enter alone
    session.keys("L")
    session.wait_for(lambda s: "latency off" in s, "latency off")
    assert len(programs_of(pid)) == len(before)
    session.keys("q")
    assert "top-exit=0" in session.wait_for(lambda s: "top-exit=" in s, "syscount to exit")


def programs_of(pid: int) -> set[int]:
    """Ids of the BPF programs a process holds, from its descriptors' fdinfo (prog_id)."""
    ids: set[int] = set()
    for fd in Path(f"/proc/{pid}/fdinfo").iterdir():
        try:
            text = fd.read_text()
        except OSError:
            continue  # closed meanwhile
        ids.update(int(found) for found in re.findall(r"^prog_id:\s*(\d+)", text, re.MULTILINE))
    return ids


def wait_gone(ids: set[int]) -> set[int]:
    """Programs are freed asynchronously after their last fd closes: allow a moment."""
    deadline = time.monotonic() + 5.0
    while True:
        result = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=True)
        left = ids & {prog["id"] for prog in json.loads(result.stdout or "[]")}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_detaches_and_restores_the_terminal(
    tmux_factory: Callable[..., Tmux], tmp_path: Path, signum: signal.Signals
) -> None:
    session = tmux_factory(top_command(tmp_path, ["--comm", "syscount-top-t"]))
    session.wait_for(lambda s: "view: syscalls" in s, "the first frame")
    pid = int((tmp_path / "pid").read_text())
    held = programs_of(pid)
    assert held
    os.kill(pid, signum)
    screen = session.wait_for(lambda s: "top-exit=" in s, "syscount to exit")
    assert f"top-exit={128 + signum}" in screen
    assert (tmp_path / "stty.before").read_text() == (tmp_path / "stty.after").read_text()
    assert wait_gone(held) == set()


def test_the_terminal_hanging_up_detaches(tmux_factory: Callable[..., Tmux], tmp_path: Path) -> None:
    session = tmux_factory(top_command(tmp_path, ["--comm", "syscount-top-t"]))
    session.wait_for(lambda s: "view: syscalls" in s, "the first frame")
    pid = int((tmp_path / "pid").read_text())
    held = programs_of(pid)
    assert held
    session.kill()  # the pty goes away: SIGHUP
    deadline = time.monotonic() + WAIT_S
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()
    assert wait_gone(held) == set()


def test_a_too_small_terminal_gets_a_message_and_a_resize_reflows(
    tmux_factory: Callable[..., Tmux], tmp_path: Path
) -> None:
    session = tmux_factory(top_command(tmp_path, ["--comm", "syscount-top-t"]), width=50, height=8)
    screen = session.wait_for(lambda s: "terminal too small" in s, "the message")
    assert "terminal too small (50x8)" in screen
    session.resize(120, 30)
    session.wait_for(lambda s: "view: syscalls" in s and "SYSCALL" in s, "the view after the resize")
    session.keys("q")
    assert "top-exit=0" in session.wait_for(lambda s: "top-exit=" in s, "syscount to exit")


# --- batch mode ---------------------------------------------------------------------------


def frames(text: str) -> list[str]:
    return [frame for frame in text.split("\n\n") if frame.startswith("frame ")]


def table_of(frame: str) -> dict[str, list[str]]:
    lines = frame.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] in (["SYSCALL"], ["PID"]))
    return {line.split()[0]: line.split() for line in lines[start + 1 :]}


def test_batch_mode_prints_exact_totals_without_escape_codes() -> None:
    result = syscount("top", "-b", "-i", "0.5", "-L", "--", *workload_args(**PLAN, exit=3))
    assert result.returncode == 3, result.stderr  # the command's own status, as with count
    assert "\x1b" not in result.stdout
    last = frames(result.stdout)[-1]
    assert "command exited with status 3" in last
    table = table_of(last)
    # SYSCALL RATE TOTAL ERR/s ERR% ERRNO TIME AVG P50 P99 MAX %TIME
    assert table["getppid"][2] == "1244"
    assert table["close"][2:6] == ["10", table["close"][3], "30.0", "EBADF"]
    assert table["openat"][2] == "9" and table["openat"][4] == f"{100 * 2 / 9:.1f}" and table["openat"][5] == "ENOENT"
    assert re.fullmatch(r"\d+ns", table["getppid"][6])


def test_batch_mode_per_process_rows_are_exact() -> None:
    result = syscount("top", "-b", "-i", "0.5", "-L", "--by", "process", "--", *workload_args(**PLAN))
    assert result.returncode == 0, result.stderr
    last = frames(result.stdout)[-1]
    total = int(re.search(r"  total (\d+)  ", last).group(1))  # type: ignore[union-attr]
    # PID COMMAND RATE TOTAL ERR/s ERR% ERRNO TOP-SYSCALL
    table = sorted((int(f[3]), f[5], f[6], f[7]) for f in table_of(last).values())
    child = (5 + 2, "0.0", "-", "getppid")  # 5 getppid, set_robust_list (glibc's fork), exit_group
    parent = total - 2 * child[0]
    assert table == [child, child, (parent, f"{100 * (3 + 2) / parent:.1f}", "EBADF", "getppid")]


def test_batch_mode_stops_after_n_frames() -> None:
    result = syscount("top", "-b", "-n", "3", "-i", "0.2", "--comm", "syscount-top-t")
    assert result.returncode == 0, result.stderr
    assert [frame.splitlines()[0] for frame in frames(result.stdout)] == ["frame 1", "frame 2", "frame 3"]


def test_batch_mode_escapes_hostile_thread_names(tmp_path: Path) -> None:
    # exec names a process after its file: a link with escape codes in its name.
    evil = tmp_path / "\x1b[31mevil\x07"
    evil.symlink_to(WORKLOAD)
    argv = [str(evil), "--getppid", "5", "--sleeps", "2", "--sleep-ms", "400"]
    result = subprocess.run(
        [*SYSCOUNT, "top", "-b", "-i", "0.3", "--by", "process", "--", *argv],
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert b"\x1b" not in result.stdout and b"\x07" not in result.stdout
    assert b" \\033[31mevil\\007 " in result.stdout


def test_not_root_gets_the_count_commands_one_line_error() -> None:
    top = subprocess.run(
        [*NO_CAPABILITIES, *SYSCOUNT, "top", "-b"], capture_output=True, text=True, timeout=30, check=False
    )
    count = subprocess.run(
        [*NO_CAPABILITIES, *SYSCOUNT, "-d", "1"], capture_output=True, text=True, timeout=30, check=False
    )
    assert top.returncode == count.returncode == 1
    assert top.stderr == count.stderr and top.stderr.count("\n") == 1
    assert top.stderr.startswith("syscount: error: ")
