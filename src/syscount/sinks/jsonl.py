"""JSON lines: one object per interval, the last one the summary (schema in docs/output.md)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from ..snapshot import Snapshot, iso_utc


def record(snapshot: Snapshot) -> dict[str, Any]:
    data: dict[str, Any] = {
        "time": iso_utc(snapshot.time),
        "interval_s": round(snapshot.interval_s, 6),
        "counts": snapshot.counts,
        "total": snapshot.total,
        "final": snapshot.final,
    }
    if snapshot.notes:
        data["notes"] = snapshot.notes
    return data


class JsonLinesSink:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def emit(self, snapshot: Snapshot) -> None:
        self._stream.write(json.dumps(record(snapshot), separators=(",", ":")) + "\n")
        self._stream.flush()
