"""Putting the processes to trace into the kernel filter, and the exit status they leave.

Shared by the commands that take -p or -- COMMAND (count, trace).
"""

from __future__ import annotations

import signal

from ..programs.track import ProcessFilter
from ..targets import HeldCommand
from .waiting import Waiter

EXIT_OK = 0


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
        return 128 + waiter.signal
    return EXIT_OK
