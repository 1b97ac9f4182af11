"""syscount(1), written in roff from the parsers (cli/reference.py) when the wheel is built.

The wheel's build hook (setup.py) runs ``python -m syscount.cli.manpage FILE``; pip,
pipx and ``pip install --user`` put the page in ``share/man/man1`` of their prefix.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence

from .. import __version__
from .reference import Command, Option, commands

SEE_ALSO = r"\fBstrace\fR(1), \fBbpftool\fR(8), \fBbpftrace\fR(8), \fBperf-trace\fR(1)"

RUNTIME = """\
syscount needs Linux 5.8 or newer with BTF (/sys/kernel/btf/vmlinux), libbpf 1.x
(libbpf.so.1; on Debian and Ubuntu: apt-get install libbpf1), Python 3.11 or newer,
and root or the capabilities CAP_BPF and CAP_PERFMON. It runs on x86_64 and aarch64.
`sudo syscount doctor` checks all of this on the running machine and says how to fix
what is missing."""


def roff_escape(text: str) -> str:
    """Text safe in roff: backslashes and hyphens escaped, no line read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in text.splitlines())


def _bold(text: str) -> str:
    return f"\\fB{roff_escape(text)}\\fR"


def _option_heading(option: Option) -> str:
    flags = ", ".join(_bold(flag) for flag in option.flags)
    return f"{flags} \\fI{roff_escape(option.metavar)}\\fR" if option.metavar else flags


def _options(options: Iterable[Option]) -> list[str]:
    lines: list[str] = []
    group: str | None = None
    for option in options:
        if option.group != group and option.group:
            lines += [".PP", f"\\fI{roff_escape(option.group)}\\fR"]
        group = option.group
        lines += [".TP", _option_heading(option), roff_escape(option.help)]
    return lines


def _verbatim(text: str) -> list[str]:
    return [".nf", roff_escape(text), ".fi"] if text else []


def _paragraphs(text: str) -> list[str]:
    """Prose reflowed by man; blank lines separate paragraphs."""
    lines: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines += [".PP", roff_escape(" ".join(paragraph.split()))]
    return lines


def _command_section(command: Command) -> list[str]:
    lines = [".SS " + roff_escape(command.prog), *_verbatim(command.usage), *_paragraphs(command.description)]
    return lines + _options(command.options) + ([".PP", *_verbatim(command.epilog)] if command.epilog else [])


def render(found: Sequence[Command]) -> str:
    main = next(command for command in found if command.default)
    subcommands = [command for command in found if not command.default]
    names = ", ".join(_bold(command.prog) for command in subcommands)
    lines = [
        f'.TH SYSCOUNT 1 "" "syscount {roff_escape(__version__)}" "User Commands"',
        ".SH NAME",
        "syscount \\- count and trace Linux system calls in the kernel with eBPF",
        ".SH SYNOPSIS",
        *_verbatim("\n".join(command.usage for command in found)),
        ".SH DESCRIPTION",
        *_paragraphs(main.description),
        *([".PP", f"Subcommands: {names}; each is described below."] if subcommands else []),
        ".SH OPTIONS",
        *_options(main.options),
        ".SH EXAMPLES",
        *_verbatim(main.epilog),
    ]
    if subcommands:
        lines += [".SH COMMANDS"]
        for command in subcommands:
            lines += _command_section(command)
    lines += [".SH REQUIREMENTS", *_paragraphs(RUNTIME), ".SH SEE ALSO", SEE_ALSO]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    text = render(commands())
    if argv:
        with open(argv[0], "w", encoding="utf-8") as page:
            page.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
