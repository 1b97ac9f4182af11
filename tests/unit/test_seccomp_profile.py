"""The seccomp profile writer: names → OCI profile, merges, the summary, libseccomp's names."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from syscount.errors import NotSupported
from syscount.kernel import libseccomp
from syscount.recordings.seccomp import (
    ALWAYS,
    RUNTIME_PREAMBLES,
    Profile,
    ProfileError,
    build,
    merge,
    profile_from_oci,
    summary_lines,
)


def knows_all_but(*unknown: str) -> Any:
    def knows(arch: str, name: str) -> bool:
        return f"{arch}:{name}" not in unknown and name not in unknown

    return knows


def make(counts: dict[str, int], failures: dict[str, int] | None = None, **kw: Any) -> tuple[Profile, Any]:
    options: dict[str, Any] = {"machine": "x86_64", "default_action": "errno", "preamble": None}
    options.update(kw)
    knows = options.pop("knows", knows_all_but())
    return build(counts, failures or {}, knows=knows, **options)


def test_output_schema_is_the_oci_object_with_sorted_names() -> None:
    profile, _ = make({"write": 3, "read": 9, "close": 1})
    assert profile.to_oci() == {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [
            {
                "names": sorted({"close", "read", "write", *ALWAYS}),
                "action": "SCMP_ACT_ALLOW",
            }
        ],
    }
    text = profile.dumps()
    assert text.endswith("}\n") and json.loads(text) == profile.to_oci()
    assert list(json.loads(text)) == ["defaultAction", "defaultErrnoRet", "architectures", "syscalls"]


def test_same_calls_give_the_same_file_whatever_their_order() -> None:
    a, _ = make({"read": 1, "write": 2, "i386:read": 1})
    b, _ = make({"i386:read": 5, "write": 1, "read": 7})
    assert a.dumps() == b.dumps()


@pytest.mark.parametrize(
    ("action", "oci"),
    [("kill", "SCMP_ACT_KILL_PROCESS"), ("trap", "SCMP_ACT_TRAP"), ("log", "SCMP_ACT_LOG")],
)
def test_default_actions_other_than_errno_carry_no_errno(action: str, oci: str) -> None:
    profile, _ = make({"read": 1}, default_action=action)
    assert profile.to_oci()["defaultAction"] == oci
    assert "defaultErrnoRet" not in profile.to_oci()


def test_compat_calls_add_the_i386_architecture_under_their_bare_names() -> None:
    profile, report = make({"read": 2, "i386:read": 1, "i386:socketcall": 4, "i386:_llseek": 1})
    assert profile.architectures == ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86")
    assert {"read", "socketcall", "_llseek", "sigreturn"} <= profile.allowed
    assert not any(":" in name for name in profile.allowed)
    assert report.calls_by_arch == {"SCMP_ARCH_X86_64": 1, "SCMP_ARCH_X86": 3}


def test_native_only_run_lists_only_the_native_architecture_and_no_sigreturn() -> None:
    profile, _ = make({"read": 2})
    assert profile.architectures == ("SCMP_ARCH_X86_64",)
    assert "sigreturn" not in profile.allowed


def test_aarch64_is_native_there() -> None:
    profile, _ = make({"read": 1}, machine="aarch64")
    assert profile.architectures == ("SCMP_ARCH_AARCH64",)


def test_unsupported_machine_is_a_clear_error() -> None:
    with pytest.raises(NotSupported, match="no libseccomp architecture for riscv64"):
        make({"read": 1}, machine="riscv64")


def test_names_libseccomp_does_not_know_are_reported_not_allowed() -> None:
    counts = {"read": 1, "mseal": 2, "unknown(500)": 1, "unknown(out-of-range)": 3, "x32:read": 1}
    profile, report = make(counts, knows=knows_all_but("mseal", "unknown(500)", "unknown(out-of-range)"))
    assert profile.allowed == {"read", *ALWAYS}
    # x32 calls have no ABI syscount names; every unnameable call is in the report.
    assert report.unknown == {"mseal": 2, "unknown(500)": 1, "unknown(out-of-range)": 3, "x32:read": 1}
    (line,) = [line for line in summary_lines(profile, report, libseccomp="2.5.4") if "NOT" in line]
    assert line == (
        "NOT in the profile: libseccomp 2.5.4 has no name for mseal (2), unknown(500) (1), "
        "unknown(out-of-range) (3), x32:read (1); they get the default action (SCMP_ACT_ERRNO)"
    )


def test_a_name_unknown_in_one_abi_only_is_reported_for_that_abi() -> None:
    profile, report = make({"read": 1, "i386:newcall": 1}, knows=knows_all_but("SCMP_ARCH_X86:newcall"))
    assert report.unknown == {"i386:newcall": 1}
    assert profile.architectures == ("SCMP_ARCH_X86_64",)


def test_always_allowed_and_the_runtime_preamble_are_added_and_reported() -> None:
    profile, report = make({"exit_group": 1, "read": 1}, preamble="crun")
    assert profile.allowed == {"read", *ALWAYS, *RUNTIME_PREAMBLES["crun"]}
    assert report.added["always"] == ("exit", "restart_syscall", "rt_sigreturn")
    assert "read" not in report.added["crun preamble"] and "execve" in report.added["crun preamble"]


def test_calls_seen_only_failing_are_named_in_the_summary() -> None:
    profile, report = make({"openat": 3, "close": 2, "access": 1}, {"openat": 1, "close": 2, "access": 1})
    assert report.only_failing == {"access": 1, "close": 2}
    lines = summary_lines(profile, report, libseccomp="2.5.4")
    assert "seen only failing (allowing them may not be needed): access (1), close (2)" in lines
    assert lines[-1].startswith("only the code paths that ran are covered")
    assert lines[0] == "recorded 6 calls of 3 syscalls (per ABI: X86_64 3)"


def test_nothing_seen_says_so() -> None:
    profile, report = make({})
    assert profile.allowed == set(ALWAYS)
    assert any(line.startswith("no calls were seen") for line in summary_lines(profile, report, libseccomp="x"))


def test_profile_round_trips_through_its_json() -> None:
    profile, _ = make({"read": 1, "i386:read": 1}, default_action="trap")
    assert profile_from_oci(json.loads(profile.dumps()), "p.json") == profile


def test_merge_keeps_the_strictest_default_and_unions_names_and_architectures() -> None:
    a, _ = make({"read": 1}, default_action="log")
    b, _ = make({"write": 1, "i386:write": 1}, default_action="errno")
    c, _ = make({"openat": 1}, default_action="kill")
    ab = merge(a, b)
    assert ab.default_action == "SCMP_ACT_ERRNO" and ab.default_errno == 38
    assert ab.architectures == ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86")
    assert ab.allowed == a.allowed | b.allowed
    assert merge(b, a) == ab
    abc = merge(ab, c)
    assert abc.default_action == "SCMP_ACT_KILL_PROCESS" and abc.default_errno is None
    assert "defaultErrnoRet" not in abc.to_oci()


def test_merge_carries_conditional_rules_and_keeps_explicit_denials() -> None:
    base = profile_from_oci(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                {
                    "names": ["personality"],
                    "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}],
                },
            ],
        },
        "base.json",
    )
    assert base.default_errno is None  # kept absent: the runtime's EPERM
    recorded, _ = make({"ptrace": 1, "openat": 1})
    merged = merge(recorded, base)
    assert merged.default_errno == 38  # equally strict defaults: the recording's
    assert "ptrace" not in merged.allowed  # the base profile's explicit denial stands
    assert {"read", "write", "openat"} <= merged.allowed
    assert merged.to_oci()["syscalls"][1:] == list(base.rules)
    assert merge(merged, base) == merged  # rules are not repeated


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ([], "not a JSON object"),
        ({"syscalls": []}, "defaultAction None is not an OCI seccomp action"),
        ({"defaultAction": "SCMP_ACT_NOPE"}, "defaultAction 'SCMP_ACT_NOPE'"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "archMap": []}, "unknown field 'archMap'"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": "x"}, "defaultErrnoRet 'x' is not an errno"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "architectures": "x86"}, "architectures is not a list of strings"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}}, "syscalls is not a list"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [1]}, "syscalls[0] is not an object"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read"}]}, "syscalls[0].names is not a list"),
        (
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "ALLOW"}]},
            "syscalls[0].action 'ALLOW'",
        ),
        (
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW", "comment": ""}]},
            "syscalls[0] has unknown field 'comment'",
        ),
    ],
)
def test_a_file_that_is_not_a_profile_is_refused_with_the_reason(data: object, why: str) -> None:
    with pytest.raises(ProfileError) as caught:
        profile_from_oci(data, "bad.json")
    assert str(caught.value).startswith("--merge bad.json: not an OCI seccomp profile: ")
    assert why in str(caught.value)


def test_libseccomp_knows_names_as_the_runtime_will_resolve_them() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", libseccomp.version())
    assert libseccomp.knows("SCMP_ARCH_X86_64", "read")
    assert libseccomp.knows("SCMP_ARCH_X86", "socketcall")
    assert libseccomp.knows("SCMP_ARCH_X86", "socket")  # multiplexed on i386: a pseudo-number
    assert libseccomp.knows("SCMP_ARCH_X86", "set_thread_area")
    assert not libseccomp.knows("SCMP_ARCH_X86_64", "no_such_call")
    assert not libseccomp.knows("SCMP_ARCH_X86_64", "unknown(500)")
    with pytest.raises(NotSupported, match="SCMP_ARCH_NOPE"):
        libseccomp.knows("SCMP_ARCH_NOPE", "read")


def test_every_always_allowed_and_preamble_name_is_known_to_libseccomp() -> None:
    for name in (*ALWAYS, *RUNTIME_PREAMBLES["runc"], *RUNTIME_PREAMBLES["crun"]):
        assert libseccomp.knows("SCMP_ARCH_X86_64", name), name
    assert libseccomp.knows("SCMP_ARCH_X86", "sigreturn")


# Calls newer than Debian 12's libseccomp 2.5.4 (Linux 6.2+), and the x86 uprobe entry
# points: the only names of syscount's tables libseccomp may not know.
NEWER_THAN_LIBSECCOMP = {
    "uprobe",
    "uretprobe",
    "cachestat",
    "fchmodat2",
    "map_shadow_stack",
    "futex_wake",
    "futex_wait",
    "futex_requeue",
    "statmount",
    "listmount",
    "lsm_get_self_attr",
    "lsm_set_self_attr",
    "lsm_list_modules",
    "mseal",
    "setxattrat",
    "getxattrat",
    "listxattrat",
    "removexattrat",
    "open_tree_attr",
    "file_getattr",
    "file_setattr",
}


@pytest.mark.parametrize(("table", "arch"), [("x86_64", "SCMP_ARCH_X86_64"), ("i386", "SCMP_ARCH_X86")])
def test_syscount_names_are_libseccomp_names(table: str, arch: str) -> None:
    from syscount.names.syscalls import table_for

    unknown = {name for _, name in table_for(table).items() if not libseccomp.knows(arch, name)}
    assert unknown <= NEWER_THAN_LIBSECCOMP


def _event(
    t_us: int, pid: int, tid: int, name: str, *, ret: int = 0, duration_ns: int = 0, **args: Any
) -> dict[str, Any]:
    return {
        "time": f"2026-11-26T01:00:00.{t_us:06d}Z",
        "pid": pid,
        "tid": tid,
        "syscall": name,
        "args": args,
        "ret": ret,
        "duration_ns": duration_ns,
    }


def test_runtime_preamble_tool_takes_the_calls_entered_between_the_filter_and_execve() -> None:
    from tests.unit.tool_scripts import load_tool

    tool = load_tool("runtime_preamble")
    events = [
        _event(10, 5, 5, "prctl", option=22),  # an earlier filter (the runtime's parent): not the last
        _event(20, 9, 9, "openat"),
        _event(30, 9, 9, "prctl", option=22),  # runc:[2:INIT] installs the filter
        _event(40, 9, 10, "futex", ret=-1, duration_ns=50_000),  # entered before the filter
        _event(50, 9, 9, "close"),
        _event(55, 8, 8, "getuid"),  # another process
        _event(60, 9, 11, "nanosleep", duration_ns=5_000),  # entered after it
        _event(70, 9, 9, "execve", ret=-1),  # a failed execve does not end the preamble
        _event(80, 9, 9, "execve", duration_ns=200_000),  # the program's: entered under the filter
        _event(90, 9, 9, "brk"),  # the program's own
    ]
    assert tool.preamble(events) == {"close", "nanosleep", "execve"}
    crun = [_event(10, 3, 3, "seccomp", op=1), _event(20, 3, 3, "write"), _event(30, 3, 3, "execve")]
    assert tool.preamble(crun) == {"write", "execve"}
