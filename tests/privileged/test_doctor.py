"""syscount doctor on this machine: as root every check passes; without privileges the
capability check fails with its fix, and every command's permission error points to doctor."""

from __future__ import annotations

import re
import subprocess

from .helpers import BPF_USER, NO_CAPABILITIES, SYSCOUNT, syscount

CHECKS = [
    "python",
    "kernel version",
    "libbpf",
    "BPF objects",
    "kernel BTF",
    "privileges",
    "tracefs",
    "cgroup v2",
    "raw tracepoints",
    "task storage",
    "ring buffer",
    "counting",
]
KERNEL_FEATURES = CHECKS[-4:]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]
ROW = re.compile(r"^(?P<name>\S+(?: \S+)?) +(?P<status>ok|FAIL|skip) +(?P<detail>.*)$")


def rows(out: str) -> dict[str, tuple[str, str, str]]:
    """Check name → (status, detail, fix) from the table."""
    lines = out.splitlines()
    assert lines[1].split() == ["CHECK", "RESULT", "DETAIL"]
    table: dict[str, tuple[str, str, str]] = {}
    for line, following in zip(lines[2:], [*lines[3:], ""], strict=True):
        row = ROW.match(line)
        if row:
            fix = following.strip().removeprefix("fix: ") if following.strip().startswith("fix: ") else ""
            table[row["name"]] = (row["status"], row["detail"], fix)
    return table


def doctor(*prefix: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, *SYSCOUNT, "doctor"], capture_output=True, text=True, timeout=60, check=False)


def test_as_root_every_check_passes() -> None:
    result = doctor()
    assert result.returncode == 0, result.stdout
    assert result.stderr == ""
    table = rows(result.stdout)
    assert list(table) == CHECKS
    assert {name: status for name, (status, _, _) in table.items()} == dict.fromkeys(CHECKS, "ok")
    assert "fix:" not in result.stdout
    assert "counted this check's 3 getppid calls" in table["counting"][1]
    assert result.stdout.endswith("All checks passed: syscount can count and trace here.\n")


def test_unprivileged_the_capability_check_fails_with_the_fix() -> None:
    result = doctor(*NOBODY)
    assert result.returncode == 1
    assert result.stderr == ""
    table = rows(result.stdout)
    assert list(table) == CHECKS
    status, detail, fix = table["privileges"]
    assert status == "FAIL" and detail.startswith("uid 65534 without CAP_BPF + CAP_PERFMON")
    assert fix.startswith("run it as root (sudo syscount ...), or give it CAP_BPF and CAP_PERFMON")
    for name in KERNEL_FEATURES:
        assert table[name][:2] == ("skip", "not checked: needs privileges (above)")
    for name in ("python", "kernel version", "libbpf", "BPF objects", "kernel BTF", "cgroup v2"):
        assert table[name][0] == "ok", name
    assert result.stdout.endswith("\n1 check failed: fix it as shown.\n")


def test_root_without_capabilities_is_told_about_containers() -> None:
    result = doctor(*NO_CAPABILITIES)
    assert result.returncode == 1
    status, detail, fix = rows(result.stdout)["privileges"]
    assert status == "FAIL" and detail.startswith("uid 0 without")
    assert "--cap-add BPF --cap-add PERFMON" in fix


def test_cap_bpf_and_cap_perfmon_are_enough_to_count() -> None:
    """Non-root with only CAP_BPF + CAP_PERFMON: every kernel feature works; tracefs (root's) does not."""
    result = doctor(*BPF_USER)
    table = rows(result.stdout)
    assert table["privileges"][0] == "ok"
    for name in KERNEL_FEATURES:
        assert table[name][0] == "ok", (name, table[name])
    # tracefs is root's (mode 0700) unless mounted otherwise: ask the kernel, as that user.
    listing = subprocess.run([*BPF_USER, "ls", "/sys/kernel/tracing/events/syscalls"], capture_output=True, check=False)
    if listing.returncode == 0:
        assert table["tracefs"][0] == "ok" and result.returncode == 0
    else:
        assert table["tracefs"][0] == "FAIL" and "not readable by uid 65534" in table["tracefs"][1]
        assert result.returncode == 1


def test_every_command_points_to_doctor_without_privileges() -> None:
    for args in (["-d", "1"], ["trace", "--", "/bin/true"], ["serve", "--listen", "127.0.0.1:0"]):
        result = subprocess.run([*NOBODY, *SYSCOUNT, *args], capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 1, args
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("syscount: error: "), result.stderr
        assert "permission denied" in result.stderr and "`sudo syscount doctor` checks" in result.stderr, args


def test_doctor_help_has_examples() -> None:
    result = syscount("doctor", "--help")
    assert result.returncode == 0
    assert "examples:\n  sudo syscount doctor" in result.stdout
