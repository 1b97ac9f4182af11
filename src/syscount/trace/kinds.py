"""What each argument is, decided once per syscall from its name and C type.

The kind says how a raw 64-bit register value is shown: a signed ``int`` (the low 32
bits), a pointer, a path read from user memory, a set of open flags... A sink maps
each kind to its own rendering; nothing here formats.
"""

from __future__ import annotations

from enum import Enum

from .signatures import Arg, Signature


class Kind(Enum):
    INT = "int"  # signed 32-bit
    UINT = "uint"  # unsigned 32-bit
    LONG = "long"  # signed 64-bit
    ULONG = "ulong"  # unsigned 64-bit
    POINTER = "pointer"  # hex, NULL for 0
    STRING = "string"  # read from user memory at entry
    ARGV = "argv"  # NULL-terminated array of strings (execve's argv)
    DIRFD = "dirfd"  # AT_FDCWD or a descriptor
    OPEN_FLAGS = "open_flags"
    OPEN_MODE = "open_mode"  # shown only when the flags create a file (O_CREAT, O_TMPFILE)
    MODE = "mode"  # permission bits, octal
    ACCESS = "access"  # F_OK or R_OK|W_OK|X_OK
    PROT = "prot"
    MAP_FLAGS = "map_flags"
    AT_FLAGS = "at_flags"
    AT_FLAGS_UNLINK = "at_flags_unlink"  # 0x200 is AT_REMOVEDIR
    AT_FLAGS_ACCESS = "at_flags_access"  # 0x200 is AT_EACCESS
    SIGNAL = "signal"
    WHENCE = "whence"
    FD = "fd"  # a descriptor: an int, or with -y the int and its path (fdpaths.py)
    # Symbolic constants (values.py, tables generated into constants.py).
    CLOCK = "clock"
    SIGPROCMASK_HOW = "sigprocmask_how"
    ADDRESS_FAMILY = "address_family"
    SOCKET_TYPE = "socket_type"
    SOCKET_PROTOCOL = "socket_protocol"
    SOCKET_LEVEL = "socket_level"
    MESSAGE_FLAGS = "message_flags"
    SHUTDOWN_HOW = "shutdown_how"
    FCNTL_COMMAND = "fcntl_command"
    IOCTL_REQUEST = "ioctl_request"
    MADVISE = "madvise"
    FADVISE = "fadvise"
    PRCTL_OPTION = "prctl_option"
    ARCH_PRCTL_OPTION = "arch_prctl_option"
    FUTEX_OP = "futex_op"
    CLONE_FLAGS = "clone_flags"
    RLIMIT = "rlimit"
    RANDOM_FLAGS = "random_flags"
    EPOLL_CTL = "epoll_ctl"
    EPOLL_CREATE_FLAGS = "epoll_create_flags"
    WAIT_OPTIONS = "wait_options"
    CLOSE_RANGE_FLAGS = "close_range_flags"
    STATX_MASK = "statx_mask"
    AT_FLAGS_STATX = "at_flags_statx"
    PIPE_FLAGS = "pipe_flags"  # O_* flags without an access mode (pipe2, dup3, eventfd2...)
    MREMAP_FLAGS = "mremap_flags"
    SOCKET_FLAGS = "socket_flags"  # accept4's SOCK_CLOEXEC|SOCK_NONBLOCK
    OFFSET = "offset"  # mmap's, in hex
    FD_FLAGS = "fd_flags"  # fcntl(F_SETFD)'s FD_CLOEXEC
    IP_PROTOCOL = "ip_protocol"  # socket's protocol when the domain is AF_INET/AF_INET6
    NETLINK_PROTOCOL = "netlink_protocol"
    SOCKET_OPTION = "socket_option"  # setsockopt's optname at SOL_SOCKET
    FUTEX_BITSET = "futex_bitset"
    ADDRESS = "address"  # an unsigned long holding an address: hex in text, a number in JSON
    HEX = "hex"  # an unsigned 32-bit number strace shows in hex (rseq's length and signature)
    CAPTURED = "captured"  # bytes read from user memory at exit: a buffer or a struct (captures.py)


# Arguments of type char * / const char * that are NUL-terminated input strings.
STRING_NAMES = frozenset(
    {
        "filename",
        "pathname",
        "path",
        "from_pathname",
        "to_pathname",
        "oldname",
        "newname",
        "new_root",
        "put_old",
        "special",
        "specialfile",
        "dev_name",
        "dir_name",
        "type",
        "name",
        "u_name",
        "uname",
        "_description",
        "_type",
        "_callout_info",
        "_fs_name",
        "_key",
        "library",
    }
)
# `name` here is a buffer with a length, not a NUL-terminated string.
NOT_STRINGS = {("sethostname", "name"), ("setdomainname", "name")}

DIRFD_NAMES = frozenset({"dfd", "olddfd", "newdfd", "from_dfd", "to_dfd"})
# Calls whose plain `fd` argument is a directory for a relative path (AT_FDCWD allowed).
FD_IS_DIRFD = frozenset({"execveat", "open_tree", "open_tree_attr", "fspick", "file_getattr", "file_setattr"})

OPEN_CALLS = frozenset({"open", "openat"})
ACCESS_CALLS = frozenset({"access", "faccessat", "faccessat2"})
AT_FLAG_ARGS = {
    ("newfstatat", "flag"): Kind.AT_FLAGS,
    ("fstatat64", "flag"): Kind.AT_FLAGS,
    ("fchownat", "flag"): Kind.AT_FLAGS,
    ("linkat", "flags"): Kind.AT_FLAGS,
    ("utimensat", "flags"): Kind.AT_FLAGS,
    ("fchmodat2", "flags"): Kind.AT_FLAGS,
    ("statx", "flags"): Kind.AT_FLAGS_STATX,
    ("execveat", "flags"): Kind.AT_FLAGS,
    ("name_to_handle_at", "flag"): Kind.AT_FLAGS,
    ("unlinkat", "flag"): Kind.AT_FLAGS_UNLINK,
    ("faccessat2", "flags"): Kind.AT_FLAGS_ACCESS,
}
_CLOCK = Kind.CLOCK
_SOCKET = (Kind.ADDRESS_FAMILY, Kind.SOCKET_TYPE, Kind.SOCKET_PROTOCOL)
# Symbolic arguments by (syscall, argument name): strace's choice of which to name.
CONSTANT_ARGS: dict[tuple[str, str], Kind] = {
    **{(call, "which_clock"): _CLOCK for call in ("clock_nanosleep", "clock_gettime", "clock_getres")},
    **{(call, "which_clock"): _CLOCK for call in ("clock_settime", "clock_adjtime", "timer_create")},
    ("timerfd_create", "clockid"): _CLOCK,
    ("rt_sigprocmask", "how"): Kind.SIGPROCMASK_HOW,
    **{("socket", arg): kind for arg, kind in zip(("family", "type", "protocol"), _SOCKET, strict=True)},
    **{("socketpair", arg): kind for arg, kind in zip(("family", "type", "protocol"), _SOCKET, strict=True)},
    ("accept4", "flags"): Kind.SOCKET_FLAGS,
    ("mmap", "off"): Kind.OFFSET,
    ("setsockopt", "level"): Kind.SOCKET_LEVEL,
    ("getsockopt", "level"): Kind.SOCKET_LEVEL,
    **{(call, "flags"): Kind.MESSAGE_FLAGS for call in ("sendto", "recvfrom", "sendmsg", "recvmsg", "send", "recv")},
    **{(call, "flags"): Kind.MESSAGE_FLAGS for call in ("sendmmsg", "recvmmsg")},
    ("shutdown", "how"): Kind.SHUTDOWN_HOW,
    ("fcntl", "cmd"): Kind.FCNTL_COMMAND,
    ("ioctl", "cmd"): Kind.IOCTL_REQUEST,
    ("madvise", "behavior"): Kind.MADVISE,
    ("process_madvise", "behavior"): Kind.MADVISE,
    ("fadvise64", "advice"): Kind.FADVISE,
    ("prctl", "option"): Kind.PRCTL_OPTION,
    ("arch_prctl", "option"): Kind.ARCH_PRCTL_OPTION,
    ("futex", "op"): Kind.FUTEX_OP,
    ("clone", "clone_flags"): Kind.CLONE_FLAGS,
    ("unshare", "unshare_flags"): Kind.CLONE_FLAGS,
    ("prlimit64", "resource"): Kind.RLIMIT,
    ("getrlimit", "resource"): Kind.RLIMIT,
    ("setrlimit", "resource"): Kind.RLIMIT,
    ("getrandom", "flags"): Kind.RANDOM_FLAGS,
    ("epoll_ctl", "op"): Kind.EPOLL_CTL,
    ("epoll_create1", "flags"): Kind.EPOLL_CREATE_FLAGS,
    ("wait4", "options"): Kind.WAIT_OPTIONS,
    ("waitid", "options"): Kind.WAIT_OPTIONS,
    ("close_range", "flags"): Kind.CLOSE_RANGE_FLAGS,
    ("statx", "mask"): Kind.STATX_MASK,
    ("pipe2", "flags"): Kind.PIPE_FLAGS,
    ("dup3", "flags"): Kind.PIPE_FLAGS,
    ("eventfd2", "flags"): Kind.PIPE_FLAGS,
    ("mremap", "flags"): Kind.MREMAP_FLAGS,
    ("ioctl", "arg"): Kind.ADDRESS,  # mostly a pointer to the request's struct
    ("arch_prctl", "arg2"): Kind.ADDRESS,  # an address (ARCH_SET_FS) or where to put one
    ("rseq", "rseq_len"): Kind.HEX,
    ("rseq", "sig"): Kind.HEX,
}
# A descriptor argument that does not end in "fd"; fd-named ones that are only numbers.
FD_ARGS = frozenset({("dup", "fildes")})
NOT_FD_ARGS = frozenset({("close_range", "fd"), ("close_range", "max_fd")})
SIGNAL_CALLS = frozenset(
    {"kill", "tkill", "tgkill", "rt_sigaction", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal"}
)
# unsigned long arguments that hold addresses.
ADDRESS_NAMES = frozenset({"addr", "start", "brk", "new_addr", "old_addr", "shmaddr"})
# Calls that return an address.
POINTER_RETURNS = frozenset({"mmap", "mmap2", "mremap", "brk", "shmat"})

_INT32 = frozenset({"int", "pid_t", "key_t", "key_serial_t", "timer_t", "mqd_t", "clockid_t", "__s32", "rwf_t"})
_UINT32 = frozenset(
    {"unsigned int", "unsigned", "u32", "__u32", "uid_t", "gid_t", "qid_t", "umode_t", "unsigned char"}
    | {"unsigned short"}
)
_INT64 = frozenset({"long", "loff_t", "off_t", "ssize_t", "__kernel_old_time_t", "long long"})


def arg_kind(syscall: str, arg: Arg) -> Kind:
    """How ``syscall``'s argument ``arg`` is shown."""
    name = arg.name
    from .captures import capture_of

    if arg.is_pointer and capture_of(syscall, name) is not None:
        return Kind.CAPTURED
    special = _special_kind(syscall, name)
    if special is not None:
        return special
    if arg.is_pointer:
        if _is_string(syscall, arg):
            return Kind.STRING
        if name == "argv" and "char" in arg.ctype:
            return Kind.ARGV
        return Kind.POINTER
    if (syscall, name) in FD_ARGS:
        return Kind.FD
    kind = _integer_kind(name, arg.ctype)
    if kind is Kind.INT and name.endswith("fd") and (syscall, name) not in NOT_FD_ARGS:
        return Kind.FD
    return kind


def _is_string(syscall: str, arg: Arg) -> bool:
    """A char * (not char **) with a string's name."""
    single = arg.ctype.count("*") == 1 and "char *" in arg.ctype
    return single and arg.name in STRING_NAMES and (syscall, arg.name) not in NOT_STRINGS


def _special_kind(syscall: str, name: str) -> Kind | None:
    if name in DIRFD_NAMES or (name == "fd" and syscall in FD_IS_DIRFD):
        return Kind.DIRFD
    if syscall in OPEN_CALLS and name == "flags":
        return Kind.OPEN_FLAGS
    if syscall in OPEN_CALLS and name == "mode":
        return Kind.OPEN_MODE
    if syscall in ACCESS_CALLS and name == "mode":
        return Kind.ACCESS
    if name == "prot":
        return Kind.PROT
    if syscall in ("mmap", "mmap2") and name == "flags":
        return Kind.MAP_FLAGS
    if syscall in SIGNAL_CALLS and name == "sig":
        return Kind.SIGNAL
    if name == "whence":
        return Kind.WHENCE
    constant = CONSTANT_ARGS.get((syscall, name))
    if constant is not None:
        return constant
    return AT_FLAG_ARGS.get((syscall, name))


def _integer_kind(name: str, ctype: str) -> Kind:
    base = ctype.removeprefix("const ").strip()
    if name == "fd" or name.endswith("fd"):
        return Kind.INT  # descriptors are ints even where declared unsigned long (mmap)
    if base == "umode_t":
        return Kind.MODE
    if name in ADDRESS_NAMES and base == "unsigned long":
        return Kind.POINTER
    if base in _INT32 or base.startswith("enum "):
        return Kind.INT
    if base in _UINT32:
        return Kind.UINT
    if base in _INT64:
        return Kind.LONG
    return Kind.ULONG


def kinds(signature: Signature) -> tuple[Kind, ...]:
    return tuple(arg_kind(signature.name, arg) for arg in signature.args)
