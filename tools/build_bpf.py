"""Compile syscount's BPF programs for every supported machine: the one place that knows how.

``make bpf`` (into the source tree, for a clone) and the wheel's build hook (setup.py, into
the build directory) both call ``build()``, so a clone and an installed wheel load objects
from the same layout: ``syscount/bpf/<machine>/<stem>.bpf.o``, where ``<machine>`` is what
``uname -m`` says on the machine that runs them.

Why every machine on every build: BPF bytecode does not depend on the build machine, only
on the target's register frame and uapi headers, so one ``py3-none-any`` wheel carries the
objects of both x86_64 and aarch64, and CO-RE relocates them on load.

Usage: python3 tools/build_bpf.py [--out DIR] [SOURCE_DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    machine: str  # `uname -m`, the object directory's name
    arch: str  # what bpf_tracing.h and abi.h call it (__TARGET_ARCH_<arch>)
    triplet: str  # Debian's multiarch name, where the uapi asm/ headers live
    cross_package: str  # the Debian package with those headers on another machine


TARGETS = (
    Target("x86_64", "x86", "x86_64-linux-gnu", "linux-libc-dev-amd64-cross"),
    Target("aarch64", "arm64", "aarch64-linux-gnu", "linux-libc-dev-arm64-cross"),
)

CFLAGS = ("-O2", "-g", "-Wall", "-Werror", "-target", "bpf")
CLANG_HINT = (
    "the BPF programs are compiled with clang when syscount is built; "
    "install it (Debian/Ubuntu: apt-get install clang; Fedora: dnf install clang) and build again, "
    "or set CLANG to its path"
)


class BuildError(Exception):
    """A missing tool or header, said in one line with what to install."""


def find_clang() -> str:
    clang = os.environ.get("CLANG", "clang")
    found = shutil.which(clang)
    if found is None:
        raise BuildError(f"{clang} not found: {CLANG_HINT}")
    return found


def include_dir(target: Target) -> str:
    """The target's own uapi headers (``asm/types.h``): native, or Debian's cross package.

    Each object is built against its own machine's headers, never the build machine's."""
    for candidate in (f"/usr/include/{target.triplet}", f"/usr/{target.triplet}/include"):
        if os.path.exists(os.path.join(candidate, "asm", "types.h")):
            return candidate
    raise BuildError(
        f"no uapi headers for {target.machine} (asm/types.h in /usr/include/{target.triplet} or "
        f"/usr/{target.triplet}/include): install linux-libc-dev (on {target.machine}) or "
        f"{target.cross_package} (elsewhere) and build again"
    )


def check_libbpf_headers() -> None:
    if not os.path.exists("/usr/include/bpf/bpf_helpers.h"):
        raise BuildError("libbpf's headers (bpf/bpf_helpers.h) are missing: install libbpf-dev and build again")


def sources(source_dir: str) -> list[str]:
    return sorted(name for name in os.listdir(source_dir) if name.endswith(".bpf.c"))


def command(clang: str, target: Target, source: str, output: str) -> list[str]:
    return [clang, *CFLAGS, f"-D__TARGET_ARCH_{target.arch}", f"-I{include_dir(target)}", "-c", source, "-o", output]


def _up_to_date(output: str, inputs: Sequence[str]) -> bool:
    if not os.path.exists(output):
        return False
    built = os.path.getmtime(output)
    return all(os.path.getmtime(path) <= built for path in inputs)


def build(source_dir: str, out_dir: str, targets: Sequence[Target] = TARGETS) -> list[str]:
    """Compile every ``*.bpf.c`` of ``source_dir`` into ``out_dir/<machine>/``; return the objects.

    An object newer than its source and every header of ``source_dir`` is kept as it is."""
    clang = find_clang()
    check_libbpf_headers()
    headers = [os.path.join(source_dir, name) for name in os.listdir(source_dir) if name.endswith(".h")]
    outputs: list[str] = []
    for target in targets:
        os.makedirs(os.path.join(out_dir, target.machine), exist_ok=True)
        for name in sources(source_dir):
            source = os.path.join(source_dir, name)
            output = os.path.join(out_dir, target.machine, name.removesuffix(".c") + ".o")
            outputs.append(output)
            if _up_to_date(output, [source, *headers]):
                continue
            print(f"build_bpf: {name} for {target.machine}", file=sys.stderr)
            _compile(command(clang, target, source, output), name, target)
    return outputs


def _compile(argv: list[str], name: str, target: Target) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise BuildError(f"clang failed on {name} for {target.machine} (exit {result.returncode}): {' '.join(argv)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compile syscount's BPF programs for x86_64 and aarch64.")
    parser.add_argument("source_dir", nargs="?", default=os.path.join("src", "syscount", "bpf"))
    parser.add_argument("--out", help="where the <machine>/ directories go (default: SOURCE_DIR)")
    args = parser.parse_args(argv)
    try:
        build(args.source_dir, args.out or args.source_dir)
    except BuildError as exc:
        print(f"build_bpf: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
