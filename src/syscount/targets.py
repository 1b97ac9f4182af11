"""What to count: existing processes (``-p``) or a command syscount starts (``-- COMMAND``)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from .errors import TargetError, UsageError

# Signals Python sets to SIG_IGN for itself; a started command must get them back at
# their default, or e.g. `syscount -- yes | head` would never end.
_RESET_SIGNALS = ("SIGPIPE", "SIGXFSZ")


def parse_pids(text: str) -> list[int]:
    """``"12,34"`` → ``[12, 34]``; anything else is a usage error."""
    pids = []
    for part in text.split(","):
        pid = part.strip()
        if not pid.isdigit() or int(pid) <= 0:
            raise UsageError(f"-p: {pid!r} is not a process id (expected PID[,PID...])")
        pids.append(int(pid))
    return pids


def process_tgid(pid: int) -> int:
    """The process (thread group) a pid belongs to; -p counts whole processes."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as status:
            for line in status:
                if line.startswith("Tgid:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass  # gone before the open, or (ESRCH) between the open and the read
    except OSError as exc:
        raise TargetError(f"-p {pid}: {exc.strerror}") from exc
    raise TargetError(f"-p {pid}: no such process")


class HeldCommand:
    """A command forked but held before ``execve`` until its pid is in the kernel filter.

    The child blocks in ``read()`` on a pipe until released. The kernel filter counts it
    from its ``execve`` on (SC_TRACK_AT_EXEC), so nothing the child does as syscount's
    code is counted and the first call counted is the ``execve`` itself, as with
    ``strace -c -f``. The path is resolved here, so the child makes exactly one ``execve``.
    """

    def __init__(self, argv: Sequence[str], *, quiet: bool = False) -> None:
        if not argv:
            raise UsageError("no command given after --")
        import shutil  # only in command mode: it costs start-up time

        path = shutil.which(argv[0])
        if path is None:
            raise TargetError(f"command not found: {argv[0]}")
        self.argv = list(argv)
        self.path = path
        self.pid = 0
        self._go = -1
        # quiet: stdin, stdout and stderr on /dev/null (a full-screen view owns the terminal).
        self.quiet = quiet

    def spawn(self) -> int:
        ready, go = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            self._child(ready, go)
        os.close(ready)
        self.pid = pid
        self._go = go
        return pid

    def _child(self, ready: int, go: int) -> None:  # pragma: no cover - runs in the child
        try:
            os.close(go)
            for name in _RESET_SIGNALS:
                signal.signal(getattr(signal, name), signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            if os.read(ready, 1) != b"g":
                os._exit(125)  # syscount went away before tracing started
            if self.quiet:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
            os.execv(self.path, self.argv)
        except OSError as exc:
            os.write(2, f"syscount: error: running {self.argv[0]}: {exc.strerror}\n".encode())
            os._exit(126)
        except BaseException:
            os._exit(125)

    def release(self) -> None:
        """Let the child run its command (tracing must already cover its pid)."""
        os.write(self._go, b"g")
        os.close(self._go)
        self._go = -1

    def abandon(self) -> None:
        """Setup failed: the child exits without running the command."""
        if self._go >= 0:
            os.close(self._go)
            self._go = -1
            os.waitpid(self.pid, 0)

    def wait(self) -> int:
        """Wait for the command; its exit status, 128+N when killed by signal N."""
        _, status = os.waitpid(self.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        return 128 - code if code < 0 else code

    def terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)

    def poll(self) -> int | None:
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return None
        code = os.waitstatus_to_exitcode(status)
        return 128 - code if code < 0 else code
