"""A recording's metadata: what was counted, where and how (the ``meta`` object, docs/output.md)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..model import iso_utc, utc_now

if TYPE_CHECKING:
    from ..cli.count import CountArgs


def run_meta(args: CountArgs) -> dict[str, Any]:
    """Taken once the programs are attached: ``started`` is when counting began."""
    from .. import __version__

    uname = os.uname()
    return {
        "syscount": __version__,
        "host": uname.nodename,
        "kernel": uname.release,
        "machine": uname.machine,
        "argv": ["syscount", *args.argv],
        "command": list(args.command) or None,
        "pids": list(args.pids),
        "filters": dict(args.filter_texts),
        "interval_s": args.interval if args.interval_given or not args.command else None,
        "latency": args.latency,
        "breakdown": args.breakdown,
        "started": iso_utc(utc_now()),
    }
