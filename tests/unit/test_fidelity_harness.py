"""The strace comparison harness (tests/privileged/fidelity.py): parsing and normalising."""

from __future__ import annotations

from tests.privileged import fidelity as f

STRACE = """\
100 execve("/bin/x", ["x"], 0x7ffc90fc0678 /* 35 vars */) = 0
100 read(3</etc/a, b>, "a, \\"b\\"(", 64 <unfinished ...>
101 set_robust_list(0x7f29692de5a0, 24) = 0
100 <... read resumed>) = 6
101 futex(0x7f00, FUTEX_WAKE_PRIVATE, 1) = 0
100 +++ exited with 0 +++
"""
SYSCOUNT = """\
01:00:00.000001 7/7 my prog execve(filename="/bin/x", argv=["x"], envp=0x7ffe3c9d5898) = 0 <0.000001>
01:00:00.000002 7/7 my prog read(fd=3</etc/a, b>, buf="a, \\"b\\"(", count=64) = 6 <0.000001>
01:00:00.000003 7/9 my prog set_robust_list(head=0x7f00, len=24) = 0 <0.000001>
01:00:00.000004 7/9 my prog futex(uaddr=0x7f00, op=FUTEX_WAKE_PRIVATE, val=1) = 0 <0.000001>
"""


def test_both_outputs_parse_into_the_same_calls() -> None:
    strace, syscount = f.parse_strace(STRACE), f.parse_syscount(SYSCOUNT)
    assert [c.name for c in strace[100]] == ["execve", "read"] and len(strace[101]) == 2
    assert strace[100][1].args == ("3</etc/a, b>", '"a, \\"b\\"("', "64")
    assert syscount[7][1].args == strace[100][1].args
    tally = f.compare(strace, syscount)
    assert sum(tally.total.values()) == 4 and sum(tally.same.values()) == 4


def test_normalising_masks_what_varies_between_runs() -> None:
    call = f.Call("wait4", ("4242", "0x7ffe1234 /* 3 entries */", "3<socket:[987]>", "{sin_port=htons(41000)}"))
    assert f.normalise(call, {4242: 1}) == ("TID1", "0x?", "3<socket:[?]>", "{sin_port=htons(?)}")
    assert f.normalise(f.Call("getrandom", ('"\\x01"', "8")), {}) == ("?", "8")


def test_a_differing_call_counts_against_its_syscall() -> None:
    strace = {1: [f.Call("close", ("3</a>",)), f.Call("close", ("4</b>",))]}
    tally = f.compare(strace, {2: [f.Call("close", ("3</a>",)), f.Call("close", ("4",))]})
    assert (tally.same["close"], tally.total["close"]) == (1, 2) and tally.share == 0.5
