"""``syscount seccomp``: record what a program calls, write the seccomp profile that allows it.

argv → checks (the -o file, --merge files, libseccomp) → the count command's own run
(cli/count.py ``record``: the same programs and filters as ``syscount -- COMMAND``,
enter+exit so failures are known) → the whole-run summary → recordings/seccomp.py
builds and merges the profile → the file, and a summary on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, NamedTuple, TextIO

from ..errors import OutputError, TargetError, UsageError
from ..filters import Selection
from ..recordings.seccomp import DEFAULT_ACTIONS, RUNTIME_PREAMBLES, Profile, ProfileError
from . import common

if TYPE_CHECKING:
    from ..model import Snapshot
    from .count import Outputs

USAGE = """\
syscount seccomp [-o FILE] [--merge FILE...] [--default-action errno|kill|trap|log]
                        [--runtime-preamble runc|crun] [-p PID[,PID...]] [--comm NAME]
                        [-u UID] [--cgroup PATH] [-d SECONDS] [--debug] [-- COMMAND [ARG...]]"""

DESCRIPTION = """\
Record the system calls a program makes (it and all its descendants, from its
execve on, like strace -f; or running processes, a cgroup or threads by name, for
-d seconds or until Ctrl-C) and write the OCI seccomp profile (runc, crun, docker,
podman) that allows exactly them: "linux.seccomp" of a bundle's config.json, or
docker run --security-opt seccomp=FILE. Everything else gets ENOSYS by default.
A summary goes to stderr: calls per ABI, calls seen only failing, names libseccomp
does not know (not in the profile), and what was added without being seen.
Only the code paths that ran are covered: exercise the program, merge runs.
"""

EXAMPLES = """\
examples:
  syscount seccomp -o app.json -- ./app --selftest
                          record app and its children, write the profile
  syscount seccomp -o app.json --runtime-preamble runc -- ./app
                          also allow what runc calls between installing the
                          filter and starting the program (needed under runc)
  syscount seccomp -o svc.json -p 1234 -d 600
                          record a running service for ten minutes
  syscount seccomp -o c.json --cgroup system.slice/docker-0123abcd.scope
                          record a container until Ctrl-C
  syscount seccomp -o all.json --merge run1.json run2.json -- ./app --other-mode
                          record one more run and add two earlier ones
  syscount seccomp -o all.json --merge run1.json run2.json
                          only merge (no recording, no root needed)

Default action: errno (SCMP_ACT_ERRNO with defaultErrnoRet 38, ENOSYS: programs
fall back from calls the kernel "does not implement"); kill, trap or log instead.
Needs root (or CAP_BPF + CAP_PERFMON) to record. Details: docs/seccomp.md.
"""


class SeccompArgs(NamedTuple):
    output: str | None
    merge: tuple[str, ...]
    default_action: str
    preamble: str | None
    pids: tuple[int, ...]
    selection: Selection
    duration: float | None
    debug: bool
    command: tuple[str, ...]

    @property
    def records(self) -> bool:
        """Whether anything is to be recorded (else: only merge the --merge files)."""
        s = self.selection
        return bool(self.command or self.pids or s.comm is not None or s.cgroup is not None or s.uid is not None)


def build_parser() -> argparse.ArgumentParser:
    parser = common.command_parser("syscount seccomp", USAGE, DESCRIPTION, EXAMPLES)
    add = parser.add_argument
    add("-o", "--output", metavar="FILE", help="write the profile to FILE (default: stdout)")
    add(
        "--merge",
        metavar="FILE",
        nargs="+",
        action="extend",
        default=[],
        help="OCI seccomp profiles to add: allowed calls are unioned, the strictest default action kept",
    )
    add(
        "--default-action",
        choices=DEFAULT_ACTIONS,
        default="errno",
        help="what every other call gets: errno (ENOSYS, the default), kill (the process), trap or log",
    )
    add(
        "--runtime-preamble",
        choices=sorted(RUNTIME_PREAMBLES),
        metavar="runc|crun",
        help="also allow the calls this container runtime makes after installing the filter (measured)",
    )
    common.add_pid_option(parser, "record these running processes, all their threads")
    add("--comm", metavar="NAME", help="record threads with this name (as in /proc/PID/comm)")
    add("-u", "--uid", metavar="UID|USER", help="record calls made with this real user id")
    add("--cgroup", metavar="PATH", help="record tasks in this cgroup v2 (or below it), e.g. a container")
    common.add_duration_option(parser)
    common.add_debug_option(parser)
    # The count command's other filters make no sense for a profile; selection_from reads them.
    parser.set_defaults(syscall=None, failures=False, errno=None)
    return parser


def parse(argv: Sequence[str]) -> SeccompArgs:
    from .filter_args import selection_from

    ns, command = common.parse_options(build_parser(), argv, takes_command=True)
    pids = common.pids_from(ns, command)
    return SeccompArgs(
        output=ns.output,
        merge=tuple(ns.merge),
        default_action=ns.default_action,
        preamble=ns.runtime_preamble,
        pids=pids,
        selection=selection_from(ns),
        duration=ns.duration,
        debug=ns.debug,
        command=command,
    )


def run(args: SeccompArgs) -> int:
    from ..recordings.seccomp import merge

    # Everything the user can get wrong is checked before recording.
    if not args.records and not args.merge:
        raise UsageError(
            "nothing to record: give -- COMMAND, -p PID, --cgroup PATH, --comm NAME or -u UID "
            "(or --merge FILE... alone to combine profiles)"
        )
    with ExitStack() as stack:
        destination = stack.enter_context(Destination(args.output))
        profiles = [read_profile(path) for path in args.merge]
        status, lines = int(common.ExitStatus.OK), list[str]()
        if args.records:
            from ..kernel import libseccomp

            version = libseccomp.version()
            snapshot, status = _record(args)
            profile, lines = _recorded_profile(args, snapshot, version)
        else:
            profile, profiles = profiles[0], profiles[1:]
        for other in profiles:
            profile = merge(profile, other)
        if args.merge:
            lines.append(f"merged {', '.join(args.merge)}")
        destination.write(profile.dumps())
        lines.append(
            f"wrote {destination.name}: {len(profile.allowed)} syscalls allowed, "
            f"architectures {' '.join(profile.architectures)}, default {profile.default_action}"
            + (f" (errno {profile.default_errno})" if profile.default_errno is not None else "")
        )
        for line in lines:
            sys.stderr.write(f"syscount: {line}\n")
        return status


def _record(args: SeccompArgs) -> tuple[Snapshot, int]:
    """Run the count command's recording; return its whole-run summary and exit status."""
    from .count import CountArgs, record

    count_args = CountArgs(
        interval=0.0,
        interval_given=False,
        duration=args.duration,
        top=0,
        pids=args.pids,
        output=None,
        format="text",
        list_syscalls=False,
        debug=args.debug,
        command=args.command,
        latency=True,  # enter+exit: which calls failed, for the summary
        selection=args.selection,
    )
    summary = Summary()
    status = record(count_args, lambda stack: summary.outputs)
    if summary.final is None:  # record() always ends with a summary; this guards the contract
        raise TargetError("the recording ended without a summary")
    return summary.final, status


def _recorded_profile(args: SeccompArgs, snapshot: Snapshot, version: str) -> tuple[Profile, list[str]]:
    from ..kernel.libseccomp import knows
    from ..names.syscalls import machine
    from ..recordings.seccomp import build, summary_lines

    failures = {name: sum(by_errno.values()) for name, by_errno in snapshot.errors.items()}
    profile, report = build(
        snapshot.counts,
        failures,
        machine=machine(),
        default_action=args.default_action,
        preamble=args.preamble,
        knows=knows,
    )
    return profile, summary_lines(profile, report, libseccomp=version)


class Summary:
    """A sink that keeps the whole-run snapshot (the recording reports no intervals)."""

    def __init__(self) -> None:
        self.final: Snapshot | None = None

    def emit(self, snapshot: Snapshot) -> None:
        if snapshot.final:
            self.final = snapshot

    def outputs(self) -> Outputs:
        from .count import Outputs

        return Outputs([self], report_intervals=False)


class Destination:
    """The -o file, opened (not truncated) before recording so a bad path fails first.

    A file this run created is removed again if the run fails before writing it.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.name = path if path is not None else "stdout"
        self._file: TextIO | None = None
        self._created = False
        self._written = False

    def __enter__(self) -> Destination:
        if self.path is not None:
            self._created = not os.path.lexists(self.path)
            try:
                self._file = open(self.path, "a", encoding="utf-8")  # closed in __exit__
            except OSError as exc:
                raise OutputError(f"cannot write profile {self.path}: {exc.strerror}") from exc
        return self

    def write(self, text: str) -> None:
        out = self._file if self._file is not None else sys.stdout
        if self._file is not None:
            self._file.truncate(0)  # append mode: the write then lands at the start
        out.write(text)
        out.flush()
        self._written = True

    def __exit__(self, *exc_info: object) -> None:
        if self._file is not None:
            self._file.close()
            if self._created and not self._written and self.path is not None:
                os.unlink(self.path)


def read_profile(path: str) -> Profile:
    """A --merge file, checked: one line saying what is wrong with it otherwise."""
    from ..recordings.seccomp import profile_from_oci

    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except OSError as exc:
        raise ProfileError(path, str(exc.strerror), read=False) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(path, f"not JSON ({exc})") from exc
    return profile_from_oci(data, path)
