"""Keys from a terminal in raw mode: bytes → key names ("q", "enter", "up", "f6"...).

A small decoder instead of a TUI framework: ``syscount top`` needs a dozen keys, and
reading them this way costs nothing between frames.
"""

from __future__ import annotations

# Escape sequences as xterm, tmux and the Linux console send them.
_SEQUENCES = {
    "\x1b[A": "up",
    "\x1b[B": "down",
    "\x1b[C": "right",
    "\x1b[D": "left",
    "\x1bOA": "up",
    "\x1bOB": "down",
    "\x1b[5~": "pgup",
    "\x1b[6~": "pgdn",
    "\x1b[H": "home",
    "\x1b[F": "end",
    "\x1bOH": "home",
    "\x1bOF": "end",
    "\x1b[1~": "home",
    "\x1b[4~": "end",
    "\x1b[17~": "f6",
    "\x1b[20~": "f9",
}
_SINGLE = {"\r": "enter", "\n": "enter", "\x7f": "backspace", "\x08": "backspace", "\x03": "ctrl-c", "\t": "tab"}


def decode(text: str) -> list[str]:
    """Every key in ``text`` (one read's worth). A lone ESC is the Escape key; an
    unknown sequence is dropped whole rather than read as letters."""
    keys = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\x1b":
            end = _sequence_end(text, i)
            if end == i + 1:
                keys.append("escape")
            elif text[i:end] in _SEQUENCES:
                keys.append(_SEQUENCES[text[i:end]])
            i = end
            continue
        keys.append(_SINGLE.get(ch, ch))
        i += 1
    return keys


def _sequence_end(text: str, start: int) -> int:
    """Where the escape sequence at ``start`` ends (CSI: a final byte @..~; SS3: one letter)."""
    if start + 1 >= len(text) or text[start + 1] not in "[O":
        return start + 1
    if text[start + 1] == "O":
        return min(start + 3, len(text))
    i = start + 2
    while i < len(text) and not "@" <= text[i] <= "~":
        i += 1
    return min(i + 1, len(text))
