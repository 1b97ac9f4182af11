"""syscount top's command line: options, one-line errors, help with examples."""

from __future__ import annotations

import subprocess
import sys

import pytest

from syscount.cli.top import parse
from syscount.errors import UsageError


def test_defaults_and_options() -> None:
    args = parse(["-i", "0.5", "-L", "--by", "process", "-b", "-n", "3", "--comm", "nginx", "-s", "%file"])
    assert (args.interval, args.latency, args.by, args.batch, args.frames) == (0.5, True, "process", True, 3)
    assert args.selection.comm == "nginx" and args.selection.syscalls
    assert args.filters_text == "--comm nginx -s %file"


def test_failures_filter_needs_the_exit_side() -> None:
    assert parse(["-x"]).latency and parse(["-e", "ENOENT"]).latency


def test_command_after_double_dash_is_kept_and_escaped_in_the_header() -> None:
    args = parse(["--", "sh", "-c", "echo \x1b[31m"])
    assert args.command == ("sh", "-c", "echo \x1b[31m")
    assert "\x1b" not in args.filters_text and "\\033[31m" in args.filters_text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-n", "3"], "-n only applies with -b"),
        (["--by", "pod"], "invalid choice"),
        (["-i", "0"], "must be a positive number"),
        (["-p", "1", "--", "ls"], "-p and -- COMMAND cannot be combined"),
        (["--"], "no command given after --"),
        (["ls"], "unexpected argument 'ls'"),
    ],
)
def test_bad_input_is_one_line(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        parse(argv)
    assert "\n" not in str(caught.value)


def test_help_has_examples_and_keys() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "syscount", "top", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "examples:" in result.stdout and "syscount top -b -n 3" in result.stdout and "Keys:" in result.stdout


def test_bad_input_from_the_command_line_has_no_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "syscount", "top", "--by", "pod"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.startswith("syscount: error: ") and result.stderr.count("\n") == 1
