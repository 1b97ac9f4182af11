"""privileges.reads_without_capabilities: the probe runs in a child without capabilities,
and this process keeps its own. (drop() is irreversible: tests/privileged runs it in a child.)"""

from __future__ import annotations

from pathlib import Path

from syscount.kernel import privileges


def effective() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    raise AssertionError("no CapEff line")


def test_the_probe_runs_without_any_capability_and_leaves_ours() -> None:
    before = privileges.current()

    def needs_none() -> None:
        if effective() != 0:
            raise PermissionError("still privileged")

    assert privileges.reads_without_capabilities(needs_none)
    assert privileges.current() == before


def test_a_failing_probe_answers_no() -> None:
    def refused() -> None:
        raise PermissionError(1, "Operation not permitted")

    assert not privileges.reads_without_capabilities(refused)


def test_names() -> None:
    assert privileges.names(privileges.FOR_READING) == ["CAP_PERFMON", "CAP_BPF"]
    assert privileges.names(privileges.mask_of(0, 21)) == ["cap_0", "CAP_SYS_ADMIN"]
    assert privileges.names(0) == []
