"""The subcommands' common face: one dispatch, one exit-status enum, one error path."""

from __future__ import annotations

import importlib
import signal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from syscount.__main__ import SUBCOMMANDS, main
from syscount.cli.common import ExitStatus, OneLineParser
from syscount.cli.targeting import exit_status
from syscount.cli.waiting import Waiter
from syscount.errors import OutputError

# What a subcommand needs besides options (diff and report read files; parsing does not).
POSITIONALS = {"diff": ["base.jsonl", "new.jsonl"], "report": ["run.jsonl"]}


def command(name: str) -> ModuleType:
    return importlib.import_module(f"syscount.cli.{name}")


def record_runs(module: ModuleType, monkeypatch: pytest.MonkeyPatch, status: int) -> list[Any]:
    """Replace the module's run() by one that keeps the args it gets and returns ``status``."""
    ran: list[Any] = []

    def run(args: Any) -> int:
        ran.append(args)
        return status

    monkeypatch.setattr(module, "run", run)
    return ran


def test_exit_statuses_are_the_documented_ones() -> None:
    assert [int(s) for s in ExitStatus] == [0, 1, 2, 74, 130, 143]
    assert ExitStatus.stopped_by(signal.SIGINT) is ExitStatus.INTERRUPTED
    assert ExitStatus.stopped_by(signal.SIGTERM) is ExitStatus.TERMINATED


@pytest.mark.parametrize(("stop", "status"), [(None, 0), (signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_without_a_command_exits_with_its_status(stop: int | None, status: int) -> None:
    waiter = Waiter()  # not entered: no handlers installed, only the signal it saw
    waiter.signal = stop
    assert exit_status(None, waiter) == status


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_the_same_face(name: str) -> None:
    module = command(name)
    assert isinstance(module.build_parser(), OneLineParser)
    assert callable(module.parse) and callable(module.run)


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_help_has_examples(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: syscount") and "\nexamples:\n" in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_dispatch_runs_what_parse_returns(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = command(name)
    ran = record_runs(module, monkeypatch, 7)
    given = [*POSITIONALS.get(name, []), "--debug"]
    assert main([name, *given]) == 7
    assert ran == [module.parse(given)]


def test_plain_syscount_is_the_count_command(monkeypatch: pytest.MonkeyPatch) -> None:
    module = command("count")
    ran = record_runs(module, monkeypatch, 0)
    assert main(["-i", "2", "--", "trace", "-p"]) == 0
    assert main(["count", "-i", "2", "--", "trace", "-p"]) == 0
    assert ran[0] == ran[1] == module.parse(["-i", "2", "--", "trace", "-p"])
    assert ran[0].command == ("trace", "-p")  # after --, a subcommand's name is the command's


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_unknown_options_are_one_line_and_exit_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([name, *POSITIONALS.get(name, []), "--bogus"]) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert err.startswith("syscount: error: unknown option '--bogus'") and err.count("\n") == 1
    assert f"see syscount{'' if name == 'count' else ' ' + name} --help" in err


def test_ctrl_c_before_the_run_loop_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(command("count"), "run", interrupted)
    assert main([]) == ExitStatus.INTERRUPTED


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-o", "{dir}/x.log"], "cannot write log file {dir}/x.log: No such file or directory"),
        (["trace", "-o", "{dir}/x.log"], "cannot write {dir}/x.log: No such file or directory"),
    ],
)
def test_an_unwritable_output_is_an_output_error(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing")
    argv = [arg.format(dir=missing) for arg in argv]
    assert main(argv) == ExitStatus.ERROR
    assert capsys.readouterr().err == f"syscount: error: {message.format(dir=missing)}\n"
    with pytest.raises(OutputError):
        main([*argv, "--debug"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trace", "--output-separately"], "--output-separately needs -o FILE (the files are FILE.PID)"),
        (["trace", "-y", "--format", "json"], "-y names descriptors in text output; JSON keeps them as numbers"),
    ],
)
def test_trace_option_combinations_that_cannot_work(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == ExitStatus.USAGE
    assert capsys.readouterr().err == f"syscount: error: {message}\n"


def test_trace_descriptor_options_parse() -> None:
    from syscount.cli import trace

    assert trace.parse(["-y"]).fd_paths == 1
    assert trace.parse(["-yy"]).fd_paths == 2
    args = trace.parse(["-o", "out", "--output-separately", "--", "true"])
    assert args.separately and args.output == "out" and args.command == ("true",)
