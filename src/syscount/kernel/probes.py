"""What the kernel and libbpf can do here, asked for real (syscount doctor's kernel side).

Each probe creates the kernel object it asks about (a map, a program and its attachment)
and closes it at once, the way ``bpftool feature probe`` does. Without privileges the
kernel refuses them all, so callers check privileges first.
"""

from __future__ import annotations

from . import libbpf as _libbpf

LIBBPF_SONAME = _libbpf.LIBBPF_SONAME
BPF_MAP_TYPE_RINGBUF = 27  # enum bpf_map_type
BPF_MAP_TYPE_TASK_STORAGE = 29


def libbpf_version_numbers() -> tuple[int, int]:
    """(major, minor) of the libbpf loaded; LibraryMissing when there is none."""
    return _libbpf.version_numbers()


def libbpf_version() -> str:
    return _libbpf.version()


def map_type_supported(map_type: int) -> bool:
    return _libbpf.probe_map_type(map_type)


def attach_raw_tracepoint(tracepoint: str) -> None:
    """An empty program attached to ``tracepoint`` and detached; OSError if refused."""
    _libbpf.attach_raw_tracepoint(tracepoint)


def kernel_btf_has_typedef(name: str) -> bool:
    """The kernel's BTF, parsed by libbpf as for CO-RE, has typedef ``name``."""
    return _libbpf.vmlinux_has_typedef(name)
