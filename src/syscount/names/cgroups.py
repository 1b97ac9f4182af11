"""cgroup v2: where it is mounted, a --cgroup path's directory, and names for cgroup ids."""

from __future__ import annotations

import os
import re

from ..errors import TargetError

# A container runtime's cgroup names the container by a 64-hex id: docker-<id>.scope,
# /docker/<id>, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>.scope,
# kubepods/.../<id>.
_CONTAINER_ID = re.compile(r"(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:/|$)")
_RUNTIMES = ("docker", "containerd", "crio", "libpod", "podman", "kubepods")


def cgroup2_root() -> str | None:
    """Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup, or e.g. /sys/fs/cgroup/unified
    on hybrid systems; None when it is not mounted."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) > 2 and fields[2] == "cgroup2":
                    return fields[1]
    except OSError:
        pass
    return None


def cgroup_directory(path: str) -> str:
    """A cgroup v2 path as given (absolute, or relative to the cgroup2 mount) → its directory."""
    root = cgroup2_root()
    if root is None:
        raise TargetError("--cgroup: cgroup v2 is not mounted (mount -t cgroup2 none /sys/fs/cgroup)")
    directory = path if path.startswith(root + "/") or path == root else os.path.join(root, path.lstrip("/"))
    if not os.path.isdir(directory) or not os.path.exists(os.path.join(directory, "cgroup.procs")):
        raise TargetError(f"--cgroup {path}: no such cgroup (looked for {directory}/cgroup.procs)")
    return directory


def open_cgroup(path: str) -> int:
    try:
        return os.open(cgroup_directory(path), os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise TargetError(f"--cgroup {path}: {exc.strerror}") from exc


class CgroupNames:
    """cgroup id (the directory's inode number) → path, found by walking cgroupfs."""

    def __init__(self, root: str | None = None) -> None:
        self._root = root or cgroup2_root() or "/sys/fs/cgroup"
        self._paths: dict[int, str] = {}

    def path(self, cgroup_id: int) -> str:
        if cgroup_id not in self._paths:
            self._rescan()
        return self._paths.get(cgroup_id, f"cgroup:{cgroup_id}")

    def _rescan(self) -> None:
        for directory, _, _ in os.walk(self._root):
            try:
                inode = os.stat(directory).st_ino
            except OSError:
                continue
            self._paths[inode] = "/" + os.path.relpath(directory, self._root).removeprefix(".")


def container_id(path: str) -> str | None:
    """The container a cgroup path shows, as its short (12-hex) id, if any."""
    if not any(runtime in path for runtime in _RUNTIMES):
        return None
    found = _CONTAINER_ID.search(path)
    return found.group(1)[:12] if found else None
