"""``-o FILE --output-separately``: one file per process, ``FILE.PID``, as ``strace -ff -o``.

Each event line goes to the file of its process (the ``pid`` of the line), opened on
the process's first event and appended to; syscount's own lines (losses, the final
line) go to FILE itself. Lines are grouped per file so a batch is still one write per
file. The per-process files are plain appends: unlike FILE they are not reopened on
SIGHUP, and a failed write ends the run with an error.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..errors import OutputError
from .sink import EventSink, Output
from .stream import decode

# The pid of a line: text "HH:MM:SS.us PID/TID ...", JSON {"time":...,"pid":PID,...}.
_TEXT_PID = re.compile(r"\S+ (\d+)/")
_JSON_PID = re.compile(r'"pid":(\d+)')


class SeparateSink(EventSink):
    """An EventSink whose events go to ``FILE.PID`` files (the module docstring)."""

    def __init__(self, output: Output, path: str, *args: Any, **kwargs: Any) -> None:
        kwargs["vectorize"] = False  # one line per event, to route each one
        super().__init__(output, *args, **kwargs)
        self.path = path
        self.files: dict[int, int] = {}

    def batch(self, span: bytes) -> int:
        lines = self._lines
        consumed, events = decode(span, self.formatters, lines, None)
        if lines:
            self.events += events
            groups: dict[int, list[str]] = {}
            for line in lines:
                assert isinstance(line, str)  # per event, never numpy's pieces
                groups.setdefault(_pid(line), []).append(line)
            for pid, group in groups.items():
                try:
                    _write_all(self._file(pid), "".join(group))
                except OSError as exc:  # a full disk: one line, not a traceback
                    raise OutputError(f"cannot write {self.path}.{pid}: {exc.strerror}") from exc
            lines.clear()
        return consumed

    def _file(self, pid: int) -> int:
        fd = self.files.get(pid)
        if fd is None:
            name = f"{self.path}.{pid}"
            try:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise OutputError(f"cannot write {name}: {exc.strerror}") from exc
            self.files[pid] = fd
        return fd

    def close(self) -> None:
        for fd in self.files.values():
            os.close(fd)
        self.files.clear()


def _pid(line: str) -> int:
    match = _JSON_PID.search(line) if line.startswith("{") else _TEXT_PID.match(line)
    return int(match[1]) if match else 0


def _write_all(fd: int, text: str) -> None:
    data = memoryview(text.encode("utf-8", "backslashreplace"))
    while data:
        data = data[os.write(fd, data) :]
