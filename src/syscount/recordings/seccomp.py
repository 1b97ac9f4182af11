"""Seccomp profiles: the OCI runtime-spec ``linux.seccomp`` object from what a run called.

Pure: names and counts in, a profile (plain JSON data) and a report out. The command
(cli/seccomp.py) records, asks libseccomp which names it knows, and writes the file.

The format is the OCI runtime-spec's (also Docker's and podman's): runc, crun, docker
``--security-opt seccomp=FILE`` and podman read it as it is. Decisions, each explained
in docs/seccomp.md:
- one unconditional ``SCMP_ACT_ALLOW`` rule with the sorted names; the default action
  (``SCMP_ACT_ERRNO`` with ``defaultErrnoRet`` 38, ENOSYS) answers everything else.
  ENOSYS, not EPERM: callers treat "not implemented" as "use the older call" (glibc:
  ``clone3`` → ``clone``), EPERM as a hard failure.
- ``architectures``: the native one, plus the compat one only if compat calls were seen.
  Names in OCI profiles are not per architecture: a name allows that call in every
  listed ABI that has it.
- a few calls are always allowed (ALWAYS): whether a run makes them depends on timing,
  not on the program's code paths.
- a merge keeps the strictest default action and unions the allowed names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import NotSupported, SyscountError

_T = TypeVar("_T")

ALLOW = "SCMP_ACT_ALLOW"
ERRNO = "SCMP_ACT_ERRNO"
ENOSYS = 38

# --default-action → the OCI action. `kill` kills the whole process: killing one
# thread (SCMP_ACT_KILL, the old meaning) leaves the rest running in a broken state.
DEFAULT_ACTIONS = {
    "errno": ERRNO,
    "kill": "SCMP_ACT_KILL_PROCESS",
    "trap": "SCMP_ACT_TRAP",
    "log": "SCMP_ACT_LOG",
}

# Every action of the runtime-spec, strictest first: a merge keeps the earliest.
STRICTNESS = (
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_KILL",
    "SCMP_ACT_TRAP",
    ERRNO,
    "SCMP_ACT_TRACE",
    "SCMP_ACT_NOTIFY",
    "SCMP_ACT_LOG",
    ALLOW,
)

# The libseccomp architecture of syscount's native table, and of its compat ABIs by
# the prefix syscount gives their calls (`i386:read`). x32 calls have no name in
# syscount (they count as unknown(out-of-range)) and SCMP_ARCH_X32 is never listed:
# the runtime refuses them like any unlisted architecture.
NATIVE_ARCH = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}
COMPAT_ARCH = {"i386": "SCMP_ARCH_X86"}

# Allowed in every profile, seen or not: a thread's last call (`exit`; only the last
# thread calls exit_group), the return from a signal handler, and the kernel's restart
# of a sleep a signal interrupted. A run makes them or not depending on timing and
# signals, not on which code paths ran; denying them breaks a program in ways no
# recording would show.
ALWAYS = ("exit", "exit_group", "restart_syscall", "rt_sigreturn")
# i386 also returns from non-SA_SIGINFO handlers with the old sigreturn (glibc does).
ALWAYS_COMPAT = {"SCMP_ARCH_X86": ("sigreturn",)}

# What the runtime itself calls between installing the filter and execve of the
# container's program, measured with `syscount trace` and tools/runtime_preamble.py on
# Debian 12 (runc 1.1.5, crun 1.8.1), the union over noNewPrivileges true and false
# (docs/seccomp.md has the method and every run). A profile without them stops the
# container before the program starts.
RUNTIME_PREAMBLES: dict[str, tuple[str, ...]] = {
    "runc": (
        "capget",
        "capset",
        "chdir",
        "close",
        "epoll_ctl",
        "epoll_pwait",
        "execve",
        "faccessat2",
        "fcntl",
        "fstat",
        "fstatfs",
        "futex",
        "getcwd",
        "getdents64",
        "getpid",
        "getppid",
        "nanosleep",
        "newfstatat",
        "openat",
        "prctl",
        "read",
        "rt_sigreturn",
        "sched_yield",
        "setgid",
        "setgroups",
        "setuid",
        "tgkill",
        "write",
    ),
    "crun": (
        "capset",
        "close",
        "execve",
        "prctl",
        "rt_sigaction",
        "rt_sigprocmask",
        "setresgid",
        "setresuid",
        "write",
    ),
}

_TOP_FIELDS = {"defaultAction", "defaultErrnoRet", "architectures", "flags", "syscalls"}
_RULE_FIELDS = {"names", "action", "errnoRet", "args"}


class ProfileError(SyscountError):
    """A file given to --merge cannot be read, or is not an OCI linux.seccomp profile."""

    def __init__(self, source: str, why: str, *, read: bool = True) -> None:
        super().__init__(f"--merge {source}: " + (f"not an OCI seccomp profile: {why}" if read else why))


@dataclass(frozen=True)
class Profile:
    """An OCI ``linux.seccomp`` object: one allow list, plus rules carried from merges."""

    default_action: str
    default_errno: int | None  # defaultErrnoRet; only with SCMP_ACT_ERRNO (None: the runtime's EPERM)
    architectures: tuple[str, ...]
    allowed: frozenset[str]
    rules: tuple[Mapping[str, Any], ...] = ()  # conditional or non-allow rules, verbatim
    flags: tuple[str, ...] = ()

    def to_oci(self) -> dict[str, Any]:
        """The JSON object, keys and names in a fixed order so equal profiles are equal files."""
        oci: dict[str, Any] = {"defaultAction": self.default_action}
        if self.default_errno is not None:
            oci["defaultErrnoRet"] = self.default_errno
        oci["architectures"] = list(self.architectures)
        if self.flags:
            oci["flags"] = list(self.flags)
        rules: list[Mapping[str, Any]] = []
        if self.allowed:
            rules.append({"names": sorted(self.allowed), "action": ALLOW})
        oci["syscalls"] = [*rules, *self.rules]
        return oci

    def dumps(self) -> str:
        return json.dumps(self.to_oci(), indent=2) + "\n"


def profile_from_oci(data: object, source: str) -> Profile:
    """Read a profile (parsed JSON); raises ProfileError naming what is wrong."""
    if not isinstance(data, dict):
        raise ProfileError(source, "not a JSON object")
    unknown = sorted(set(data) - _TOP_FIELDS)
    if unknown:
        raise ProfileError(source, f"unknown field {unknown[0]!r} (OCI fields: {', '.join(sorted(_TOP_FIELDS))})")
    action = data.get("defaultAction")
    if action not in STRICTNESS:
        raise ProfileError(source, f"defaultAction {action!r} is not an OCI seccomp action")
    errno_ret = data.get("defaultErrnoRet")
    if errno_ret is not None and (not isinstance(errno_ret, int) or isinstance(errno_ret, bool) or errno_ret < 0):
        raise ProfileError(source, f"defaultErrnoRet {errno_ret!r} is not an errno number")
    architectures = _strings(data.get("architectures", []), source, "architectures")
    flags = _strings(data.get("flags", []), source, "flags")
    allowed: set[str] = set()
    rules: list[Mapping[str, Any]] = []
    for rule in _rules(data.get("syscalls", []), source):
        if rule["action"] == ALLOW and not rule.get("args") and "errnoRet" not in rule:
            allowed.update(rule["names"])
        else:
            rules.append(rule)
    return Profile(
        default_action=action,
        # Absent stays absent: the runtime then returns EPERM, and a merge must not change that.
        default_errno=errno_ret if action == ERRNO else None,
        architectures=tuple(architectures),
        allowed=frozenset(allowed),
        rules=tuple(rules),
        flags=tuple(flags),
    )


def _strings(value: object, source: str, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ProfileError(source, f"{what} is not a list of strings")
    return value


def _rules(value: object, source: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ProfileError(source, "syscalls is not a list")
    for index, rule in enumerate(value):
        where = f"syscalls[{index}]"
        if not isinstance(rule, dict):
            raise ProfileError(source, f"{where} is not an object")
        unknown = sorted(set(rule) - _RULE_FIELDS)
        if unknown:
            raise ProfileError(source, f"{where} has unknown field {unknown[0]!r}")
        _strings(rule.get("names"), source, f"{where}.names")
        if rule.get("action") not in STRICTNESS:
            raise ProfileError(source, f"{where}.action {rule.get('action')!r} is not an OCI seccomp action")
    return value


def stricter(a: Profile, b: Profile) -> Profile:
    """Of two profiles, the one whose default action is stricter (``a`` on a tie)."""
    return b if STRICTNESS.index(b.default_action) < STRICTNESS.index(a.default_action) else a


def merge(a: Profile, b: Profile) -> Profile:
    """Everything either allows, under the stricter default action.

    Architectures and allowed names are unions (``a``'s order first). Other rules are
    kept verbatim; a name that one of them answers with something other than ALLOW is
    taken out of the allow list, so an explicit denial in a base profile stands.
    """
    strict = stricter(a, b)
    rules = _unique([*a.rules, *b.rules])
    denied = {name for rule in rules if rule["action"] != ALLOW for name in rule["names"]}
    return Profile(
        default_action=strict.default_action,
        default_errno=strict.default_errno,
        architectures=tuple(_unique([*a.architectures, *b.architectures])),
        allowed=(a.allowed | b.allowed) - denied,
        rules=tuple(rules),
        flags=tuple(_unique([*a.flags, *b.flags])),
    )


def _unique(items: Iterable[_T]) -> list[_T]:
    """Items in order, each once (compared as JSON: rules are dicts)."""
    seen: set[str] = set()
    kept: list[_T] = []
    for item in items:
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


@dataclass(frozen=True)
class Report:
    """What the stderr summary says about a recorded profile."""

    calls_by_arch: dict[str, int]  # architecture → distinct syscalls seen in it
    added: dict[str, tuple[str, ...]]  # why ("always", "runc preamble") → names added, not seen
    only_failing: dict[str, int]  # syscount name → calls, every one of which failed
    unknown: dict[str, int]  # syscount name → calls; libseccomp has no name for it: not in the profile
    seen: int = 0  # calls in the run


def abi_of(name: str, machine: str) -> tuple[str | None, str]:
    """A syscount name → (libseccomp architecture or None if unnameable, the bare name)."""
    prefix, colon, bare = name.partition(":")
    if not colon:
        return NATIVE_ARCH.get(machine), name
    return COMPAT_ARCH.get(prefix), bare


def build(
    counts: Mapping[str, int],
    failures: Mapping[str, int],
    *,
    machine: str,
    default_action: str,
    preamble: str | None,
    knows: Callable[[str, str], bool],
) -> tuple[Profile, Report]:
    """The profile allowing every call the run made (syscount names: ``read``, ``i386:read``).

    ``failures``: failed calls per name; ``knows(arch, name)``: whether libseccomp resolves
    it; ``preamble``: a key of RUNTIME_PREAMBLES, or None.
    """
    native = NATIVE_ARCH.get(machine)
    if native is None:
        supported = ", ".join(NATIVE_ARCH)
        raise NotSupported("seccomp profiles", f"no libseccomp architecture for {machine} (only {supported})")
    by_arch: dict[str, set[str]] = {native: set()}
    unknown: dict[str, int] = {}
    for name, calls in counts.items():
        arch, bare = abi_of(name, machine)
        if arch is None or not knows(arch, bare):
            unknown[name] = calls
        else:
            by_arch.setdefault(arch, set()).add(bare)
    seen = set().union(*by_arch.values())
    architectures = (native, *sorted(arch for arch in by_arch if arch != native))
    always = set(ALWAYS).union(*(ALWAYS_COMPAT.get(arch, ()) for arch in architectures))
    extra = set(RUNTIME_PREAMBLES[preamble]) if preamble else set()
    added = {"always": tuple(sorted(always - seen))}
    if preamble:
        added[f"{preamble} preamble"] = tuple(sorted(extra - seen - always))
    action = DEFAULT_ACTIONS[default_action]
    profile = Profile(
        default_action=action,
        default_errno=ENOSYS if action == ERRNO else None,
        architectures=architectures,
        allowed=frozenset(seen | always | extra),
    )
    report = Report(
        calls_by_arch={arch: len(names) for arch, names in by_arch.items()},
        added=added,
        only_failing={name: calls for name, calls in sorted(counts.items()) if failures.get(name, 0) >= calls > 0},
        unknown=dict(sorted(unknown.items())),
        seen=sum(counts.values()),
    )
    return profile, report


def summary_lines(profile: Profile, report: Report, *, libseccomp: str) -> list[str]:
    """The human summary of a recording for stderr, one finding a line."""
    arches = ", ".join(f"{arch.removeprefix('SCMP_ARCH_')} {n}" for arch, n in report.calls_by_arch.items())
    lines = [f"recorded {report.seen} calls of {sum(report.calls_by_arch.values())} syscalls (per ABI: {arches})"]
    for why, names in report.added.items():
        if names:
            lines.append(f"added ({why}), not seen in this run: {', '.join(names)}")
    if report.only_failing:
        lines.append(
            "seen only failing (allowing them may not be needed): "
            + ", ".join(f"{name} ({calls})" for name, calls in report.only_failing.items())
        )
    if report.unknown:
        lines.append(
            f"NOT in the profile: libseccomp {libseccomp} has no name for "
            + ", ".join(f"{name} ({calls})" for name, calls in report.unknown.items())
            + f"; they get the default action ({profile.default_action})"
        )
    if report.seen == 0:
        lines.append("no calls were seen: the profile allows only the calls added above")
    lines.append("only the code paths that ran are covered: exercise every feature, merge runs with --merge")
    return lines
