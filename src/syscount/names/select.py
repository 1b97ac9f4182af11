"""The ``-s/--syscall LIST`` selector: which syscalls to count.

LIST is comma-separated items; each is a syscall name in the kernel's spelling
(``openat``) or a class (``%file``, ``%network``, ... see ``classes.py``), and
``!`` before an item excludes it.  Whitespace around items is ignored.

Semantics, for one ``SyscallTable``::

    result = (union of the included names and classes, or ALL of the table's
              syscalls when nothing is included)  minus  (every excluded item)

so ``-s '%file,!openat'`` is the file calls but openat, ``-s '!%memory'`` is
everything but the memory calls, and an exclusion always wins over an inclusion
(``-s 'open,!open'`` selects nothing).  Order does not matter.

Names are validated against the union of the tables the caller passes (native
and compat), because one selector is resolved once per ABI: ``socketcall`` is
a valid name on an x86_64 machine that can run i386 processes, and simply
selects nothing in the x86_64 table.  The kernel program gets the result as
syscall NUMBERS (``SyscallSelection.numbers``), one bitmap per ABI.

    >>> from syscount.names.syscalls import table_for
    >>> x86_64 = table_for("x86_64")
    >>> sel = parse_selection("%file, !openat", [x86_64])
    >>> 2 in sel.numbers(x86_64), 257 in sel.numbers(x86_64)
    (True, False)
    >>> sel.describe()
    '%file except openat'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..errors import UsageError
from .classes import CLASSES
from .syscalls import SyscallTable

__all__ = ["CLASS_PREFIX", "EXCLUDE_PREFIX", "SyscallSelection", "class_names", "parse_selection"]

CLASS_PREFIX = "%"
EXCLUDE_PREFIX = "!"


def class_names() -> list[str]:
    """Every class as the user writes it (``%clock``, ...), sorted."""
    return [CLASS_PREFIX + name for name in sorted(CLASSES)]


class SyscallSelection:
    """A parsed ``-s`` list; resolve it per ABI with ``names(table)`` or ``numbers(table)``.

    A plain class with slots, like SyscallTable: the CLI builds one before it attaches,
    where start-up time counts."""

    __slots__ = ("exclude_classes", "exclude_names", "include_classes", "include_names", "items")

    def __init__(self, items: Iterable[tuple[bool, str]]) -> None:
        """``items`` are (excluded, item) pairs as written, classes with their ``%``, already validated."""
        # Kept in the user's order (first occurrence) for describe(); sets for resolving.
        self.items: tuple[tuple[bool, str], ...] = tuple(dict.fromkeys(items))
        self.include_names = frozenset(i for ex, i in self.items if not ex and not i.startswith(CLASS_PREFIX))
        self.exclude_names = frozenset(i for ex, i in self.items if ex and not i.startswith(CLASS_PREFIX))
        self.include_classes = frozenset(i[1:] for ex, i in self.items if not ex and i.startswith(CLASS_PREFIX))
        self.exclude_classes = frozenset(i[1:] for ex, i in self.items if ex and i.startswith(CLASS_PREFIX))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SyscallSelection) and set(self.items) == set(other.items)

    __hash__ = None  # type: ignore[assignment]  # equality is by content; nothing needs these as keys

    def __repr__(self) -> str:
        return f"SyscallSelection({self.text()!r})"

    @property
    def includes_all(self) -> bool:
        """True when nothing is included explicitly, so the base is every syscall."""
        return not self.include_names and not self.include_classes

    def text(self) -> str:
        """The selector in canonical ``-s`` syntax (no spaces, duplicates dropped)."""
        return ",".join(EXCLUDE_PREFIX + item if excluded else item for excluded, item in self.items)

    def names(self, table: SyscallTable) -> frozenset[str]:
        """The selected names that ``table`` has."""
        available = frozenset(table.names.values())
        if self.includes_all:
            chosen = set(available)
        else:
            chosen = set(self.include_names)
            for cls in self.include_classes:
                chosen |= CLASSES[cls]
        chosen -= self.exclude_names
        for cls in self.exclude_classes:
            chosen -= CLASSES[cls]
        return frozenset(chosen & available)

    def numbers(self, table: SyscallTable) -> frozenset[int]:
        """The selected syscall numbers of ``table``'s ABI."""
        chosen = self.names(table)
        return frozenset(nr for nr, name in table.names.items() if name in chosen)

    def describe(self) -> str:
        """A short phrase for messages, e.g. ``%file except openat`` or ``all syscalls except %memory``."""
        included = [item for excluded, item in self.items if not excluded]
        excluded = [item for excluded, item in self.items if excluded]
        text = ", ".join(included) if included else "all syscalls"
        if excluded:
            text += " except " + ", ".join(excluded)
        return text


def parse_selection(text: str, tables: Sequence[SyscallTable], option: str = "-s") -> SyscallSelection:
    """Parse and validate a ``-s`` list against the names of ``tables`` (a name in any of them is valid).

    Raises UsageError (one line, prefixed with ``option``) for an empty list or item, an
    unknown class, or an unknown syscall, suggesting close matches.
    """
    if not tables:
        raise ValueError("parse_selection needs at least one SyscallTable to validate names against")
    known: set[str] = set()
    for table in tables:
        known.update(table.names.values())
    if not text.strip():
        raise UsageError(f"{option}: empty syscall list")
    items: list[tuple[bool, str]] = []
    for raw in text.split(","):
        item = raw.strip()
        excluded = item.startswith(EXCLUDE_PREFIX)
        if excluded:
            item = item[len(EXCLUDE_PREFIX) :].strip()
        if not item:
            raise UsageError(f"{option}: empty item in syscall list {text!r}")
        if item.startswith(CLASS_PREFIX):
            if item[len(CLASS_PREFIX) :] not in CLASSES:
                raise UsageError(f"{option}: unknown class {item!r} (classes: {', '.join(class_names())})")
        elif item not in known:
            raise UsageError(f"{option}: unknown syscall {item!r}{_suggest(item, known)}")
        items.append((excluded, item))
    return SyscallSelection(items)


def _suggest(item: str, known: set[str]) -> str:
    import difflib  # only on this error path: it is not needed to start counting

    if item.startswith(EXCLUDE_PREFIX):
        return " (one '!' per item)"
    # Lower-case first so "OPENAT" finds "openat"; kernel names are all lower case.
    matches = difflib.get_close_matches(item.lower(), sorted(known), n=5, cutoff=0.6)
    return f" (did you mean: {', '.join(matches)}?)" if matches else ""
