#!/usr/bin/env python3
"""Generate syscount's syscall number -> name tables from a Linux source tree.

The kernel keeps one authoritative table per ABI; this script reads three of them:

* ``arch/x86/entry/syscalls/syscall_64.tbl``: x86_64 native calls;
* ``arch/x86/entry/syscalls/syscall_32.tbl``: i386, which is also what an ia32
  compat process uses on an x86_64 kernel;
* ``scripts/syscall.tbl``: the generic table that arm64 (and the newer
  architectures) build from, filtered by the ABIs listed in
  ``arch/arm64/kernel/Makefile.syscalls``.

and writes ``src/syscount/names/tables/{x86_64,i386,aarch64}.py``, each a plain
``NAMES: dict[int, str]``.  Run it again with ``--check`` (CI) to prove the
checked-in modules still match what it would write.

Usage::

    python3 tools/gen_syscall_tables.py --linux-tree ~/src/linux --version v6.18
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT_DIR = REPO_ROOT / "src" / "syscount" / "names" / "tables"
SCRIPT = "tools/gen_syscall_tables.py"

X86_64_TBL = "arch/x86/entry/syscalls/syscall_64.tbl"
I386_TBL = "arch/x86/entry/syscalls/syscall_32.tbl"
GENERIC_TBL = "scripts/syscall.tbl"
ARM64_ABIS = "arch/arm64/kernel/Makefile.syscalls"

# kbuild starts every 64-bit architecture that uses scripts/syscall.tbl with these
# ABIs (scripts/Makefile.asm-headers: `syscall_abis_64 += common,64`); the arch's
# Makefile.syscalls then adds its own.  Only the additions vary per architecture,
# so only they are read from the tree.
KBUILD_DEFAULT_ABIS_64 = ("common", "64")

_ABI_VAR = re.compile(r"^\s*syscall_abis_64\s*(\+=|:=|::=|\?=|=)(.*)$")


class TableError(Exception):
    """A table file is malformed or selects two names for one number."""


@dataclass(frozen=True)
class Entry:
    """One line of a kernel .tbl file: `<number> <abi> <name> [<entry point> [<compat entry point>]]`."""

    number: int
    abi: str
    name: str
    entry_point: str | None  # None for reserved or removed calls, which have no entry point
    line: int


@dataclass(frozen=True)
class Table:
    """A generated module's contents and the words that explain how it was chosen."""

    module: str  # file name without .py, also the arch name syscount uses
    sources: tuple[str, ...]  # tree-relative paths the table was built from
    rule: str
    names: dict[int, str]


def parse_tbl(path: Path) -> list[Entry]:
    """Read a kernel .tbl file, skipping comments and blank lines.

    Columns are separated by any run of blanks (some kernel lines mix tabs and
    spaces, e.g. `462 \\tcommon  mseal`), so split on whitespace, not on tabs.
    """
    entries: list[Entry] = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        fields = text.split()
        if len(fields) < 3:
            raise TableError(f"{path}:{lineno}: expected at least <number> <abi> <name>, got {raw!r}")
        try:
            number = int(fields[0], 10)
        except ValueError:
            raise TableError(f"{path}:{lineno}: syscall number {fields[0]!r} is not a decimal integer") from None
        entry_point = fields[3] if len(fields) > 3 else None
        entries.append(Entry(number, fields[1], fields[2], entry_point, lineno))
    return entries


def parse_abis_64(path: Path) -> list[str]:
    """Return the ABIs an arch's Makefile.syscalls adds to ``syscall_abis_64``, in order.

    Follows make's meaning for the forms the kernel uses: ``+=`` appends, a plain
    ``=``/``:=`` replaces whatever came before (kbuild's defaults included, so the
    caller must not re-add them then), and a trailing backslash continues the line.
    Words may be separated by blanks or commas, as kbuild turns both into the
    alternation it greps the table with.
    """
    abis: list[str] = []
    replaced = False
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    for line in logical:
        match = _ABI_VAR.match(line)
        if match is None:
            continue
        op, value = match.groups()
        words = [w for w in re.split(r"[\s,]+", value.strip()) if w]
        if op == "+=":
            abis.extend(words)
        elif op == "?=":
            # `?=` only sets an unset variable; kbuild has always set it by now.
            continue
        else:
            abis = words
            replaced = True
    if replaced:
        return _dedupe(abis)
    return _dedupe([*KBUILD_DEFAULT_ABIS_64, *abis])


def _dedupe(words: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for word in words:
        seen.setdefault(word, None)
    return list(seen)


def select(entries: Iterable[Entry], abis: Iterable[str], where: str) -> dict[int, str]:
    """Map number -> name for the entries whose ABI is in ``abis``.

    The kernel's own header generator would emit a duplicate ``__NR_`` macro (and
    fail to build) if two selected lines shared a number or a name, so either is
    an error here too rather than something to paper over.
    """
    wanted = set(abis)
    names: dict[int, str] = {}
    numbers: dict[str, int] = {}
    for entry in entries:
        if entry.abi not in wanted:
            continue
        if entry.number in names and names[entry.number] != entry.name:
            raise TableError(
                f"{where}:{entry.line}: number {entry.number} is both {names[entry.number]!r} and {entry.name!r}"
            )
        if entry.name in numbers and numbers[entry.name] != entry.number:
            raise TableError(
                f"{where}:{entry.line}: name {entry.name!r} has numbers {numbers[entry.name]} and {entry.number}"
            )
        names[entry.number] = entry.name
        numbers[entry.name] = entry.number
    if not names:
        raise TableError(f"{where}: no entries with ABI {sorted(wanted)}")
    return dict(sorted(names.items()))


def _require(tree: Path, rel: str) -> Path:
    path = tree / rel
    if not path.is_file():
        raise TableError(f"{path}: not found; is --linux-tree a Linux source tree?")
    return path


def build_tables(tree: Path) -> list[Table]:
    """Apply syscount's per-architecture rules to the table files under ``tree``."""
    x86_64 = select(parse_tbl(_require(tree, X86_64_TBL)), ("common", "64"), X86_64_TBL)
    i386 = select(parse_tbl(_require(tree, I386_TBL)), ("i386",), I386_TBL)
    arm64_abis = parse_abis_64(_require(tree, ARM64_ABIS))
    aarch64 = select(parse_tbl(_require(tree, GENERIC_TBL)), arm64_abis, GENERIC_TBL)
    quoted = ", ".join(f'"{abi}"' for abi in arm64_abis)
    return [
        Table(
            "x86_64",
            (X86_64_TBL,),
            'entries whose ABI is "common" or "64". "x32" entries are left out: at run time '
            "x32 numbers carry bit 0x40000000 and are out of scope.",
            x86_64,
        ),
        Table(
            "i386",
            (I386_TBL,),
            'every entry (ABI "i386"): the numbers a 32-bit process uses, including an ia32 '
            "compat process on an x86_64 kernel.",
            i386,
        ),
        Table(
            "aarch64",
            (GENERIC_TBL, ARM64_ABIS),
            f"entries whose ABI is one of {quoted}: kbuild's defaults for a 64-bit "
            '"syscall_abis_64" ("common", "64", from scripts/Makefile.asm-headers) plus what '
            f"{ARM64_ABIS} adds to it.",
            aarch64,
        ),
    ]


def regen_command(version: str, source_note: str | None) -> list[str]:
    """The shell command that reproduces a module, one option per line (with `\\` continuations)."""
    options = [["--linux-tree", "LINUX_TREE"], ["--version", version]]
    if source_note:
        options.append(["--source-note", source_note])
    lines = [f"python3 {SCRIPT}", *(shlex.join(option) for option in options)]
    return [line + " \\" for line in lines[:-1]] + [lines[-1]]


def _comment(text: str, indent: str = "") -> list[str]:
    width = 100 - len(indent)
    return [f"# {indent}{line}".rstrip() for line in textwrap.wrap(text, width) or [""]]


def render(table: Table, version: str, source_note: str | None) -> str:
    """Return the text of one generated module."""
    sources = " and ".join(table.sources)
    lines = [
        f"# Generated by {SCRIPT} -- DO NOT EDIT.",
        "#",
        *_comment(f"Source: {sources} of Linux {version}."),
    ]
    if source_note:
        lines += _comment(f"Provenance: {source_note}")
    lines += [
        *_comment(f"Rule: {table.rule}"),
        *_comment(
            "Entries without an entry point (reserved or removed calls) are kept: the number is "
            "still one a traced process can issue and the kernel can report, even if it only returns ENOSYS."
        ),
        "#",
        "# Regenerate (LINUX_TREE is a Linux source tree of that version) with:",
        *(f"#   {line}" if i == 0 else f"#       {line}" for i, line in enumerate(regen_command(version, source_note))),
        f'"""{table.module} system call numbers and names: {len(table.names)} entries, sorted by number."""',
        "",
        "NAMES: dict[int, str] = {",
        *(f'    {number}: "{name}",' for number, name in table.names.items()),
        "}",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--linux-tree", type=Path, required=True, help="root of a Linux source tree")
    parser.add_argument("--version", required=True, help='Linux version to record in the headers, e.g. "v6.18"')
    parser.add_argument("--source-note", help="optional provenance of the tree, recorded in the headers")
    parser.add_argument(
        "--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="where the modules go (default: %(default)s)"
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any module would change")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        tables = build_tables(args.linux_tree)
    except (TableError, OSError) as exc:
        print(f"gen_syscall_tables: error: {exc}", file=sys.stderr)
        return 2
    stale: list[Path] = []
    for table in tables:
        path = args.out_dir / f"{table.module}.py"
        text = render(table, args.version, args.source_note)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path} ({len(table.names)} entries)")
    if stale:
        print("out of date: " + ", ".join(str(p) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
