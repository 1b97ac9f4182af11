"""The -s/--syscall selector: parsing, validation messages, and resolution to numbers per ABI."""

from __future__ import annotations

import pytest

from syscount.errors import UsageError
from syscount.names.classes import CLASSES
from syscount.names.select import SyscallSelection, class_names, parse_selection
from syscount.names.syscalls import SyscallTable, table_for

X86_64 = table_for("x86_64")
I386 = table_for("i386")
BOTH = (X86_64, I386)


def test_class_minus_name() -> None:
    sel = parse_selection("%file,!openat", BOTH)
    numbers = sel.numbers(X86_64)
    assert 2 in numbers  # open
    assert 257 not in numbers  # openat
    assert 4 in numbers  # stat
    assert 0 not in numbers  # read: not a file call
    assert sel.include_classes == {"file"}
    assert sel.exclude_names == {"openat"}
    assert sel.describe() == "%file except openat"


def test_only_exclusions_means_everything_else() -> None:
    sel = parse_selection("!%memory", BOTH)
    numbers = sel.numbers(X86_64)
    assert 9 not in numbers  # mmap
    assert 12 not in numbers  # brk
    assert 0 in numbers  # read
    assert sel.includes_all
    assert numbers == frozenset(X86_64.names) - {X86_64.number(n) for n in CLASSES["memory"]}
    assert sel.describe() == "all syscalls except %memory"


def test_i386_resolution() -> None:
    sel = parse_selection("%file", BOTH)
    numbers = sel.numbers(I386)
    assert {5, 295} <= numbers  # open, openat in the i386 numbering
    assert 195 in numbers  # stat64, i386 only
    assert 3 not in numbers  # read
    # Same selector, native numbering: open is 2 there, and i386's 5 is fstat.
    assert 2 in sel.numbers(X86_64)
    assert 5 not in sel.numbers(X86_64)


def test_names_per_table() -> None:
    sel = parse_selection("socketcall, connect", BOTH)
    assert sel.names(I386) == {"socketcall", "connect"}
    assert sel.names(X86_64) == {"connect"}  # socketcall is i386-only: valid, but absent here
    assert sel.numbers(X86_64) == {42}


def test_plain_names_and_whitespace() -> None:
    sel = parse_selection(" read ,  write,! read ", BOTH)
    assert sel.numbers(X86_64) == {1}  # an exclusion wins over an inclusion
    assert sel.text() == "read,write,!read"
    assert sel.describe() == "read, write except read"


def test_duplicates_collapse_and_equality_ignores_order() -> None:
    a = parse_selection("open,open,%network", BOTH)
    b = parse_selection("%network,open", BOTH)
    assert a == b
    assert a.text() == "open,%network"
    assert repr(a) == "SyscallSelection('open,%network')"


def test_union_of_classes() -> None:
    sel = parse_selection("%network,%process", BOTH)
    names = sel.names(X86_64)
    assert {"socket", "connect", "clone", "execve", "exit_group", "wait4"} <= names
    assert "read" not in names


def test_everything_excluded_is_empty_not_an_error() -> None:
    assert parse_selection("open,!open", BOTH).numbers(X86_64) == frozenset()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("opn", "-s: unknown syscall 'opn' (did you mean: open, openat"),
        ("%fil", "-s: unknown class '%fil' (classes: %clock, %creds, %desc, %file, %ipc"),
        ("!%fil", "-s: unknown class '%fil'"),
        ("open,,read", "-s: empty item"),
        (",", "-s: empty item"),
        ("open,!", "-s: empty item"),
        ("", "-s: empty syscall list"),
        ("   ", "-s: empty syscall list"),
        ("!!open", "one '!' per item"),
        ("frobnicate_everything", "-s: unknown syscall 'frobnicate_everything'"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_selection(text, BOTH)
    assert str(info.value).startswith(message) or message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_name_without_close_match_has_no_suggestion() -> None:
    with pytest.raises(UsageError, match=r"^-s: unknown syscall 'zzzzzzzzzz'$"):
        parse_selection("zzzzzzzzzz", BOTH)


def test_validation_uses_the_union_of_tables() -> None:
    # stat64 exists only in i386: valid when the compat table is given, unknown for x86_64 alone.
    parse_selection("stat64", BOTH)
    with pytest.raises(UsageError, match=r"unknown syscall 'stat64'"):
        parse_selection("stat64", [X86_64])


def test_option_name_in_messages() -> None:
    with pytest.raises(UsageError, match=r"^--syscall: unknown syscall 'opn'"):
        parse_selection("opn", BOTH, option="--syscall")


def test_needs_a_table() -> None:
    with pytest.raises(ValueError, match="at least one"):
        parse_selection("open", [])


def test_class_names() -> None:
    assert class_names() == sorted(class_names())
    assert "%file" in class_names() and "%memory" in class_names()
    assert len(class_names()) == len(CLASSES)


def test_selection_from_synthetic_table() -> None:
    table = SyscallTable("toy", {0: "read", 1: "open", 2: "mmap"})
    sel = SyscallSelection([(False, "%file"), (True, "mmap")])
    assert sel.numbers(table) == {1}
    assert parse_selection("!%desc", [table]).numbers(table) == set()  # read, open, mmap all use fds
