"""`syscount serve` arguments: defaults, the count command's filters, errors as one line."""

from __future__ import annotations

import pytest

from syscount.__main__ import main
from syscount.cli.common import ExitStatus
from syscount.cli.serve import DEFAULT_MAX_SERIES, parse
from syscount.errors import UsageError
from syscount.filters import Selection
from syscount.sinks.prometheus.http import Listen


def test_defaults_listen_on_loopback_and_count_everything() -> None:
    args = parse([])
    assert args.listen == Listen("127.0.0.1", 9464)
    assert args.pids == () and not args.latency and not args.errors and args.labels is None
    assert args.max_series == DEFAULT_MAX_SERIES and not args.bpf_stats
    assert args.selection == Selection()


def test_latency_and_exit_side_filters_imply_errors() -> None:
    args = parse(["-L", "-p", "12,34", "--listen", "[::1]:0"])
    assert args.latency and args.errors
    assert args.pids == (12, 34)
    assert args.listen == Listen("::1", 0)
    assert parse(["--errors"]).errors and not parse(["--errors"]).latency
    failed = parse(["-x"])
    assert failed.errors and failed.selection.failed_only and not failed.latency
    assert parse(["-e", "ENOENT"]).selection.errno == 2


def test_the_count_commands_filters_apply() -> None:
    args = parse(["--comm", "nginx", "-u", "0", "-s", "read,write", "--labels", "comm", "--max-series", "5"])
    assert args.selection.comm == "nginx" and args.selection.uid == 0
    assert args.selection.syscalls is not None and len(args.selection.syscalls) >= 2
    assert args.labels == "comm" and args.max_series == 5 and not args.errors


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-series", "10"], "--max-series only applies with --labels"),
        (["--labels", "uid"], "invalid choice"),
        (["--comm", "a-name-longer-than-15"], "--comm"),
        (["-s", "nosuchcall"], "unknown syscall"),
        (["--max-series", "-1", "--labels", "comm"], "whole number"),
        (["-p", "abc"], "-p: 'abc' is not a process id"),
        (["--listen", "9464"], "--listen '9464': expected ADDR:PORT"),
        (["extra"], "unexpected argument 'extra'"),
    ],
)
def test_bad_arguments_are_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(argv)


def test_bad_arguments_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--listen", "nowhere"]) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert err.startswith("syscount: error: --listen 'nowhere'") and err.count("\n") == 1
