"""Finding the processes to trace, putting them into the kernel filter, and the exit
status they leave.

Shared by the commands that take -p or -- COMMAND (count, trace; serve takes -p).
"""

from __future__ import annotations

import signal
from collections.abc import Sequence

from ..programs.track import ProcessFilter
from ..targets import HeldCommand, process_tgid
from .common import ExitStatus
from .waiting import Waiter


def resolve_targets(pids: Sequence[int], command: Sequence[str]) -> tuple[list[int], HeldCommand | None]:
    """The -p processes' ids and the command, checked before any BPF work."""
    tgids = [process_tgid(pid) for pid in pids]
    return tgids, HeldCommand(command) if command else None


def select_targets(
    process_filter: ProcessFilter, waiter: Waiter, tgids: list[int], command: HeldCommand | None
) -> None:
    """Put the -p processes or the command into the kernel filter; watch them exit."""
    for tgid in tgids:
        process_filter.add(tgid)
        waiter.watch(tgid)
    if command is not None:
        start_command(command, process_filter, waiter)


def start_command(command: HeldCommand, process_filter: ProcessFilter, waiter: Waiter) -> None:
    """Fork the command held before exec, add it to the filter, then let it run."""
    command.spawn()
    try:
        process_filter.add_from_exec(command.pid)
        waiter.watch(command.pid)
    except BaseException:
        command.abandon()
        raise
    command.release()


def exit_status(command: HeldCommand | None, waiter: Waiter) -> int:
    """The command's own status if it ended; 128 + the signal that stopped syscount; else 0."""
    if command is not None:
        if waiter.signal == signal.SIGTERM:
            command.terminate()  # the terminal delivers SIGINT to it already; SIGTERM is ours alone
        status = command.poll()
        if status is not None:
            return status
    if waiter.signal is not None:
        return ExitStatus.stopped_by(waiter.signal)
    return ExitStatus.OK
