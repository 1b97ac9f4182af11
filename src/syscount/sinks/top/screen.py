"""The full-screen terminal of ``syscount top``: raw keys in, rich frames out.

rich (``Live`` on the alternate screen, redrawn only when asked) rather than Textual:
it starts in a fifth of the time and redraws a frame for a fraction of the CPU (see
docs/benchmarks.md), and the view is a table that a pure model already lays out.
Only ``syscount top`` imports this module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import termios
from types import FrameType, TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from .controls import HELP, Screen
from .frame import Status, header, table_lines
from .model import Table, Tallies, finish_rows

MIN_WIDTH = 60
MIN_HEIGHT = 10
HEADER_LINES = 4
FOOTER = "? help  q quit  s/p/t/c/g views  Enter drill  Bksp back  </> sort  / filter  L latency  space pause"


class Terminal:
    """Context manager: raw keys, alternate screen, hidden cursor; all restored on exit,
    whatever the exit (also after SIGTERM or a hang-up, when writing may fail)."""

    def __init__(self) -> None:
        self.fd = sys.stdin.fileno()
        self.resized = False
        self._saved: list[Any] | None = None
        self._console = Console(highlight=False)
        self._live = Live(console=self._console, screen=True, auto_refresh=False, redirect_stdout=False)

    def __enter__(self) -> Terminal:
        self._saved = termios.tcgetattr(self.fd)
        raw = termios.tcgetattr(self.fd)
        # No echo, no line editing, and Ctrl-C arrives as a key: quitting is the loop's job.
        raw[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN)
        raw[0] &= ~(termios.IXON | termios.ICRNL)
        raw[6][termios.VMIN] = 1
        raw[6][termios.VTIME] = 0
        termios.tcsetattr(self.fd, termios.TCSANOW, raw)
        self._old_winch = signal.signal(signal.SIGWINCH, self._on_resize)
        try:
            self._live.__enter__()
        except BaseException:
            self._restore()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        with contextlib.suppress(OSError):
            self._live.__exit__(exc_type, exc, traceback)
        self._restore()

    def _restore(self) -> None:
        signal.signal(signal.SIGWINCH, self._old_winch)
        if self._saved is not None:
            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self.fd, termios.TCSAFLUSH, self._saved)

    def _on_resize(self, signum: int, frame: FrameType | None) -> None:
        self.resized = True

    def keys_text(self) -> str:
        """What was typed (call when the fd is readable)."""
        data = os.read(self.fd, 1024)
        return data.decode("utf-8", errors="replace")

    @property
    def size(self) -> tuple[int, int]:
        size = os.get_terminal_size(sys.stdout.fileno())
        return size.columns, size.lines

    def page(self) -> int:
        """Rows of the table that fit (header, column header and footer take the rest)."""
        return max(self.size[1] - HEADER_LINES - 2, 1)

    def draw(self, tallies: Tallies, screen: Screen, status: Status, tab: Table) -> None:
        self._live.update(render(tallies, screen, status, tab, self.size), refresh=True)


def render(tallies: Tallies, screen: Screen, status: Status, tab: Table, size: tuple[int, int]) -> Text:
    """One frame as styled text, cut to the terminal's (width, height)."""
    width, height = size
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        return Text(f"terminal too small ({width}x{height}): syscount top needs {MIN_WIDTH}x{MIN_HEIGHT}; q quits")
    if screen.help:
        return Text(HELP)
    text = Text(no_wrap=True, overflow="crop")
    for line in header(tallies, screen.view, status, tab, exact=False):
        text.append(line[:width] + "\n", style="bold" if line.startswith("syscount") else "")
    page = max(height - HEADER_LINES - 2, 1)
    shown = finish_rows(tallies, screen.view.scope, tab.rows[screen.top : screen.top + page])
    lines = table_lines(tab._replace(rows=shown), exact=False, width=width)
    text.append(lines[0][:width].ljust(width) + "\n", style="reverse")
    for offset, line in enumerate(lines[1:]):
        style = "reverse bold" if screen.top + offset == screen.selected else ""
        text.append(line[:width] + "\n", style=style)
    for _ in range(page - (len(lines) - 1)):
        text.append("\n")
    footer = f"/{screen.view.filter}_" if screen.typing else FOOTER
    text.append(footer[:width], style="dim" if not screen.typing else "bold")
    return text
