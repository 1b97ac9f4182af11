#!/usr/bin/env python3
"""Measure what a container runtime calls between installing the seccomp filter and execve.

The input is ``syscount trace --format json`` of the runtime starting a container whose
profile's default action is ``SCMP_ACT_LOG`` (so nothing fails and the runtime takes its
normal path); docs/seccomp.md gives the whole recipe. In each file:

1. the filter is installed by the last successful ``prctl(PR_SET_SECCOMP, ...)`` (runc)
   or ``seccomp(SECCOMP_SET_MODE_FILTER, ...)`` (crun);
2. every call of that process (all its threads) that *entered* after that call ended,
   up to and including its successful ``execve``, went through the filter.

Entry time = exit time - duration: a thread already blocked in ``futex`` when the filter
went in was not filtered, and is left out. Prints each run's calls, then in how many runs
each call was seen: the union is what ``--runtime-preamble`` allows.

    python3 tools/runtime_preamble.py run1.jsonl run2.jsonl ...
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime
from typing import Any

PR_SET_SECCOMP = 22
SECCOMP_SET_MODE_FILTER = 1
SLACK_NS = 1000  # the trace's time stamps have microseconds


def _ns(event: dict[str, Any]) -> int:
    moment = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    return int(moment.timestamp() * 1_000_000) * 1000


def _installs_filter(event: dict[str, Any]) -> bool:
    args = event["args"]
    return bool(event["ret"] == 0) and (
        (event["syscall"] == "prctl" and args.get("option") == PR_SET_SECCOMP)
        or (event["syscall"] == "seccomp" and args.get("op") == SECCOMP_SET_MODE_FILTER)
    )


def preamble(events: list[dict[str, Any]]) -> set[str]:
    """Names of the calls the filtered process made from the filter to its execve."""
    starts = [i for i, event in enumerate(events) if _installs_filter(event)]
    if not starts:
        raise SystemExit("no successful seccomp filter installation in this trace")
    start = starts[-1]
    pid, installed = events[start]["pid"], _ns(events[start])
    names: set[str] = set()
    for event in events[start + 1 :]:
        if event["pid"] != pid:
            continue
        if _ns(event) - event["duration_ns"] >= installed - SLACK_NS:
            names.add(event["syscall"])
        if event["syscall"] == "execve" and event["ret"] == 0:
            names.add("execve")  # the call that ends the preamble: entered under the filter
            break
    return names


def main(paths: list[str]) -> int:
    seen: Counter[str] = Counter()
    for path in paths:
        with open(path, encoding="utf-8") as file:
            events = [json.loads(line) for line in file if '"syscall"' in line]
        names = preamble(events)
        seen.update(names)
        print(f"{path}: {' '.join(sorted(names))}")
    print(f"union over {len(paths)} runs (name: runs seen in):")
    for name, runs in sorted(seen.items()):
        print(f"  {name}: {runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
