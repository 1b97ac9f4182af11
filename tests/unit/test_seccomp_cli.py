"""`syscount seccomp` input errors: one line each, before any recording; merge-only mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from syscount.cli.seccomp import parse
from syscount.errors import UsageError


def seccomp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syscount", "seccomp", *args], capture_output=True, text=True, timeout=30, check=False
    )


def one_line_error(result: subprocess.CompletedProcess[str], status: int) -> str:
    assert result.returncode == status, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("syscount: error: "), result.stderr
    assert result.stdout == ""
    return result.stderr.strip()


def write(path: Path, data: object) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def test_unknown_default_action() -> None:
    message = one_line_error(seccomp("--default-action", "deny", "--", "true"), 2)
    assert "--default-action: invalid choice: 'deny'" in message and "'errno', 'kill', 'trap', 'log'" in message


def test_unknown_runtime() -> None:
    message = one_line_error(seccomp("--runtime-preamble", "docker", "--", "true"), 2)
    assert "--runtime-preamble: invalid choice: 'docker'" in message


def test_unwritable_output(tmp_path: Path) -> None:
    message = one_line_error(seccomp("-o", "/nonexistent/dir/p.json", "--", "true"), 1)
    assert message == "syscount: error: cannot write profile /nonexistent/dir/p.json: No such file or directory"
    message = one_line_error(seccomp("-o", str(tmp_path), "--", "true"), 1)
    assert message == f"syscount: error: cannot write profile {tmp_path}: Is a directory"


def test_merge_file_that_is_not_a_profile(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    message = one_line_error(seccomp("-o", str(out), "--merge", str(text), "--", "true"), 1)
    assert message.startswith(f"syscount: error: --merge {text}: not an OCI seccomp profile: not JSON (")
    config = write(tmp_path / "config.json", {"ociVersion": "1.0.2", "process": {}})
    message = one_line_error(seccomp("-o", str(out), "--merge", config, "--", "true"), 1)
    assert message == (
        f"syscount: error: --merge {config}: not an OCI seccomp profile: unknown field 'ociVersion' "
        "(OCI fields: architectures, defaultAction, defaultErrnoRet, flags, syscalls)"
    )
    message = one_line_error(seccomp("--merge", str(tmp_path / "missing.json")), 1)
    assert message == f"syscount: error: --merge {tmp_path / 'missing.json'}: No such file or directory"
    assert not out.exists()  # a profile file this run created is removed when it fails


def test_nothing_to_record() -> None:
    message = one_line_error(seccomp("-o", "/tmp/x.json"), 2)
    assert "nothing to record: give -- COMMAND, -p PID" in message


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-p", "1", "--", "true"], "-p and -- COMMAND cannot be combined"),
        (["--"], "no command given after --"),
        (["ls"], "unexpected argument 'ls'"),
        (["-s", "read", "--", "true"], "unknown option '-s'"),
        (["--comm", "a-very-long-thread-name", "--", "true"], "--comm"),
    ],
)
def test_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(argv)


def test_merge_only_needs_no_recording(tmp_path: Path) -> None:
    a = write(
        tmp_path / "a.json",
        {
            "defaultAction": "SCMP_ACT_LOG",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}],
        },
    )
    b = write(
        tmp_path / "b.json",
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 38,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [{"names": ["write", "read"], "action": "SCMP_ACT_ALLOW"}],
        },
    )
    out = tmp_path / "out.json"
    out.write_text("an older, longer file that must be replaced entirely\n" * 10)
    result = seccomp("-o", str(out), "--merge", a, b)
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}],
    }
    assert result.stderr.splitlines() == [
        f"syscount: merged {a}, {b}",
        f"syscount: wrote {out}: 2 syscalls allowed, architectures SCMP_ARCH_X86_64 SCMP_ARCH_X86, "
        "default SCMP_ACT_ERRNO (errno 38)",
    ]
    # Without -o the profile goes to stdout.
    result = seccomp("--merge", a)
    assert json.loads(result.stdout)["defaultAction"] == "SCMP_ACT_LOG"


def test_help_has_examples() -> None:
    result = seccomp("--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "--runtime-preamble runc" in result.stdout
