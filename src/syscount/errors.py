"""Errors syscount raises; __main__ turns them into one line on stderr."""

from __future__ import annotations

# Every error about what this machine lacks (privileges, kernel features, libbpf, the
# compiled objects) ends by pointing at the command that checks them all at once.
DOCTOR_HINT = "`sudo syscount doctor` checks what this machine needs"
PERMISSION_HINT = f"run as root, or grant CAP_BPF and CAP_PERFMON (e.g. sudo syscount ...); {DOCTOR_HINT}"


class SyscountError(Exception):
    """Base class: a failure the user can act on, shown as `syscount: error: <message>`."""


class UsageError(SyscountError):
    """Bad command-line input."""


class PermissionDenied(SyscountError):
    """Not allowed to load or attach BPF programs."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what}: permission denied; {PERMISSION_HINT}")


class NotSupported(SyscountError):
    """The kernel or machine lacks something syscount needs."""

    def __init__(self, feature: str, why: str) -> None:
        super().__init__(f"{feature} is not supported here: {why}; {DOCTOR_HINT}")
        self.feature = feature
        self.why = why


class LibraryMissing(SyscountError):
    """A shared library syscount needs (libbpf) cannot be loaded."""

    def __init__(self, library: str, why: str, fix: str) -> None:
        super().__init__(f"{library} cannot be loaded ({why}): {fix}; {DOCTOR_HINT}")


class LoadError(SyscountError):
    """The kernel refused a BPF object; carries the verifier log."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(f"{message}; {DOCTOR_HINT}")
        self.log = log


class TargetError(SyscountError):
    """A process or command to trace cannot be found or started."""


class OutputError(SyscountError):
    """A file to write the output to (-o) cannot be opened."""
