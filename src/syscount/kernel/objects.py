"""BpfObject: one compiled ``.bpf.o`` as a context manager.

Lifecycle: open → configure (``.rodata`` before load) → load → attach; leaving the
``with`` block (normally, by exception or by a signal turned into one) detaches every
link in reverse order and closes the object, which frees its programs and maps.
"""

from __future__ import annotations

import errno
import mmap
import os
from collections.abc import Callable
from typing import Self

from ..closing import Closing
from ..errors import LoadError, NotSupported, PermissionDenied
from . import libbpf as _libbpf
from .maps import BpfMap
from .ringbuf import RingBuffer

# Plain paths, not pathlib: it costs ~5 ms of import before attaching.
# BPF_DIR holds the sources and headers; the compiled objects are in BPF_DIR/<machine>/,
# one directory per machine the wheel supports (tools/build_bpf.py builds them all).
BPF_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "bpf")
MACHINES = ("x86_64", "aarch64")  # as `uname -m` names them
KERNEL_BTF = "/sys/kernel/btf/vmlinux"


class _LibbpfLog:
    """Collects libbpf's messages (the verifier log among them) for error reports."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.echo: Callable[[str], None] | None = None
        self._installed = False

    def install(self) -> None:
        if not self._installed:
            _libbpf.set_print(self._receive)
            self._installed = True

    def _receive(self, level: int, text: str) -> None:
        if level == _libbpf.PRINT_DEBUG and self.echo is None:
            return
        self.lines.append(text)
        del self.lines[:-2000]  # the end of a verifier log says why it failed
        if self.echo is not None:
            self.echo(text)

    def take(self) -> str:
        text = "".join(self.lines)
        self.lines.clear()
        return text


LIBBPF_LOG = _LibbpfLog()


def object_dir(machine: str | None = None) -> str:
    """Where the objects for ``machine`` (default: this one, ``uname -m``) are."""
    machine = machine or os.uname().machine
    if machine not in MACHINES:
        raise NotSupported(
            f"this machine ({machine})", f"syscount's BPF programs are built for {' and '.join(MACHINES)} only"
        )
    return os.path.join(BPF_DIR, machine)


def object_path(stem: str, machine: str | None = None) -> str:
    return os.path.join(object_dir(machine), f"{stem}.bpf.o")


class BpfObject(Closing):
    """Open, configure, load and attach one BPF object; undo it all on exit."""

    def __init__(self, stem: str, machine: str | None = None) -> None:
        """``machine``: whose object to open (default this one's; another's opens but cannot load)."""
        self.stem = stem
        self.path = object_path(stem, machine)
        self._obj = 0
        self._links: list[int] = []
        self._mmaps: list[mmap.mmap] = []
        self._rings: list[RingBuffer] = []
        self._loaded = False

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    def __enter__(self) -> BpfObject:
        if not os.path.exists(self.path):
            raise NotSupported(
                self.name, f"{self.path} is missing (in a clone: `make bpf`; a wheel built by `make wheel` carries it)"
            )
        LIBBPF_LOG.install()
        LIBBPF_LOG.take()
        try:
            self._obj = _libbpf.object_open(self.path)
        except OSError as exc:
            raise LoadError(f"opening {self.name}: {exc.strerror}", LIBBPF_LOG.take()) from exc
        return self

    def close(self) -> None:
        while self._rings:
            self._rings.pop().close()
        for view in reversed(self._mmaps):
            view.close()
        self._mmaps.clear()
        while self._links:
            _libbpf.link_destroy(self._links.pop())
        if self._obj:
            _libbpf.object_close(self._obj)
            self._obj = 0

    def programs(self) -> list[tuple[str, str]]:
        """(name, section) of each program, as libbpf read them from the object's ELF and BTF."""
        return _libbpf.object_programs(self._obj)

    def has_btf(self) -> bool:
        return _libbpf.object_has_btf(self._obj)

    # -- before load -------------------------------------------------------------

    def configure(self, rodata: bytes) -> None:
        """Write the program's ``const volatile`` config (one struct at offset 0)."""
        try:
            _libbpf.map_write_initial_value(_libbpf.find_map(self._obj, ".rodata"), rodata)
        except OSError as exc:
            raise LoadError(f"configuring {self.name}: {exc.strerror}") from exc

    def share_map(self, name: str, fd: int) -> None:
        """Use another object's map ``fd`` for this object's map ``name`` (before load)."""
        _libbpf.map_reuse_fd(_libbpf.find_map(self._obj, name), fd)

    def shrink_map(self, name: str) -> None:
        """Create map ``name`` with one entry: it is declared but unused in this run."""
        self.resize_map(name, 1)

    def resize_map(self, name: str, entries: int) -> None:
        """Before load: give map ``name`` room for ``entries``."""
        _libbpf.map_set_max_entries(_libbpf.find_map(self._obj, name), entries)

    def set_autoload(self, program: str, autoload: bool) -> None:
        _libbpf.program_set_autoload(_libbpf.find_program(self._obj, program), autoload)

    # -- load and attach -----------------------------------------------------------

    def load(self) -> None:
        try:
            _libbpf.object_load(self._obj)
        except OSError as exc:
            raise self._load_error(exc) from exc
        self._loaded = True

    def _load_error(self, exc: OSError) -> Exception:
        log = LIBBPF_LOG.take()
        what = f"loading {self.name}"
        if exc.errno in (errno.EPERM, errno.EACCES) and "invalid" not in log:
            return PermissionDenied(what)
        if exc.errno == errno.ENOSYS:
            return NotSupported("the bpf() system call", "this kernel was built without CONFIG_BPF_SYSCALL")
        if not os.path.exists(KERNEL_BTF):
            return NotSupported("kernel BTF", f"{KERNEL_BTF} is missing (kernel built without CONFIG_DEBUG_INFO_BTF)")
        return LoadError(f"{what}: {exc.strerror} (run with --debug for the verifier log)", log)

    def attach(self, program: str) -> None:
        try:
            self._links.append(_libbpf.program_attach(_libbpf.find_program(self._obj, program)))
        except OSError as exc:
            LIBBPF_LOG.take()
            if exc.errno in (errno.EPERM, errno.EACCES):
                raise PermissionDenied(f"attaching {program}") from exc
            raise NotSupported(
                f"attaching {self.name}:{program} to its tracepoint",
                f"{exc.strerror} (are raw tracepoints available in this kernel?)",
            ) from exc

    # -- access --------------------------------------------------------------------

    def map_fd(self, name: str) -> int:
        return _libbpf.map_fd(_libbpf.find_map(self._obj, name))

    def map(self, name: str) -> BpfMap:
        return BpfMap(self.map_fd(name), name)

    def map_value_size(self, name: str) -> int:
        return _libbpf.map_value_size(_libbpf.find_map(self._obj, name))

    def max_entries(self, name: str) -> int:
        return _libbpf.map_max_entries(_libbpf.find_map(self._obj, name))

    def program_fd(self, name: str) -> int:
        return _libbpf.program_fd(_libbpf.find_program(self._obj, name))

    def mmap(self, name: str, *, writable: bool = False) -> mmap.mmap:
        """A live mapping of an mmapable map (``.bss``): no syscall per read.

        Read it by slicing (a copy); holding a memoryview on it would keep close() from
        unmapping it."""
        bpf_map = _libbpf.find_map(self._obj, name)
        # An array maps all its values (a data section is an array of one).
        size = _libbpf.map_value_size(bpf_map) * _libbpf.map_max_entries(bpf_map)
        protection = mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0)
        view = mmap.mmap(self.map_fd(name), size, mmap.MAP_SHARED, protection)
        self._mmaps.append(view)
        return view

    def ring(self, name: str) -> RingBuffer:
        """The consumer's mappings of ring buffer ``name``, closed with the object."""
        ring = RingBuffer(self.map_fd(name), self.max_entries(name)).__enter__()
        self._rings.append(ring)
        return ring

    def detach_all(self) -> None:
        """Stop the programs now (counters stay readable until close)."""
        while self._links:
            _libbpf.link_destroy(self._links.pop())


class ObjectOwner(Closing):
    """Base for a kernel-side feature built on one BpfObject (a collector, the filter).

    ``with`` opens the object and runs ``setup`` (configure, load, attach); leaving
    it, or a failure inside ``setup``, closes the object: every program detached."""

    def __init__(self, stem: str) -> None:
        self._object = BpfObject(stem)

    def setup(self, bpf: BpfObject) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        bpf = self._object.__enter__()
        try:
            self.setup(bpf)
        except BaseException:
            bpf.close()
            raise
        return self

    def close(self) -> None:
        self._object.close()


def is_privileged() -> bool:
    """Has the capabilities a BPF tracer needs: CAP_SYS_ADMIN (21), or CAP_BPF (39) + CAP_PERFMON (38).

    Checked on the effective set, not the uid: root in a container or under a
    dropped bounding set may have neither."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    caps = int(line.split()[1], 16)
                    return bool(caps & (1 << 21)) or (bool(caps & (1 << 39)) and bool(caps & (1 << 38)))
    except OSError:
        pass
    return os.geteuid() == 0  # no /proc: let the kernel decide
