"""What syscount needs from the machine it runs on, each need checked for real.

Every check returns a ``Result``: passed, failed (with what to do about it) or skipped
(it cannot be checked until an earlier failure is fixed, e.g. kernel features need the
privileges to create BPF objects at all). Kernel features are probed the way
``bpftool feature probe`` does: by creating the map or loading and attaching the program,
then closing it again at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from .errors import DOCTOR_HINT, SyscountError
from .kernel import probes
from .kernel.objects import KERNEL_BTF, MACHINES, is_privileged, object_dir
from .names.cgroups import cgroup2_root

MIN_KERNEL = (5, 8)
MIN_LIBBPF = (1, 0)
MIN_PYTHON = (3, 11)
STEMS = ("counts", "latency", "track", "trace")  # the objects syscount's commands load
TRACEFS_ROOTS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")

PRIVILEGE_FIX = (
    "run it as root (sudo syscount ...), or give it CAP_BPF and CAP_PERFMON "
    "(e.g. in a systemd unit: AmbientCapabilities=CAP_BPF CAP_PERFMON)"
)
# Root whose capabilities were taken away: a container, or a dropped bounding set.
ROOT_PRIVILEGE_FIX = (
    "this root lacks the capabilities (a container?): grant CAP_BPF and CAP_PERFMON, "
    "e.g. docker run --cap-add BPF --cap-add PERFMON, or run it on the host"
)


class Status(Enum):
    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Result:
    name: str
    status: Status
    detail: str
    fix: str = ""


def ok(name: str, detail: str) -> Result:
    return Result(name, Status.OK, detail)


def fail(name: str, detail: str, fix: str) -> Result:
    return Result(name, Status.FAIL, detail, fix)


def skip(name: str, detail: str) -> Result:
    return Result(name, Status.SKIP, detail)


# -- checks that need nothing ------------------------------------------------------------


def check_python() -> Result:
    found = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        return ok("python", f"{found} (needs {_dotted(MIN_PYTHON)})")
    return fail("python", f"{found}", f"install Python {_dotted(MIN_PYTHON)} or newer")


def kernel_version(release: str) -> tuple[int, int]:
    """(major, minor) of a `uname -r` string such as 6.1.0-13-amd64."""
    parts = release.split("-", maxsplit=1)[0].split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return (0, 0)


def check_kernel(release: str | None = None) -> Result:
    release = release or os.uname().release
    if kernel_version(release) >= MIN_KERNEL:
        return ok("kernel version", f"{release} (needs {_dotted(MIN_KERNEL)})")
    return fail("kernel version", f"{release}", f"boot Linux {_dotted(MIN_KERNEL)} or newer (Debian 12 ships 6.1)")


def check_objects(machine: str | None = None) -> Result:
    machine = machine or os.uname().machine
    name = "BPF objects"
    if machine not in MACHINES:
        return fail(name, f"none for {machine}", f"syscount runs on {' and '.join(MACHINES)}")
    directory = object_dir(machine)
    missing = [stem for stem in STEMS if not os.path.exists(os.path.join(directory, f"{stem}.bpf.o"))]
    if missing:
        return fail(
            name,
            f"{', '.join(missing)} missing in {directory}",
            "reinstall from a wheel built by `make wheel` (it carries them); in a clone, run `make bpf`",
        )
    return ok(name, f"{len(STEMS)} for {machine} in {directory}")


def check_libbpf() -> Result:
    try:
        found = probes.libbpf_version_numbers()
    except SyscountError:
        return fail("libbpf", f"{probes.LIBBPF_SONAME} not found", "apt-get install libbpf1 (libbpf 1.0 or newer)")
    if found < MIN_LIBBPF:
        return fail("libbpf", _dotted(found), f"install libbpf {_dotted(MIN_LIBBPF)} or newer")
    return ok("libbpf", f"{probes.libbpf_version()} (needs {_dotted(MIN_LIBBPF)})")


def check_btf() -> Result:
    name = "kernel BTF"
    fix = "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's, Ubuntu's and Fedora's are)"
    if not os.path.exists(KERNEL_BTF):
        return fail(name, f"{KERNEL_BTF} is missing", fix)
    try:
        has_sys_enter = probes.kernel_btf_has_typedef("btf_trace_sys_enter")
    except SyscountError:  # no libbpf to parse it with: its own row says so
        return skip(name, f"{KERNEL_BTF} is there; not parsed: needs libbpf (above)")
    except OSError as exc:
        return fail(name, f"{KERNEL_BTF} cannot be parsed: {exc.strerror}", fix)
    if not has_sys_enter:
        return fail(name, "no btf_trace_sys_enter type (sys_enter is not a BTF tracepoint)", fix)
    return ok(name, f"{KERNEL_BTF}, with the sys_enter tracepoint's types")


def check_privileges() -> Result:
    name = "privileges"
    if is_privileged():
        return ok(name, "CAP_SYS_ADMIN, or CAP_BPF + CAP_PERFMON, in the effective set")
    uid = os.geteuid()
    fix = ROOT_PRIVILEGE_FIX if uid == 0 else PRIVILEGE_FIX
    return fail(name, f"uid {uid} without CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN)", fix)


def check_tracefs() -> Result:
    name = "tracefs"
    for root in TRACEFS_ROOTS:
        events = os.path.join(root, "events", "syscalls")
        try:
            if os.listdir(events):
                return ok(name, f"{root}, with syscall events")
        except PermissionError:
            if not is_privileged():
                return skip(name, f"{root}: not readable without the privileges above")
            return fail(
                name,
                f"{root} is not readable by uid {os.geteuid()} (syscount trace reads syscall signatures there)",
                "run syscount trace as root, or mount tracefs readable to this user (its uid=, gid=, mode= options)",
            )
        except OSError:
            continue
    return fail(
        name,
        "not mounted, or without syscall events (syscount trace reads syscall signatures from it)",
        f"mount -t tracefs nodev {TRACEFS_ROOTS[0]} (the kernel needs CONFIG_FTRACE_SYSCALLS=y)",
    )


def check_cgroup2() -> Result:
    root = cgroup2_root()
    if root is not None:
        return ok("cgroup v2", f"mounted at {root}")
    return fail(
        "cgroup v2",
        "not mounted (--cgroup and --by-cgroup need it)",
        "mount -t cgroup2 none /sys/fs/cgroup (or boot with systemd.unified_cgroup_hierarchy=1)",
    )


# -- kernel features: need privileges and libbpf ---------------------------------------------


def check_raw_tracepoints() -> Result:
    name = "raw tracepoints"
    try:
        probes.attach_raw_tracepoint("sys_enter")
    except OSError as exc:
        return fail(
            name,
            f"attaching to sys_enter: {exc.strerror}",
            "boot a kernel with CONFIG_BPF_EVENTS=y (raw tracepoints, Linux 4.17 or newer)",
        )
    return ok(name, "a program attached to sys_enter and detached")


def check_map(name: str, map_type: int, needed_by: str, since: str) -> Result:
    try:
        supported = probes.map_type_supported(map_type)
    except OSError as exc:
        supported, why = False, exc.strerror
    else:
        why = "the kernel refused to create one"
    if supported:
        return ok(name, "a map created and closed")
    return fail(name, f"{why} ({needed_by} needs it)", f"boot Linux {since} or newer")


def check_ring_buffer() -> Result:
    return check_map("ring buffer", probes.BPF_MAP_TYPE_RINGBUF, "syscount trace", "5.8")


def check_task_storage() -> Result:
    return check_map("task storage", probes.BPF_MAP_TYPE_TASK_STORAGE, "-L (latency)", "5.11")


def check_counting() -> Result:
    """The whole path: load, configure and attach the counting program, see this process's calls."""
    from .filters import Filters, Selection
    from .names.syscalls import native_table
    from .programs.counts import CountsProgram

    name = "counting"
    table = native_table()
    getppid = table.number("getppid")
    try:
        # include_self: this check counts its own calls (system-wide views leave syscount out).
        with CountsProgram(Filters(Selection(include_self=True), None, table)) as program:
            for _ in range(3):
                os.getppid()
            counted = program.read().slots[getppid] if getppid is not None else 0
    except SyscountError as exc:
        return fail(name, str(exc).removesuffix(f"; {DOCTOR_HINT}"), "run with --debug for libbpf's messages")
    if counted < 3:
        return fail(name, f"counts.bpf.o saw {counted} of this check's 3 getppid calls", "report this as a bug")
    return ok(name, f"counts.bpf.o loaded, attached, counted this check's 3 getppid calls ({counted} system-wide)")


# -- all of them ------------------------------------------------------------------------------

Check = Callable[[], Result]
BASICS: tuple[Check, ...] = (
    check_python,
    check_kernel,
    check_libbpf,
    check_objects,
    check_btf,
    check_privileges,
    check_tracefs,
    check_cgroup2,
)
# These create BPF objects: they need privileges, libbpf and (the last) the objects.
KERNEL_FEATURES: tuple[Check, ...] = (check_raw_tracepoints, check_task_storage, check_ring_buffer, check_counting)
FEATURE_NAMES = ("raw tracepoints", "task storage", "ring buffer", "counting")


def run_checks() -> list[Result]:
    results = [check() for check in BASICS]
    failed = {result.name for result in results if result.status is Status.FAIL}
    blockers = [name for name in ("privileges", "libbpf") if name in failed]
    for check, name in zip(KERNEL_FEATURES, FEATURE_NAMES, strict=True):
        needs = blockers + (["BPF objects"] if name == "counting" and "BPF objects" in failed else [])
        if needs:
            results.append(skip(name, f"not checked: needs {' and '.join(needs)} (above)"))
        else:
            results.append(check())
    return results


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))
