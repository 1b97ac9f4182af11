"""What each key does: (screen state, key) → new screen state. Pure, so it is unit-tested.

The run loop acts on the fields it owns: ``quit``, ``interval_s``, ``paused``, and
the breakdown and exit side the current view needs (``wants()``), re-attaching when
they differ from what is attached.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .model import Row, ViewState, drill_into, errnos_of, sort_step

INTERVALS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
VIEW_KEYS = {"s": "syscall", "p": "process", "t": "thread", "c": "comm", "g": "cgroup"}

HELP = """\
syscount top keys
  s p t c g    view: per syscall, process, thread, comm (thread name), cgroup
  Enter        drill down: a syscall's processes, a process's syscalls, then errnos
  Backspace    back up (Escape too)
  e            errno view of the selected row
  < > F6       sort by the previous / next column     r  reverse the sort
  /            filter rows by a substring (Enter keeps it, Escape clears it)
  space        pause / resume          + -   longer / shorter interval
  L            latency and errors: attaches the enter+exit programs (again to detach)
  up down PgUp PgDn Home End           move the selection
  q Ctrl-C     quit                    ? h   this help (any key closes it)
"""


@dataclass(frozen=True)
class Screen:
    view: ViewState = field(default_factory=ViewState)
    selected: int = 0  # index into the sorted, filtered rows
    top: int = 0  # first row shown
    interval_s: float = 1.0
    paused: bool = False
    typing: bool = False  # the filter line is being edited
    help: bool = False
    quit: bool = False
    breakdown: str = "process"  # the breakdown the syscall view drills into

    def wants(self) -> tuple[str, bool]:
        """The breakdown and exit side the current view needs."""
        by = self.breakdown if self.view.view == "syscall" else self.view.view
        return by, self.view.latency


def press(screen: Screen, key: str, rows: list[Row], columns: tuple[str, ...], page: int) -> Screen:
    if screen.help:
        return replace(screen, help=False)
    if screen.typing:
        return _type(screen, key)
    if key in ("q", "ctrl-c"):
        return replace(screen, quit=True)
    if key in ("?", "h"):
        return replace(screen, help=True)
    if key in VIEW_KEYS:
        view = VIEW_KEYS[key]
        breakdown = view if view != "syscall" else screen.breakdown
        return replace(screen, view=screen.view.switch(view), selected=0, top=0, breakdown=breakdown)
    moved = _move(screen, key, len(rows), page)
    if moved is not None:
        return moved
    return _act(screen, key, rows, columns)


def _act(screen: Screen, key: str, rows: list[Row], columns: tuple[str, ...]) -> Screen:
    view = screen.view
    row = rows[screen.selected] if 0 <= screen.selected < len(rows) else None
    if key == "enter" and row is not None:
        return replace(screen, view=drill_into(view, row), selected=0, top=0)
    if key == "e" and row is not None:
        return replace(screen, view=errnos_of(view, row), selected=0, top=0)
    if key in ("backspace", "escape"):
        return replace(screen, view=view.up(), selected=0, top=0)
    if key in ("<", ">", "f6"):
        return replace(screen, view=sort_step(view, columns, -1 if key == "<" else 1))
    if key == "r":
        return replace(screen, view=replace(view, reverse=not view.reverse))
    if key == "/":
        return replace(screen, typing=True, view=replace(view, filter=""), selected=0, top=0)
    if key == " ":
        return replace(screen, paused=not screen.paused)
    if key in ("+", "-"):
        return replace(screen, interval_s=_step_interval(screen.interval_s, 1 if key == "+" else -1))
    if key == "L":
        return replace(screen, view=replace(view, latency=not view.latency))
    return screen


def _type(screen: Screen, key: str) -> Screen:
    view = screen.view
    if key == "enter":
        return replace(screen, typing=False)
    if key == "escape":
        return replace(screen, typing=False, view=replace(view, filter=""))
    if key == "backspace":
        return replace(screen, view=replace(view, filter=view.filter[:-1]))
    if len(key) == 1 and key.isprintable():
        return replace(screen, view=replace(view, filter=view.filter + key), selected=0, top=0)
    return screen


def _move(screen: Screen, key: str, count: int, page: int) -> Screen | None:
    steps = {"up": -1, "down": 1, "pgup": -page, "pgdn": page, "home": -count, "end": count}
    if key not in steps:
        return None
    return scrolled(replace(screen, selected=screen.selected + steps[key]), count, page)


def scrolled(screen: Screen, count: int, page: int) -> Screen:
    """Keep the selection inside the rows and the window around the selection."""
    selected = min(max(screen.selected, 0), max(count - 1, 0))
    top = min(screen.top, selected)
    if selected >= top + page:
        top = selected - page + 1
    return replace(screen, selected=selected, top=max(top, 0))


def _step_interval(current: float, step: int) -> float:
    index = min(range(len(INTERVALS)), key=lambda i: abs(INTERVALS[i] - current))
    return INTERVALS[min(max(index + step, 0), len(INTERVALS) - 1)]
