"""The only module that knows ctypes: libbpf.so.1 bound function by function.

Every pointer-returning function gets ``restype = c_void_p`` (the default ``int``
would truncate the pointer and crash the process), and every failure is turned
into an ``OSError`` with the right errno here, so callers never see C conventions.
libbpf 1.x returns NULL + errno from pointer functions and ``-errno`` from int ones.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from typing import Any, NamedTuple

from ..errors import LibraryMissing

LIBBPF_SONAME = "libbpf.so.1"

# enum libbpf_print_level
PRINT_WARN, PRINT_INFO, PRINT_DEBUG = 0, 1, 2

_PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)

_lib: ctypes.CDLL | None = None
_libc: ctypes.CDLL | None = None
# Keep the installed callback alive: if ctypes frees it, libbpf calls freed memory.
_print_callback: Any = None

# fd, in_batch, out_batch, keys, values, count, opts
_LOOKUP_BATCH_ARGS = [
    ctypes.c_int,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_uint32),
    ctypes.c_void_p,
]

_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "bpf_object__open_file": (ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_void_p]),
    "bpf_object__load": (ctypes.c_int, [ctypes.c_void_p]),
    "bpf_object__close": (None, [ctypes.c_void_p]),
    "bpf_object__btf": (ctypes.c_void_p, [ctypes.c_void_p]),
    "bpf_object__next_program": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_void_p]),
    "bpf_program__name": (ctypes.c_char_p, [ctypes.c_void_p]),
    "bpf_program__section_name": (ctypes.c_char_p, [ctypes.c_void_p]),
    "bpf_object__find_map_by_name": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "bpf_object__find_program_by_name": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "bpf_program__set_autoload": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_bool]),
    "bpf_program__attach": (ctypes.c_void_p, [ctypes.c_void_p]),
    "bpf_program__fd": (ctypes.c_int, [ctypes.c_void_p]),
    "bpf_link__destroy": (ctypes.c_int, [ctypes.c_void_p]),
    "bpf_map__fd": (ctypes.c_int, [ctypes.c_void_p]),
    "bpf_map__value_size": (ctypes.c_uint32, [ctypes.c_void_p]),
    "bpf_map__max_entries": (ctypes.c_uint32, [ctypes.c_void_p]),
    "bpf_map__set_max_entries": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint32]),
    "bpf_map__reuse_fd": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
    "bpf_map__initial_value": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]),
    "bpf_map_update_elem": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64]),
    "bpf_map_delete_elem": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p]),
    "bpf_map_lookup_elem": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]),
    "bpf_map_get_next_key": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]),
    "bpf_map_lookup_batch": (ctypes.c_int, _LOOKUP_BATCH_ARGS),
    "bpf_map_lookup_and_delete_batch": (ctypes.c_int, _LOOKUP_BATCH_ARGS),
    "bpf_map_delete_batch": (
        ctypes.c_int,
        [ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32), ctypes.c_void_p],
    ),
    "bpf_map_update_batch": (
        ctypes.c_int,
        [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32), ctypes.c_void_p],
    ),
    "libbpf_num_possible_cpus": (ctypes.c_int, []),
    "libbpf_set_print": (ctypes.c_void_p, [_PRINT_FN]),
    "bpf_enable_stats": (ctypes.c_int, [ctypes.c_int]),
    "bpf_obj_get_info_by_fd": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32)]),
    "libbpf_version_string": (ctypes.c_char_p, []),
    "libbpf_major_version": (ctypes.c_uint32, []),
    "libbpf_minor_version": (ctypes.c_uint32, []),
    # Feature probes (syscount doctor)
    "libbpf_probe_bpf_map_type": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p]),
    "bpf_prog_load": (
        ctypes.c_int,
        [ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p],
    ),
    "bpf_raw_tracepoint_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_int]),
    "btf__load_vmlinux_btf": (ctypes.c_void_p, []),
    "btf__find_by_name_kind": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32]),
    "btf__free": (None, [ctypes.c_void_p]),
}


def lib() -> ctypes.CDLL:
    """Load libbpf once, with errno capture and every signature declared."""
    global _lib
    if _lib is None:
        try:
            loaded = ctypes.CDLL(LIBBPF_SONAME, use_errno=True)
        except OSError as exc:
            raise LibraryMissing(LIBBPF_SONAME, str(exc), "install libbpf 1.x (apt-get install libbpf1)") from exc
        for name, (restype, argtypes) in _SIGNATURES.items():
            function = getattr(loaded, name)
            function.restype = restype
            function.argtypes = argtypes
        _lib = loaded
    return _lib


def _os_error(err: int, what: str) -> OSError:
    """The failure as an OSError whose message is the system's alone: callers prefix it
    once with what they were doing. ``what`` (the libbpf step) is kept as a note."""
    err = abs(err) or ctypes.get_errno() or 22  # EINVAL when libbpf says nothing
    error = OSError(err, os.strerror(err))
    error.add_note(what)
    return error


def _pointer(result: int | None, what: str) -> int:
    if not result:
        raise _os_error(ctypes.get_errno(), what)
    return result


def _check(result: int, what: str) -> int:
    if result < 0:
        raise _os_error(result, what)
    return result


def set_print(sink: Callable[[int, str], None]) -> None:
    """Route libbpf's messages (and the verifier log) to ``sink(level, text)``."""
    global _print_callback, _libc
    if _libc is None:
        # The process's own symbols include libc's (ctypes.util would cost start-up time).
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.vsnprintf.restype = ctypes.c_int
        _libc.vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p]
    vsnprintf = _libc.vsnprintf

    def on_print(level: int, fmt: bytes | None, args: int | None) -> int:
        # va_list reaches us as a pointer on x86-64 and arm64 alike (arm64 passes the
        # struct by reference), so libc can format it for us.
        buffer = ctypes.create_string_buffer(1 << 20)
        vsnprintf(buffer, len(buffer), fmt, args)
        sink(level, buffer.value.decode(errors="replace"))
        return 0

    _print_callback = _PRINT_FN(on_print)
    lib().libbpf_set_print(_print_callback)


def num_possible_cpus() -> int:
    return _check(lib().libbpf_num_possible_cpus(), "counting possible CPUs")


def object_open(path: str) -> int:
    return _pointer(lib().bpf_object__open_file(path.encode(), None), f"opening {path}")


def object_load(obj: int) -> None:
    _check(lib().bpf_object__load(obj), "loading")


def object_close(obj: int) -> None:
    lib().bpf_object__close(obj)


def object_has_btf(obj: int) -> bool:
    return bool(lib().bpf_object__btf(obj))


def object_programs(obj: int) -> list[tuple[str, str]]:
    """(name, section) of every program in an opened object, in the object's order."""
    programs: list[tuple[str, str]] = []
    prog = lib().bpf_object__next_program(obj, None)
    while prog:
        programs.append((lib().bpf_program__name(prog).decode(), lib().bpf_program__section_name(prog).decode()))
        prog = lib().bpf_object__next_program(obj, prog)
    return programs


def find_map(obj: int, name: str) -> int:
    return _pointer(lib().bpf_object__find_map_by_name(obj, name.encode()), f"finding map {name}")


def find_program(obj: int, name: str) -> int:
    return _pointer(lib().bpf_object__find_program_by_name(obj, name.encode()), f"finding program {name}")


def program_set_autoload(prog: int, autoload: bool) -> None:
    _check(lib().bpf_program__set_autoload(prog, autoload), "setting autoload")


def program_attach(prog: int) -> int:
    return _pointer(lib().bpf_program__attach(prog), "attaching")


def program_fd(prog: int) -> int:
    return _check(lib().bpf_program__fd(prog), "getting program fd")


def link_destroy(link: int) -> None:
    lib().bpf_link__destroy(link)


def map_fd(bpf_map: int) -> int:
    return _check(lib().bpf_map__fd(bpf_map), "getting map fd")


def map_value_size(bpf_map: int) -> int:
    return int(lib().bpf_map__value_size(bpf_map))


def map_max_entries(bpf_map: int) -> int:
    return int(lib().bpf_map__max_entries(bpf_map))


def map_set_max_entries(bpf_map: int, entries: int) -> None:
    _check(lib().bpf_map__set_max_entries(bpf_map, entries), "sizing map")


def map_reuse_fd(bpf_map: int, fd: int) -> None:
    """Before load: use an existing map (another object's) instead of creating one."""
    _check(lib().bpf_map__reuse_fd(bpf_map, fd), "sharing map")


def map_write_initial_value(bpf_map: int, data: bytes) -> None:
    """Write the start of a data section's pre-load image (``.rodata`` config lives here).

    Writing in place keeps the rest of the section as compiled; libbpf 1.1's
    ``bpf_map__initial_value`` returns the image libbpf will load."""
    size = ctypes.c_size_t()
    address = _pointer(lib().bpf_map__initial_value(bpf_map, ctypes.byref(size)), "reading initial value")
    if len(data) > size.value:
        raise OSError(22, f"config is {len(data)} bytes, the section {size.value}")
    ctypes.memmove(address, data, len(data))


def map_update(fd: int, key: bytes, value: bytes, flags: int = 0) -> None:
    _check(lib().bpf_map_update_elem(fd, key, value, flags), "updating map")


def map_delete(fd: int, key: bytes) -> None:
    _check(lib().bpf_map_delete_elem(fd, key), "deleting map entry")


def map_items(fd: int, key_size: int, value_size: int) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of a hash map, walked with get_next_key (entries may come and go)."""
    key = ctypes.create_string_buffer(key_size)
    next_key = ctypes.create_string_buffer(key_size)
    value = ctypes.create_string_buffer(value_size)
    items: list[tuple[bytes, bytes]] = []
    previous: ctypes.Array[ctypes.c_char] | None = None
    while lib().bpf_map_get_next_key(fd, previous, next_key) == 0:
        ctypes.memmove(key, next_key, key_size)
        previous = key
        if lib().bpf_map_lookup_elem(fd, key, value) == 0:  # gone meanwhile: skip it
            items.append((key.raw, value.raw))
    return items


def hash_read_all(
    fd: int, key_size: int, value_size: int, capacity: int, *, delete: bool = False
) -> tuple[bytes, bytes]:
    """Every entry of a hash map in a few system calls: (keys, values), packed.

    ``capacity`` (the map's max_entries) bounds one call, so a bucket never finds the
    buffers too small (ENOSPC). With ``delete``, each entry is removed as it is read
    (``bpf_map_lookup_and_delete_batch``): entries added meanwhile stay for next time."""
    function = lib().bpf_map_lookup_and_delete_batch if delete else lib().bpf_map_lookup_batch
    keys = ctypes.create_string_buffer(capacity * key_size)
    values = ctypes.create_string_buffer(capacity * value_size)
    token_in, token_out = ctypes.c_uint64(), ctypes.c_uint64()  # the kernel's bucket cursor
    total = 0
    first = True
    while total < capacity:
        count = ctypes.c_uint32(capacity - total)
        result = function(
            fd,
            None if first else ctypes.byref(token_in),
            ctypes.byref(token_out),
            ctypes.byref(keys, total * key_size),
            ctypes.byref(values, total * value_size),
            ctypes.byref(count),
            None,
        )
        # Draining, entries added behind the cursor can outgrow the buffer: a bucket that
        # no longer fits (ENOSPC, nothing copied) is left, whole, for the next drain.
        if delete and result == -errno.ENOSPC:
            break
        # The end of the map is ENOENT, and the count that comes with it is still valid.
        if result < 0 and result != -errno.ENOENT:
            raise _os_error(result, "reading map in batches")
        total += count.value
        if result == -errno.ENOENT:
            break
        token_in.value, first = token_out.value, False
    return keys.raw[: total * key_size], values.raw[: total * value_size]


def hash_delete_all(fd: int, keys: bytes, key_size: int) -> None:
    """Delete the packed ``keys`` in as few system calls as possible; keys already gone are skipped."""
    entries, done = len(keys) // key_size, 0
    while done < entries:
        count = ctypes.c_uint32(entries - done)
        result = lib().bpf_map_delete_batch(fd, ctypes.c_char_p(keys[done * key_size :]), ctypes.byref(count), None)
        if result < 0 and result != -errno.ENOENT:
            raise _os_error(result, "deleting map entries")
        # A batch stops at a missing key, after deleting the count before it: skip it.
        done += count.value + (1 if result < 0 else 0)


def array_read_all(fd: int, entries: int, value_bytes: int) -> bytes:
    """All values of an array map in one system call (per-CPU: value_bytes covers all CPUs)."""
    keys = (ctypes.c_uint32 * entries)()
    values = ctypes.create_string_buffer(entries * value_bytes)
    count = ctypes.c_uint32(entries)
    result = lib().bpf_map_lookup_batch(fd, None, ctypes.byref(ctypes.c_uint32()), keys, values, count, None)
    # The end of the map is ENOENT, and the count that comes with it is still valid.
    if result < 0 and result != -errno.ENOENT:
        raise _os_error(result, "reading map")
    if count.value != entries:
        raise OSError(errno.EIO, f"reading map: got {count.value} of {entries} entries")
    return values.raw


def array_write_all(fd: int, entries: int, data: bytes) -> None:
    """Overwrite every value of an array map in one system call."""
    keys = (ctypes.c_uint32 * entries)(*range(entries))
    count = ctypes.c_uint32(entries)
    _check(lib().bpf_map_update_batch(fd, keys, data, ctypes.byref(count), None), "writing map")


# -- kernel BPF statistics and program info (the exporter's self metrics) -----------

BPF_STATS_RUN_TIME = 0  # enum bpf_stats_type


class BpfProgInfo(ctypes.Structure):
    """``struct bpf_prog_info`` as in the uapi ``linux/bpf.h`` (Linux 6.1); a unit test compares
    sizes and offsets with the C header. The kernel accepts a shorter or longer struct as
    long as the tail it does not know is zero."""

    _fields_ = [
        ("type", ctypes.c_uint32),
        ("id", ctypes.c_uint32),
        ("tag", ctypes.c_uint8 * 8),
        ("jited_prog_len", ctypes.c_uint32),
        ("xlated_prog_len", ctypes.c_uint32),
        ("jited_prog_insns", ctypes.c_uint64),
        ("xlated_prog_insns", ctypes.c_uint64),
        ("load_time", ctypes.c_uint64),
        ("created_by_uid", ctypes.c_uint32),
        ("nr_map_ids", ctypes.c_uint32),
        ("map_ids", ctypes.c_uint64),
        ("name", ctypes.c_char * 16),
        ("ifindex", ctypes.c_uint32),
        ("gpl_compatible", ctypes.c_uint32),  # a 1-bit field and 31 bits of padding
        ("netns_dev", ctypes.c_uint64),
        ("netns_ino", ctypes.c_uint64),
        ("nr_jited_ksyms", ctypes.c_uint32),
        ("nr_jited_func_lens", ctypes.c_uint32),
        ("jited_ksyms", ctypes.c_uint64),
        ("jited_func_lens", ctypes.c_uint64),
        ("btf_id", ctypes.c_uint32),
        ("func_info_rec_size", ctypes.c_uint32),
        ("func_info", ctypes.c_uint64),
        ("nr_func_info", ctypes.c_uint32),
        ("nr_line_info", ctypes.c_uint32),
        ("line_info", ctypes.c_uint64),
        ("jited_line_info", ctypes.c_uint64),
        ("nr_jited_line_info", ctypes.c_uint32),
        ("line_info_rec_size", ctypes.c_uint32),
        ("jited_line_info_rec_size", ctypes.c_uint32),
        ("nr_prog_tags", ctypes.c_uint32),
        ("prog_tags", ctypes.c_uint64),
        ("run_time_ns", ctypes.c_uint64),
        ("run_cnt", ctypes.c_uint64),
        ("recursion_misses", ctypes.c_uint64),
        ("verified_insns", ctypes.c_uint32),
        ("attach_btf_obj_id", ctypes.c_uint32),
        ("attach_btf_id", ctypes.c_uint32),
        ("pad", ctypes.c_uint32),
    ]


class ProgramInfo(NamedTuple):
    """What the exporter reports about one loaded program (run figures need BPF stats on)."""

    name: str
    id: int
    run_time_ns: int
    run_cnt: int
    recursion_misses: int


def enable_stats() -> int:
    """Turn on the kernel's BPF run-time statistics while the returned fd stays open."""
    return _check(lib().bpf_enable_stats(BPF_STATS_RUN_TIME), "enabling BPF statistics")


def program_info(fd: int) -> ProgramInfo:
    """Name and run figures of the BPF program behind ``fd`` (any fd: EINVAL if not a program)."""
    info = BpfProgInfo()
    size = ctypes.c_uint32(ctypes.sizeof(info))
    _check(lib().bpf_obj_get_info_by_fd(fd, ctypes.byref(info), ctypes.byref(size)), "reading program info")
    return ProgramInfo(
        name=info.name.decode(errors="replace"),
        id=int(info.id),
        run_time_ns=int(info.run_time_ns),
        run_cnt=int(info.run_cnt),
        recursion_misses=int(info.recursion_misses),
    )


def version() -> str:
    """libbpf's own version, e.g. ``v1.1`` (build info for the exporter)."""
    text: bytes | None = lib().libbpf_version_string()
    return text.decode() if text else "unknown"


def version_numbers() -> tuple[int, int]:
    return int(lib().libbpf_major_version()), int(lib().libbpf_minor_version())


# -- feature probes (syscount doctor): real kernel objects, created and closed ---------

BPF_PROG_TYPE_RAW_TRACEPOINT = 17  # enum bpf_prog_type
BTF_KIND_TYPEDEF = 8
# mov r0, 0; exit: the smallest program the verifier accepts (struct bpf_insn, 8 bytes each).
_RETURN_ZERO = bytes([0xB7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])


def probe_map_type(map_type: int) -> bool:
    """Can a map of ``map_type`` be created here? (libbpf creates one and closes it.)

    Without privileges the kernel refuses every map, which reads as "no"."""
    return _check(lib().libbpf_probe_bpf_map_type(map_type, None), "probing a map type") == 1


def attach_raw_tracepoint(tracepoint: str) -> None:
    """Load an empty raw tracepoint program, attach it to ``tracepoint``, detach, close."""
    program = _check(
        lib().bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, b"sc_doctor", b"GPL", _RETURN_ZERO, 2, None),
        "loading a raw tracepoint program",
    )
    try:
        os.close(_check(lib().bpf_raw_tracepoint_open(tracepoint.encode(), program), f"attaching to {tracepoint}"))
    finally:
        os.close(program)


def vmlinux_has_typedef(name: str) -> bool:
    """Parse the kernel's BTF as libbpf does for CO-RE; is typedef ``name`` in it?"""
    btf = _pointer(lib().btf__load_vmlinux_btf(), "loading the kernel's BTF")
    try:
        return bool(lib().btf__find_by_name_kind(btf, name.encode(), BTF_KIND_TYPEDEF) > 0)
    finally:
        lib().btf__free(btf)
