"""Fidelity against strace: run a program under both, compare the calls' rendered arguments.

Usable from tests and by hand (``python -m tests.privileged.fidelity``, as root, prints
the table per syscall). For each program of the corpus:

1. ``strace -f -s 32 -y -o FILE`` and ``syscount trace [-s 32] -y -o FILE --`` run it
   in a fresh work directory with the same path (``-s 32`` is passed to syscount only
   when its ``-s`` takes a byte count);
2. both outputs are parsed into per-thread call lists (strace's ``<unfinished ...>`` /
   ``<... resumed>`` halves joined; syscount's ``name=`` labels dropped);
3. each strace thread is paired with a syscount thread by creation order (the rank of
   its id) and, where the counts differ, by likeness of their calls; each pair's calls
   are aligned by name (difflib);
4. arguments are normalised: addresses and inode numbers, random bytes
   (``getrandom``), clock readings (futex's absolute timeouts), the machine's state
   (sysinfo's uptime, load and free memory: its digits) and ephemeral ports
   are masked, thread ids become their rank, strace's ``/* ... */`` annotations are
   dropped;
5. a call is identical when its normalised argument lists are equal.

The share is over strace's calls (an unaligned call counts as different).
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO / "tests" / "workloads" / "fidelity"
SYSCOUNT = [sys.executable, "-m", "syscount"]
PYTHON = "/usr/bin/python3"


class Program(NamedTuple):
    name: str
    argv: tuple[str, ...]  # "{work}" is replaced by the work directory


# The Python programs are copied into the work directory and run by a relative name:
# argv elements stay under strace's 32-byte -s.
CORPUS = (
    Program("tcp_loopback", (PYTHON, "tcp_loopback.py")),
    Program("file_io", (PYTHON, "file_io.py", "{work}")),
    Program("threads", (PYTHON, "threads.py", "{work}")),
    Program("ls", ("ls", "-la", "{work}/tree")),
    Program("cat", ("cat", "{work}/tree/a.txt")),
    Program("tar", ("tar", "-cf", "{work}/out.tar", "-C", "{work}", "tree")),
    Program("sleep", ("sleep", "0.01")),
)


class Call(NamedTuple):
    name: str
    args: tuple[str, ...]


@dataclass
class Tally:
    """Identical and total calls per syscall."""

    same: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    examples: dict[str, tuple[str, str]] = field(default_factory=dict)  # a differing pair

    def add(self, other: Tally) -> None:
        self.same.update(other.same)
        self.total.update(other.total)
        for name, pair in other.examples.items():
            self.examples.setdefault(name, pair)

    @property
    def share(self) -> float:
        total = sum(self.total.values())
        return sum(self.same.values()) / total if total else 0.0


# --- parsing


def split_args(text: str, start: int) -> tuple[list[str], int]:
    """The top-level comma-separated arguments from ``text[start]`` (after '(') to the matching ')'."""
    args: list[str] = []
    depth, i, current = 0, start, start
    quote = angle = False
    while i < len(text):
        char = text[i]
        if angle:  # a descriptor's name (3</a, b>): ends at a '>' that ends the argument
            angle = not (char == ">" and (i + 1 == len(text) or text[i + 1] in ",)]}"))
        elif char == "<" and (text[i - 1].isdigit() or text[i - 8 : i] == "AT_FDCWD"):
            angle = True
        elif quote:
            if char == "\\":
                i += 1
            elif char == '"':
                quote = False
        elif char == '"':
            quote = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                piece = text[current:i].strip()
                if piece or args:
                    args.append(piece)
                return args, i + 1
            depth -= 1
        elif char == "," and depth == 0:
            args.append(text[current:i].strip())
            current = i + 1
        i += 1
    return args, i


_STRACE_LINE = re.compile(r"^(\d+)\s+(.*)$")
_RESUMED = re.compile(r"^<\.\.\. ([\w]+) resumed>(.*)$")
_UNFINISHED = " <unfinished ...>"


def parse_strace(text: str) -> dict[int, list[Call]]:
    threads: dict[int, list[Call]] = {}
    pending: dict[int, str] = {}
    for line in text.splitlines():
        match = _STRACE_LINE.match(line)
        if match is None:
            continue
        tid, rest = int(match[1]), match[2]
        if rest.startswith(("+++", "---")):
            continue
        if rest.endswith(_UNFINISHED):
            pending[tid] = rest[: -len(_UNFINISHED)]
            continue
        resumed = _RESUMED.match(rest)
        if resumed is not None:
            rest = pending.pop(tid, resumed[1] + "(") + resumed[2]
        call = _call(rest)
        if call is not None:
            threads.setdefault(tid, []).append(call)
    return threads


_SYSCOUNT_LINE = re.compile(r"^\S+ (\d+)/(\d+) ")
_LABEL = re.compile(r"^[A-Za-z_]\w*=")


def parse_syscount(text: str) -> dict[int, list[Call]]:
    threads: dict[int, list[Call]] = {}
    for line in text.splitlines():
        match = _SYSCOUNT_LINE.match(line)
        if match is None:
            continue
        rest = line[match.end() :]
        # The thread name comes first and may hold spaces: the call starts at the last
        # "name(" before the arguments' first quote.
        call_at = re.search(r"\s([a-z_0-9:]+)\(", " " + rest)
        if call_at is None:
            continue
        call = _call(rest[call_at.start(1) - 1 :], labelled=True)
        if call is not None:
            threads.setdefault(int(match[2]), []).append(call)
    return threads


def _call(text: str, labelled: bool = False) -> Call | None:
    open_at = text.find("(")
    if open_at <= 0:
        return None
    name = text[:open_at].strip().rpartition(":")[2]
    args, _ = split_args(text, open_at + 1)
    if labelled:
        args = [_LABEL.sub("", arg, count=1) for arg in args]
    return Call(name, tuple(args))


# --- normalising


_COMMENT = re.compile(r"\s*/\*.*?\*/")
_HEX = re.compile(r"\b0x[0-9a-f]+\b")
_INODE = re.compile(r":\[\d+\]")
_PORT = re.compile(r"htons\(\d+\)")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?![\w.])")
RANDOM_FIRST_ARG = frozenset({"getrandom"})
# Arguments that hold a clock reading (futex's absolute timeout) or the machine's state
# at that instant (sysinfo: uptime, load, free memory, process count): their digits
# vary per run, their layout must not.
CLOCK_ARGS = frozenset({("futex", 3), ("sysinfo", 0)})
_DIGITS = re.compile(r"\d+(?!x)")  # not the 0 of a masked 0x?


def normalise(call: Call, ranks: dict[int, int]) -> tuple[str, ...]:
    out = []
    for index, arg in enumerate(call.args):
        if index == 0 and call.name in RANDOM_FIRST_ARG:
            out.append("?")
            continue
        shown = _PORT.sub("htons(?)", _INODE.sub(":[?]", _HEX.sub("0x?", _COMMENT.sub("", arg))))
        if (call.name, index) in CLOCK_ARGS:
            shown = _DIGITS.sub("N", shown)
        out.append(_NUMBER.sub(lambda m: f"TID{ranks[int(m[0])]}" if int(m[0]) in ranks else m[0], shown))
    return tuple(out)


def compare(strace: dict[int, list[Call]], syscount: dict[int, list[Call]]) -> Tally:
    tally = Tally()
    strace_tids, syscount_tids = creation_order(strace), creation_order(syscount)
    strace_ranks = {tid: rank for rank, tid in enumerate(strace_tids)}
    syscount_ranks = {tid: rank for rank, tid in enumerate(syscount_tids)}
    unpaired = list(syscount_tids)
    for rank, tid in enumerate(strace_tids):
        theirs = strace[tid]
        ours = syscount[_partner(theirs, rank, syscount, syscount_tids, unpaired)] if unpaired else []
        matcher = difflib.SequenceMatcher(None, [c.name for c in theirs], [c.name for c in ours], autojunk=False)
        paired = {a + k: b + k for a, b, size in matcher.get_matching_blocks() for k in range(size)}
        for index, call in enumerate(theirs):
            tally.total[call.name] += 1
            if index not in paired:
                continue
            mine = ours[paired[index]]
            expected, got = normalise(call, strace_ranks), normalise(mine, syscount_ranks)
            if expected == got:
                tally.same[call.name] += 1
            else:
                tally.examples.setdefault(call.name, (", ".join(expected), ", ".join(got)))
    return tally


PID_MAX = int(Path("/proc/sys/kernel/pid_max").read_text())


def creation_order(tids: Iterable[int]) -> list[int]:
    """Thread ids in the order they were handed out. Ids are allocated upwards and wrap
    at pid_max (32768 on this 2-CPU machine, where other tests fork thousands): sorted
    numerically, a run that wrapped would rank its later threads first. The wrap is the
    widest gap on the circle of ids, so the order starts just after it."""
    ordered = sorted(tids)
    if len(ordered) < 2:
        return ordered
    gaps = [b - a for a, b in pairwise(ordered)]
    gaps.append(PID_MAX - ordered[-1] + ordered[0])  # from the last id round to the first
    start = (gaps.index(max(gaps)) + 1) % len(ordered)
    return ordered[start:] + ordered[:start]


def _partner(calls: list[Call], rank: int, threads: dict[int, list[Call]], tids: list[int], unpaired: list[int]) -> int:
    """The unpaired thread most like ``calls`` (by name), taken off the list.

    Threads doing the same work (the corpus's workers) differ only by timing (futex
    calls): creation order (thread id rank) weighs more than likeness."""
    names = [call.name for call in calls]

    def likeness(tid: int) -> float:
        ratio = difflib.SequenceMatcher(None, names, [c.name for c in threads[tid]], autojunk=False).ratio()
        return ratio - 0.5 * abs(tids.index(tid) - rank)

    best = max(unpaired, key=likeness)
    unpaired.remove(best)
    return best


# --- running


def syscount_string_size() -> list[str]:
    """``-s 32`` when this syscount's -s takes a byte count (strace's -s), else nothing."""
    shown = subprocess.run([*SYSCOUNT, "trace", "--help"], capture_output=True, text=True, check=True).stdout
    return ["-s", "32"] if re.search(r"-s (LIST\|N|N\b)", shown) else []


def prepare(work: Path) -> None:
    tree = work / "tree"
    tree.mkdir()
    (tree / "a.txt").write_text("alpha\n")
    (tree / "b.txt").write_text("beta\n" * 100)
    (tree / "sub").mkdir()
    (tree / "sub" / "c.txt").write_text("gamma\n")
    for script in CORPUS_DIR.glob("*.py"):
        shutil.copy(script, work / script.name)


def run_one(program: Program, root: Path, size: Sequence[str]) -> Tally:
    """The program under strace, then under syscount, in the same work directory."""
    outputs = {}
    for tracer in ("strace", "syscount"):
        work = root / "work"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir()
        prepare(work)
        argv = [arg.replace("{work}", str(work)) for arg in program.argv]
        out = root / f"{program.name}.{tracer}"
        if tracer == "strace":
            command = ["strace", "-f", "-s", "32", "-y", "-o", str(out), *argv]
        else:
            command = [*SYSCOUNT, "trace", *size, "-y", "-o", str(out), "--", *argv]
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        result = subprocess.run(command, cwd=work, capture_output=True, text=True, env=env, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{tracer} {program.name}: exit {result.returncode}: {result.stderr[-500:]}")
        outputs[tracer] = out.read_text(encoding="utf-8", errors="replace")
    return compare(parse_strace(outputs["strace"]), parse_syscount(outputs["syscount"]))


def run_corpus(root: Path, corpus: Sequence[Program] = CORPUS) -> dict[str, Tally]:
    size = syscount_string_size()
    return {program.name: run_one(program, root, size) for program in corpus}


def report(tallies: dict[str, Tally]) -> str:
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    lines = [f"{'program':<14}{'identical':>10}{'calls':>8}{'share':>8}"]
    for name, tally in tallies.items():
        same, calls = sum(tally.same.values()), sum(tally.total.values())
        lines.append(f"{name:<14}{same:>10}{calls:>8}{tally.share:>8.1%}")
    lines.append(f"{'all':<14}{sum(total.same.values()):>10}{sum(total.total.values()):>8}{total.share:>8.1%}")
    lines.append("")
    lines.append(f"{'syscall':<18}{'identical':>10}{'calls':>8}  first difference (strace | syscount)")
    for name, calls in total.total.most_common():
        example = total.examples.get(name)
        shown = f"  {example[0][:70]} | {example[1][:70]}" if example else ""
        lines.append(f"{name:<18}{total.same[name]:>10}{calls:>8}{shown}")
    return "\n".join(lines)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="sf") as directory:
        print(report(run_corpus(Path(directory))))
