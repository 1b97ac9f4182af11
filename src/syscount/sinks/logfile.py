"""The ``-o`` file: whole records only, survives a full disk, reopens for log rotation.

A long run must outlive its log's problems:

- **Write errors** (ENOSPC, EIO, EFBIG, EDQUOT, a read-only remount...) do not stop
  counting. The record that could not be written is left out whole (a short write is
  cut back, so the file never holds half a record), counted, and the failure is
  reported once, as one line; once writing works again, that is reported once too.
- **Rotation**: logrotate moves the file, then sends SIGHUP. ``request_reopen`` (safe
  in a signal handler: it only sets a flag) makes the next record go to a new file at
  the path. Records are written whole by one ``write`` each, and the switch happens
  between two of them, so no record is lost or split across the two files.
- **A deleted file** (its directory removed, or ``rm`` to free space) is noticed
  before each record (no links left) and the path opened again; if that fails, the
  record is not written, as for a write error.
- **A header** (CSV's) is written at the start of every new file, including after a
  rotation, as part of the first record.

Sinks write to it like a text stream: ``write`` buffers, ``flush`` ends a record.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable

Warn = Callable[[str], None]


def warn_on_stderr(message: str) -> None:
    sys.stderr.write(f"syscount: warning: {message}\n")
    sys.stderr.flush()


class LogFile(io.TextIOBase):
    """Context manager: the file at ``path``, opened for appending on enter (an error then
    is raised: a bad path must fail before any BPF work), closed on exit."""

    def __init__(self, path: str, *, unit: str = "interval", warn: Warn = warn_on_stderr) -> None:
        super().__init__()
        self.path = path
        self.unit = unit  # what a record holds, for the messages: interval, event
        self.unwritten = 0  # items (intervals, events) that could not be written
        self._warn = warn
        self._fd: int | None = None
        self._buffer: list[str] = []
        self._header = b""
        self._reopen = False
        self._failing: str | None = None  # the error being reported, while it lasts
        self._missed_while_failing = 0

    def __enter__(self) -> LogFile:
        self._fd = self._open()
        return self

    def close(self) -> None:
        if not self.closed:
            self.flush()  # a record still buffered (the base class would flush after the fd is gone)
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
        super().close()

    # The text-stream face, for the sinks.
    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False  # appended to; where its end is changes with rotation

    def write(self, text: str) -> int:
        self._buffer.append(text)
        return len(text)

    def flush(self) -> None:
        """End of a record: write what was buffered since the last one, as one piece."""
        if self._buffer:
            text, self._buffer = "".join(self._buffer), []
            self.commit(text.encode("utf-8", "surrogateescape"))

    def set_header(self, text: str) -> None:
        """Written first into every new (empty) file: CSV's column names."""
        self._header = text.encode("utf-8")

    def request_reopen(self) -> None:
        """Send the next record to a new file at the path (SIGHUP). Signal-safe."""
        self._reopen = True

    def reopen_if_requested(self) -> None:
        """Apply a pending reopen now, between records (the run loop calls this after a
        wake-up, so the moved file is let go of at once, not at the next record)."""
        if self._reopen:
            try:
                self._current()
            except OSError as exc:
                self._failed(exc, 0)

    @property
    def failing(self) -> bool:
        return self._failing is not None

    def commit(self, data: bytes, items: int = 1) -> bool:
        """Append ``data`` whole, or not at all; False (and ``items`` counted) if not."""
        try:
            fd = self._current()
            size = os.fstat(fd).st_size
            if size == 0 and self._header:
                data = self._header + data
            self._write_all(fd, data, size)
        except OSError as exc:
            self._failed(exc, items)
            return False
        self._recovered()
        return True

    def _current(self) -> int:
        """The descriptor to write to: reopened at the path after SIGHUP or once the
        file is gone (no links left), or after a failure to open it."""
        fd = self._fd
        if fd is not None and not self._reopen and os.fstat(fd).st_nlink > 0:
            return fd
        self._reopen = False
        self._fd = None
        if fd is not None:
            os.close(fd)
        self._fd = self._open()
        return self._fd

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)

    @staticmethod
    def _write_all(fd: int, data: bytes, size: int) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            if len(view) < len(data):  # part of the record went in: take it out again
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
            raise

    def _failed(self, exc: OSError, items: int) -> None:
        self.unwritten += items
        self._missed_while_failing += items
        reason = exc.strerror or str(exc)
        if self._failing != reason:
            self._failing = reason
            self._warn(f"writing {self.path}: {reason}; counting goes on")

    def _recovered(self) -> None:
        if self._failing is None:
            return
        missed, self._missed_while_failing, self._failing = self._missed_while_failing, 0, None
        lost = f"; {_items(missed, self.unit)} could not be written" if missed else ""
        self._warn(f"writing {self.path} works again{lost}")


def _items(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"
