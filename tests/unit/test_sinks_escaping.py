"""Every text sink shows a row's name through the one escaping rule; JSON keeps it exact;
CSV's own quoting keeps commas and quotes in the cell; the CSV header goes into every new
-o file; the count command's outputs carry the intervals -o could not take."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from syscount.cli.count import Outputs
from syscount.model import Breakdown, BreakdownRow, Snapshot
from syscount.names.escape import decode_name
from syscount.sinks import csvrows, jsonl, table, textlog
from syscount.sinks.logfile import LogFile

NAME = decode_name(b'ev\x1b]0;x\x07\x1b[2J\r\n,"q"\xff')
SHOWN = 'ev\\033]0;x\\007\\033[2J\\r\\n,"q"\\xff'
CONTROL = {chr(c) for c in range(0x20)} - {"\n"} | {"\x7f"}


def snapshot(by: str = "process") -> Snapshot:
    row = BreakdownRow(4242, NAME, None, {"getppid": 7}, {})
    return Snapshot(
        time=datetime(2026, 11, 24, 22, 51, 37, tzinfo=UTC),
        interval_s=1.0,
        counts={"getppid": 7},
        breakdown=Breakdown(by=by, rows=[row], other={}),
    )


def test_table_and_text_log_show_the_name_escaped() -> None:
    for by in ("process", "thread", "comm", "cgroup"):
        shown_table = table.render(snapshot(by), 10)
        shown_log = textlog.render(snapshot(by))
        for text in (shown_table, shown_log):
            assert not set(text) & CONTROL and SHOWN in text
        # One line for the row: the name's line break cannot make a second.
        assert [line for line in shown_log.split("\n") if line.startswith("[")] == [f"[4242 {SHOWN}] getppid: 7"]


def test_csv_cell_is_escaped_and_quoted_by_the_csv_module() -> None:
    out = io.StringIO()
    csvrows.CsvSink(out, breakdown=True).emit(snapshot())
    assert not set(out.getvalue()) & CONTROL
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row["label"] == SHOWN and row["count"] == "7"


def test_json_keeps_the_name_exact_and_valid_utf8() -> None:
    line = json.dumps(jsonl.record(snapshot()))
    line.encode("utf-8")
    assert json.loads(line)["breakdown"]["rows"][0]["comm"] == 'ev\x1b]0;x\x07\x1b[2J\r\n,"q"\\xff'


def test_the_csv_header_goes_into_every_new_log_file(tmp_path: Path) -> None:
    path, moved = tmp_path / "log.csv", tmp_path / "log.csv.1"
    with LogFile(str(path)) as log:
        sink = csvrows.CsvSink(log, breakdown=True)  # type: ignore[arg-type]
        sink.emit(snapshot())
        path.rename(moved)
        log.request_reopen()
        sink.emit(snapshot())
    for file in (moved, path):
        lines = file.read_text().splitlines()
        assert lines[0] == ",".join(csvrows.BREAKDOWN_COLUMNS) and len(lines) == 2


class Collect:
    def __init__(self) -> None:
        self.notes: list[dict[str, int]] = []

    def emit(self, snapshot: Snapshot) -> None:
        self.notes.append(dict(snapshot.notes))


def test_outputs_note_the_intervals_the_log_could_not_take(tmp_path: Path) -> None:
    link = tmp_path / "log"
    link.symlink_to("/dev/full")
    warnings: list[str] = []
    with LogFile(str(link), warn=warnings.append) as log:
        terminal = Collect()

        class Failing(Collect):
            def emit(self, snapshot: Snapshot) -> None:
                super().emit(snapshot)
                log.write("record\n")
                log.flush()

        failing = Failing()
        outputs = Outputs([failing, terminal], report_intervals=True, log=log)
        outputs.emit(snapshot())
        outputs.emit(snapshot())
    # The log sees how many failed before its own write; the terminal, after it.
    assert failing.notes == [{}, {"unwritten_intervals": 1}]
    assert terminal.notes == [{"unwritten_intervals": 1}, {"unwritten_intervals": 2}]
    assert len(warnings) == 1
