"""Options about syscount itself, on the count command's parser: --version, --print-completion.

Both print and exit like argparse's own --version; what they need is imported only then,
so the count command's start-up does not pay for them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

SHELLS = ("bash", "zsh")


def version_text() -> str:
    """``syscount 0.1.0 (libbpf v1.1, x86_64)``: the version and the libbpf in use."""
    import os

    from .. import __version__
    from ..errors import SyscountError
    from ..kernel import probes

    try:
        found = f"libbpf {probes.libbpf_version()}"
    except SyscountError:
        found = f"{probes.LIBBPF_SONAME} not found: apt-get install libbpf1"
    return f"syscount {__version__} ({found}, {os.uname().machine})"


class _Version(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        sys.stdout.write(version_text() + "\n")
        parser.exit()


class _Completion(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, *args: Any) -> NoReturn:
        from .completion import script

        sys.stdout.write(script(str(values)))
        parser.exit()


def add_about_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action=_Version, help="print syscount's version and the libbpf in use, and exit")
    parser.add_argument(
        "--print-completion",
        action=_Completion,
        choices=SHELLS,
        dest=argparse.SUPPRESS,
        help="print the shell completion script for bash or zsh, and exit "
        "(e.g. syscount --print-completion bash > ~/.local/share/bash-completion/completions/syscount)",
    )
