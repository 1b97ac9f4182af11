"""Argument errors are one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import pytest

from syscount.__main__ import main
from syscount.cli.count import parse
from syscount.errors import UsageError


def test_defaults() -> None:
    args = parse([])
    assert (args.interval, args.interval_given, args.top, args.format) == (1.0, False, 10, "text")
    assert args.pids == () and args.command == () and args.duration is None


def test_command_after_double_dash_keeps_its_own_options() -> None:
    args = parse(["-i", "2", "--", "ls", "-la", "--", "-p"])
    assert args.command == ("ls", "-la", "--", "-p")
    assert args.interval == 2.0 and args.interval_given and args.pids == ()


def test_pid_list() -> None:
    assert parse(["-p", "12,34"]).pids == (12, 34)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-i", "0"], "positive"),
        (["-i", "abc"], "not a number"),
        (["-d", "-1"], "-d"),
        (["-i", "nan"], "positive"),
        (["-T", "x"], "whole number"),
        (["-p", "12,x"], "not a process id"),
        (["-p", "0"], "not a process id"),
        (["--bogus"], "unknown option '--bogus'"),
        (["ls"], "after --"),
        (["--"], "no command"),
        (["--format", "xml"], "invalid choice"),
        (["-p", "1", "--", "true"], "cannot be combined"),
    ],
)
def test_bad_input_is_a_usage_error(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(argv)


def test_main_prints_one_line_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-i", "zero"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("syscount: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_missing_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--", "definitely-not-a-command-xyz"]) == 1
    assert capsys.readouterr().err == "syscount: error: command not found: definitely-not-a-command-xyz\n"


def test_missing_pid_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-p", "999999999"]) == 1
    assert capsys.readouterr().err == "syscount: error: -p 999999999: no such process\n"


def test_unwritable_log_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-o", "/nonexistent/dir/x.log"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("syscount: error: cannot write log file /nonexistent/dir/x.log") and err.count("\n") == 1


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "syscount -- make" in out


def test_list_prints_number_and_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 300
    number, name = lines[0].split()
    assert number == "0" and name.isidentifier()


def test_debug_shows_the_traceback() -> None:
    from syscount.errors import TargetError

    with pytest.raises(TargetError):
        main(["--debug", "-p", "999999999"])
