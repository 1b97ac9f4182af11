"""The generated constant tables: current with the installed headers, right against known ABI values."""

from __future__ import annotations

import errno
import mmap
import os
import signal
import socket
from pathlib import Path

import pytest

from syscount.trace import constants as c

from .tool_scripts import load_tool

gen = load_tool("gen_trace_constants")
HEADERS = Path("/usr/include/linux/fcntl.h")


@pytest.mark.skipif(not HEADERS.exists(), reason="linux-libc-dev is not installed")
def test_the_checked_in_module_is_what_the_generator_writes() -> None:
    assert gen.main(["--check"]) == 0


def test_check_fails_on_a_stale_module(tmp_path: Path) -> None:
    stale = tmp_path / "constants.py"
    stale.write_text("# stale\n")
    assert gen.main(["--check", "--out", str(stale)]) == 1


def test_c_expressions_evaluate() -> None:
    known = {"F_LINUX_SPECIFIC_BASE": 1024, "O_CLOEXEC": 0o2000000}
    assert gen.evaluate("(F_LINUX_SPECIFIC_BASE + 6)", known) == 1030
    assert gen.evaluate("02000000", {}) == 0o2000000
    assert gen.evaluate("0x00000001U", {}) == 1
    assert gen.evaluate("(1UL << 3)", {}) == 8
    assert gen.evaluate("O_CLOEXEC", known) == 0o2000000
    assert gen.evaluate("_IOW(0x94, 9, int)", {}) == 0x40049409  # FICLONE
    assert gen.evaluate("_IO('T', 0x30)", {}) == 0x5430
    with pytest.raises(gen.Unevaluable):
        gen.evaluate("((unsigned long)-1)", {})
    with pytest.raises(gen.Unevaluable):
        gen.evaluate("_IOR('T', 1, struct termios)", {})


def test_definitions_read_defines_and_enum_items() -> None:
    text = "#define A 1 /* one */\n#define B(x) x\nenum {\n  C = 3, /* c */\n  D = 4 };\n#define E \\\n  (A | 8)\n"
    assert gen.definitions(text) == [("A", "1"), ("C", "3"), ("D", "4"), ("E", "(A | 8)")]


def test_tables_agree_with_the_c_library() -> None:
    assert c.SIGNALS[signal.SIGCHLD] == "SIGCHLD" and c.SIGNALS[signal.SIGTERM] == "SIGTERM"
    assert c.ADDRESS_FAMILIES[socket.AF_INET6] == "AF_INET6" and c.ADDRESS_FAMILIES[socket.AF_NETLINK] == "AF_NETLINK"
    assert c.SOCKET_TYPES[socket.SOCK_DGRAM] == "SOCK_DGRAM"
    assert dict(c.SOCKET_TYPE_FLAGS) == {"SOCK_CLOEXEC": socket.SOCK_CLOEXEC, "SOCK_NONBLOCK": socket.SOCK_NONBLOCK}
    assert c.IP_PROTOCOLS[socket.IPPROTO_TCP] == "IPPROTO_TCP"
    assert c.SOCKET_OPTIONS[socket.SO_REUSEADDR] == "SO_REUSEADDR"
    assert c.CLOCKS[1] == "CLOCK_MONOTONIC" and c.CLOCKS[7] == "CLOCK_BOOTTIME"
    assert c.FCNTL_COMMANDS[1030] == "F_DUPFD_CLOEXEC"
    assert c.IOCTL_COMMANDS[0x5401] == "TCGETS" and c.IOCTL_COMMANDS[0x541B] == "FIONREAD"
    assert c.MADVISE_ADVICE[mmap.MADV_DONTNEED] == "MADV_DONTNEED"
    assert dict(c.PROT_FLAGS)["PROT_EXEC"] == mmap.PROT_EXEC
    assert dict(c.MAP_FLAGS)["MAP_ANONYMOUS"] == mmap.MAP_ANONYMOUS
    assert c.SEEK_WHENCE[os.SEEK_END] == "SEEK_END"
    assert c.PRCTL_OPTIONS[15] == "PR_SET_NAME" and c.PRCTL_OPTIONS[38] == "PR_SET_NO_NEW_PRIVS"
    assert "PR_SET_MM_START_CODE" not in c.PRCTL_OPTIONS.values()  # a sub-option, not an option
    assert c.FUTEX_COMMANDS[9] == "FUTEX_WAIT_BITSET"
    assert dict(c.CLONE_FLAGS)["CLONE_THREAD"] == 0x10000
    assert c.RLIMIT_RESOURCES[7] == "RLIMIT_NOFILE"
    assert dict(c.WAIT_OPTIONS)["WNOHANG"] == os.WNOHANG
    assert c.ARCH_PRCTL_OPTIONS[0x1002] == "ARCH_SET_FS"
    assert dict(c.AT_FLAGS)["AT_EMPTY_PATH"] == 0x1000
    assert errno.ENOENT == 2  # (the errno table has its own generator and tests)


def test_bit_tables_are_in_strace_order() -> None:
    values = [mask for _, mask in c.CLONE_FLAGS]
    assert values == sorted(values)
    assert [name for name, _ in c.SOCKET_TYPE_FLAGS] == ["SOCK_CLOEXEC", "SOCK_NONBLOCK"]
