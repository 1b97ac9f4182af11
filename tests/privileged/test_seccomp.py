"""syscount seccomp: profiles recorded from known workloads, proven under a real OCI runtime.

The runtime is Debian's runc; the container's root is a directory holding Debian's
static busybox and the repository's static workloads (built by `make workloads`).
Each profile is recorded on the host from the same binary the container runs.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from syscount.names.cgroups import cgroup2_root
from syscount.recordings.seccomp import ALWAYS, RUNTIME_PREAMBLES

from .helpers import ROOT, TIMEOUT, WORKLOAD, Running, held_workload, release, strace_counts, syscount

WORKLOAD32 = ROOT / "tests" / "workloads" / "build" / "workload32"
BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static
EXIT = 7  # the workload's exit status: proof that it ran to its end
SIGSYS_STATUS = 128 + 31  # runc reports a process killed by signal N as 128 + N
# The parent makes 2 getppid and one open+close of /dev/null, forks one child (glibc's
# fork is the clone call) that makes 1 getppid, waits for it, and exits with 7.
PLAN = {"getppid": 2, "openclose": 1, "children": 1, "child_getppid": 1, "exit": EXIT}


def plan_args(binary: str, **plan: int) -> list[str]:
    return [binary, *itertools.chain.from_iterable((f"--{k.replace('_', '-')}", str(v)) for k, v in plan.items())]


@dataclass
class Bundle:
    """An OCI bundle made with `runc spec`, run with a given process and seccomp profile."""

    path: Path
    state: Path  # runc --root: these tests' containers only
    ids = itertools.count()

    def run(
        self, argv: Sequence[str], profile: dict[str, Any] | None, runtime: str = "runc", *, nnp: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run argv in the container; ``nnp``: noNewPrivileges (runc spec's default; docker's is False)."""
        self.run_config(argv, profile, nnp=nnp)
        name = f"syscount-test-{os.getpid()}-{next(self.ids)}"
        run, delete = self._commands(runtime, name)
        try:
            return subprocess.run(
                run, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
        finally:
            subprocess.run(delete, capture_output=True, check=False)

    def run_config(self, argv: Sequence[str], profile: dict[str, Any] | None, *, nnp: bool) -> None:
        config = json.loads((self.path / "config.json.orig").read_text())
        config["process"]["terminal"] = False
        config["process"]["noNewPrivileges"] = nnp
        config["process"]["args"] = list(argv)
        # This machine's cgroups are hybrid (v1 controllers + a v2 mount): runc runs a
        # bundle that asks for no resources and no cgroup path (docs/seccomp.md).
        config["linux"].pop("resources", None)
        config["linux"].pop("cgroupsPath", None)
        if profile is not None:
            config["linux"]["seccomp"] = profile
        (self.path / "config.json").write_text(json.dumps(config))

    @contextmanager
    def created(self, argv: Sequence[str]) -> Iterator[tuple[str, Callable[[], None]]]:
        """`runc create` (the program held before its execve), yielding the container's name
        and a function that starts it and waits until it has stopped."""
        self.run_config(argv, None, nnp=True)
        name = f"syscount-test-{os.getpid()}-{next(self.ids)}"
        runc = ["runc", "--root", str(self.state / "runc")]
        subprocess.run(
            [*runc, "create", "--bundle", str(self.path), name],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=TIMEOUT,
            check=True,
        )

        def start_and_wait() -> None:
            subprocess.run([*runc, "start", name], check=True, timeout=TIMEOUT)
            deadline = time.monotonic() + TIMEOUT
            while (
                json.loads(subprocess.run([*runc, "state", name], capture_output=True, check=True).stdout)["status"]
                != "stopped"
            ):
                assert time.monotonic() < deadline, "the container did not stop"
                time.sleep(0.05)

        try:
            yield name, start_and_wait
        finally:
            subprocess.run([*runc, "delete", "--force", name], capture_output=True, check=False)

    def _commands(self, runtime: str, name: str) -> tuple[list[str], list[str]]:
        state = str(self.state / runtime)
        if runtime == "runc":
            runc = ["runc", "--root", state]
            return [*runc, "run", "--bundle", str(self.path), name], [*runc, "delete", "--force", name]
        # crun refuses hybrid cgroups ("cgroups in hybrid mode not supported"). In a
        # mount namespace of its own without the cgroup2 mount it sees plain v1, and
        # needs no cgroup at all with --cgroup-manager=disabled (docs/seccomp.md).
        crun = f"crun --cgroup-manager=disabled --root {state}"
        hide_v2 = "if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi"
        run = [
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            f"{hide_v2}; exec {crun} run --bundle {self.path} {name}",
        ]
        return run, [*crun.split(), "delete", "--force", name]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    if shutil.which("runc") is None or shutil.which("crun") is None or not BUSYBOX.exists():
        pytest.fail("runc, crun or busybox-static is missing: run ./bootstrap test")
    path = tmp_path_factory.mktemp("bundle")
    bin_dir = path / "rootfs" / "bin"
    bin_dir.mkdir(parents=True)
    for binary in (BUSYBOX, WORKLOAD, WORKLOAD32):
        shutil.copy2(binary, bin_dir / binary.name)
    subprocess.run(["runc", "spec"], cwd=path, check=True)
    (path / "config.json").rename(path / "config.json.orig")
    yield Bundle(path, path / "state")


def record(tmp_path: Path, name: str, *args: str) -> tuple[dict[str, Any], str]:
    """Run `syscount seccomp -o FILE ARGS`; the profile and syscount's stderr."""
    out = tmp_path / f"{name}.json"
    result = syscount("seccomp", "-o", str(out), *args)
    assert result.returncode in (0, EXIT), result.stderr
    return json.loads(out.read_text()), result.stderr


def allowed(profile: dict[str, Any]) -> set[str]:
    (rule,) = profile["syscalls"]
    assert rule["action"] == "SCMP_ACT_ALLOW"
    return set(rule["names"])


def without(profile: dict[str, Any], name: str) -> dict[str, Any]:
    assert name in allowed(profile)
    rule = {"names": sorted(allowed(profile) - {name}), "action": "SCMP_ACT_ALLOW"}
    return {**profile, "syscalls": [rule]}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """The workload's profile without and with runc's preamble."""
    tmp = tmp_path_factory.mktemp("profiles")
    plain, _ = record(tmp, "plain", "--", *plan_args(str(WORKLOAD), **PLAN))
    runc, _ = record(tmp, "runc", "--runtime-preamble", "runc", "--", *plan_args(str(WORKLOAD), **PLAN))
    return plain, runc


def test_profile_allows_exactly_what_strace_sees_plus_the_documented_extras(
    recorded: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    plain, runc = recorded
    assert plain["defaultAction"] == "SCMP_ACT_ERRNO" and plain["defaultErrnoRet"] == 38
    assert plain["architectures"] == ["SCMP_ARCH_X86_64"]
    # strace -f -c leaves out exit_group (it never returns); syscount counts it.
    seen = set(strace_counts(plan_args(str(WORKLOAD), **PLAN))) | {"exit_group"}
    assert {"execve", "clone", "wait4", "getppid", "openat", "close"} <= seen
    assert allowed(plain) == seen | set(ALWAYS)
    assert allowed(runc) == allowed(plain) | set(RUNTIME_PREAMBLES["runc"])
    assert plain["syscalls"][0]["names"] == sorted(allowed(plain))


@pytest.mark.parametrize("nnp", [True, False])
def test_the_recorded_workload_runs_under_runc(bundle: Bundle, recorded: tuple[dict[str, Any], ...], nnp: bool) -> None:
    # runc installs the filter earlier without noNewPrivileges: the preamble covers both.
    _, runc = recorded
    result = bundle.run(plan_args("/bin/workload", **PLAN), runc, nnp=nnp)
    assert result.returncode == EXIT, result.stderr


@pytest.mark.parametrize("nnp", [True, False])
def test_without_the_runtime_preamble_runc_cannot_start_the_program(
    bundle: Bundle, recorded: tuple[dict[str, Any], ...], nnp: bool
) -> None:
    plain, _ = recorded
    result = bundle.run(plan_args("/bin/workload", **PLAN), plain, nnp=nnp)
    # runc's own calls after installing the filter fail: the workload never starts.
    assert result.returncode == 1, result.stderr
    assert "runc run failed" in result.stderr


def test_removing_one_needed_call_fails_at_exactly_that_step(
    bundle: Bundle, recorded: tuple[dict[str, Any], ...]
) -> None:
    _, runc = recorded
    # Without clone, the workload's fork gets ENOSYS (defaultErrnoRet 38) and it stops
    # there with its own message and status 2.
    result = bundle.run(plan_args("/bin/workload", **PLAN), without(runc, "clone"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "fork: Function not implemented"
    # Without getppid the workload still ends normally: it ignores getppid's result.
    assert bundle.run(plan_args("/bin/workload", **PLAN), without(runc, "getppid")).returncode == EXIT


def test_enosys_default_lets_glibc_fall_back_from_clone3_to_clone(bundle: Bundle, tmp_path: Path) -> None:
    threaded = {"threads": 1, "thread_getppid": 1, "exit": EXIT}
    profile, _ = record(tmp_path, "t", "--runtime-preamble", "runc", "--", *plan_args(str(WORKLOAD), **threaded))
    assert "clone3" in allowed(profile) and "clone" not in allowed(profile)
    # As if recorded with a glibc that used clone: allow clone, not clone3.
    old_glibc = {
        **profile,
        "syscalls": [{"names": sorted(allowed(profile) - {"clone3"} | {"clone"}), "action": "SCMP_ACT_ALLOW"}],
    }
    argv = plan_args("/bin/workload", **threaded)
    assert bundle.run(argv, old_glibc).returncode == EXIT  # clone3 → ENOSYS → glibc uses clone
    eperm = {**old_glibc, "defaultErrnoRet": 1}
    failed = bundle.run(argv, eperm)  # clone3 → EPERM: glibc gives up
    assert failed.returncode == 2 and failed.stderr.startswith("pthread_create"), failed.stderr


def test_default_action_kill_kills_the_process_at_the_missing_call(bundle: Bundle, tmp_path: Path) -> None:
    profile, _ = record(
        tmp_path,
        "kill",
        "--default-action",
        "kill",
        "--runtime-preamble",
        "runc",
        "--",
        *plan_args(str(WORKLOAD), **PLAN),
    )
    assert profile["defaultAction"] == "SCMP_ACT_KILL_PROCESS" and "defaultErrnoRet" not in profile
    assert bundle.run(plan_args("/bin/workload", **PLAN), profile).returncode == EXIT
    result = bundle.run(plan_args("/bin/workload", **PLAN), without(profile, "clone"))
    assert result.returncode == SIGSYS_STATUS, result.stderr


def test_a_different_program_is_refused(bundle: Bundle, recorded: tuple[dict[str, Any], ...], tmp_path: Path) -> None:
    _, runc = recorded
    # busybox id needs getuid, getgroups...: under the workload's profile they get
    # ENOSYS, so the ids it prints are -38 and it gives up on the groups.
    refused = bundle.run(["/bin/busybox", "id"], runc)
    assert refused.returncode == 1
    assert "id: can't get groups" in refused.stderr
    assert refused.stdout.startswith(f"uid={2**32 - 38} ")
    # Under its own profile the same command works in the same container.
    own, _ = record(tmp_path, "id", "--runtime-preamble", "runc", "--", str(BUSYBOX), "id")
    works = bundle.run(["/bin/busybox", "id"], own)
    assert works.returncode == 0, works.stderr
    assert works.stdout.startswith("uid=0(root) gid=0(root)") or works.stdout.startswith("uid=0 gid=0"), works.stdout


def test_32bit_workload_profile_has_the_i386_architecture_and_runs(bundle: Bundle, tmp_path: Path) -> None:
    profile, stderr = record(tmp_path, "w32", "--runtime-preamble", "runc", "--", *plan_args(str(WORKLOAD32), **PLAN))
    assert profile["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
    names = allowed(profile)
    # The same calls as strace -f sees (it shows the i386 ones in a table of its own),
    # under their libseccomp names: set_thread_area and ugetrlimit exist only in i386.
    seen = set(strace_counts(plan_args(str(WORKLOAD32), **PLAN))) | {"exit_group"}
    assert {"set_thread_area", "ugetrlimit", "clone", "wait4", "getppid", "execve"} <= seen
    # Always allowed besides: i386's old sigreturn, as a compat ABI is in the profile.
    assert names == seen | set(ALWAYS) | {"sigreturn"} | set(RUNTIME_PREAMBLES["runc"])
    # Only execve (the host's 64-bit call that started it) is native.
    assert f"(per ABI: X86_64 1, X86 {len(seen) - 1})" in stderr, stderr
    assert bundle.run(plan_args("/bin/workload32", **PLAN), profile).returncode == EXIT
    # Without SCMP_ARCH_X86 every 32-bit call is refused as a foreign architecture:
    # the runtime kills the process.
    native_only = {**profile, "architectures": ["SCMP_ARCH_X86_64"]}
    assert bundle.run(plan_args("/bin/workload32", **PLAN), native_only).returncode == SIGSYS_STATUS


def test_merge_unions_runs(bundle: Bundle, tmp_path: Path) -> None:
    plain = {"getppid": 1, "exit": EXIT}
    first, _ = record(tmp_path, "first", "--runtime-preamble", "runc", "--", *plan_args(str(WORKLOAD), **plain))
    assert "clone" not in allowed(first)
    assert bundle.run(plan_args("/bin/workload", **PLAN), first).stderr.strip() == "fork: Function not implemented"
    merged, stderr = record(
        tmp_path,
        "merged",
        "--merge",
        str(tmp_path / "first.json"),
        "--",
        *plan_args(str(WORKLOAD), children=1, exit=EXIT),
    )
    assert allowed(first) < allowed(merged) and "clone" in allowed(merged)
    assert f"merged {tmp_path / 'first.json'}" in stderr
    assert bundle.run(plan_args("/bin/workload", **PLAN), merged).returncode == EXIT


def test_recording_running_processes_by_pid(tmp_path: Path) -> None:
    out = tmp_path / "pid.json"
    with held_workload(getppid=3, fail_close=2) as process:
        running = Running(["seccomp", "-o", str(out), "-p", str(process.pid)])
        release(process)
        status, _, stderr = running.finish()
    assert status == 0, stderr
    names = allowed(json.loads(out.read_text()))
    # From the moment of attaching: the calls, exit_group. The read the workload was
    # blocked in when syscount attached is not seen (its entry came first): a pitfall
    # of recording running processes, documented in docs/seccomp.md.
    assert {"getppid", "close", "exit_group"} <= names
    assert not {"execve", "read"} & names
    assert "seen only failing (allowing them may not be needed): close (2)" in stderr


def test_names_libseccomp_does_not_know_are_reported_not_dropped(tmp_path: Path) -> None:
    # mseal (462) is newer than Debian 12's libseccomp 2.5.4; 500 is no syscall at all.
    code = "import ctypes; libc = ctypes.CDLL(None); libc.syscall(462, 0, 0, 0); libc.syscall(500)"
    profile, stderr = record(tmp_path, "unknown", "--", "/usr/bin/python3", "-c", code)
    assert not {"mseal", "unknown(500)"} & allowed(profile)
    (line,) = [line for line in stderr.splitlines() if "NOT in the profile" in line]
    assert "mseal (1)" in line and "unknown(500) (1)" in line, line


def test_under_crun_its_own_preamble_is_needed_and_enough(bundle: Bundle, tmp_path: Path) -> None:
    plain, _ = record(tmp_path, "plain", "--", *plan_args(str(WORKLOAD), **PLAN))
    profile, _ = record(tmp_path, "crun", "--runtime-preamble", "crun", "--", *plan_args(str(WORKLOAD), **PLAN))
    assert allowed(profile) == allowed(plain) | set(RUNTIME_PREAMBLES["crun"])
    argv = plan_args("/bin/workload", **PLAN)
    # With noNewPrivileges, crun installs the filter right before execve: nothing else to allow.
    assert bundle.run(argv, plain, runtime="crun", nnp=True).returncode == EXIT
    # Without it (docker's and podman's default), crun still drops privileges after
    # installing the filter: those calls must be allowed.
    failed = bundle.run(argv, plain, runtime="crun", nnp=False)
    assert failed.returncode == 1 and failed.stderr.strip() == "read from the init process", failed.stderr
    assert bundle.run(argv, profile, runtime="crun", nnp=False).returncode == EXIT
    failed = bundle.run(argv, without(profile, "clone"), runtime="crun", nnp=False)
    assert failed.returncode == 2 and failed.stderr.strip() == "fork: Function not implemented"


def test_recording_a_container_by_thread_name_until_ctrl_c(bundle: Bundle, tmp_path: Path) -> None:
    out = tmp_path / "container.json"
    # Threads named "workload": the container's process from its execve on, and its child.
    running = Running(["seccomp", "-o", str(out), "--runtime-preamble", "runc", "--comm", "workload"])
    try:
        assert bundle.run(plan_args("/bin/workload", **PLAN), None).returncode == EXIT
    finally:
        running.process.send_signal(signal.SIGINT)
    status, _, stderr = running.finish()
    assert status == 128 + signal.SIGINT, stderr
    profile = json.loads(out.read_text())
    assert {"clone", "wait4", "getppid", "openat", "close", "exit_group"} <= allowed(profile)
    assert bundle.run(plan_args("/bin/workload", **PLAN), profile).returncode == EXIT


def test_recording_a_container_by_its_cgroup_covers_what_runc_needs(bundle: Bundle, tmp_path: Path) -> None:
    # runc puts the container in a cgroup v2 of its name (here under the hybrid layout's
    # cgroup2 mount). Created but not started, the program is held before its execve:
    # recording the cgroup from then on sees runc's own calls after `runc start` too.
    mounted = cgroup2_root()
    assert mounted is not None, "cgroup v2 is not mounted"
    out = tmp_path / "cgroup.json"
    with bundle.created(plan_args("/bin/workload", **PLAN)) as (name, start_and_wait):
        running = Running(["seccomp", "-o", str(out), "--cgroup", f"{mounted}/{name}"])
        try:
            start_and_wait()
        finally:
            running.process.send_signal(signal.SIGINT)
        status, _, stderr = running.finish()
    assert status == 128 + signal.SIGINT, stderr
    profile = json.loads(out.read_text())
    names = allowed(profile)
    assert {"execve", "clone", "wait4", "getppid", "openat", "exit_group"} <= names
    # No --runtime-preamble: runc's own calls (with noNewPrivileges, as created) were
    # recorded with the program's: those it makes in every run (docs/seccomp.md).
    assert {"close", "epoll_ctl", "fstatfs", "getdents64", "getpid", "openat", "write"} <= names
    assert bundle.run(plan_args("/bin/workload", **PLAN), profile).returncode == EXIT
