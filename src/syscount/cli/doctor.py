"""``syscount doctor``: can syscount run here? A pass/fail table with the fix for each failure."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple, TextIO

from . import common

if TYPE_CHECKING:
    from ..requirements import Result

DESCRIPTION = """\
Check that this machine has what syscount needs: Linux 5.8 or newer with BTF, libbpf
1.x, Python 3.11 or newer, the BPF objects for this architecture, the privileges to
load BPF programs, raw tracepoints, task storage and ring buffer maps, tracefs and
cgroup v2. Kernel features are probed for real: a map is created, a program loaded
and attached, then closed at once. Prints one row per check and, for each failure,
how to fix it. Exits 0 when every check passes, 1 otherwise.
"""

EXAMPLES = """\
examples:
  sudo syscount doctor          check everything, as syscount will run
  syscount doctor               without root: shows the privileges it lacks
"""

USAGE = "syscount doctor [--debug]"


class DoctorArgs(NamedTuple):
    debug: bool


def build_parser() -> argparse.ArgumentParser:
    parser = common.command_parser("syscount doctor", USAGE, DESCRIPTION, EXAMPLES)
    common.add_debug_option(parser)
    return parser


def parse(argv: Sequence[str]) -> DoctorArgs:
    ns, _ = common.parse_options(build_parser(), argv, takes_command=False)
    return DoctorArgs(debug=ns.debug)


def run(args: DoctorArgs) -> int:
    from ..requirements import Status, run_checks

    uname = os.uname()
    out = sys.stdout
    out.write(f"syscount doctor: can syscount run here? ({uname.machine}, Linux {uname.release})\n")
    results = run_checks()
    write_table(out, results)
    failed = sum(result.status is Status.FAIL for result in results)
    if failed:
        out.write(f"\n{failed} check{'s' * (failed != 1)} failed: fix {'them' if failed > 1 else 'it'} as shown.\n")
        return common.ExitStatus.ERROR
    out.write("\nAll checks passed: syscount can count and trace here.\n")
    return common.ExitStatus.OK


def write_table(out: TextIO, results: Sequence[Result]) -> None:
    width = max(len("CHECK"), *(len(result.name) for result in results)) + 2
    out.write(f"{'CHECK':<{width}}{'RESULT':<8}DETAIL\n")
    for result in results:
        out.write(f"{result.name:<{width}}{result.status.value:<8}{result.detail}\n")
        if result.fix:
            out.write(f"{'':<{width + 8}}fix: {result.fix}\n")
