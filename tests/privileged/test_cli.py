"""Each command's announcement line, word for word, once its programs are attached."""

from __future__ import annotations

import os
import re
import signal
import subprocess

from .helpers import SYSCOUNT, TIMEOUT, syscount


def test_count_announces_the_processes_and_the_interval() -> None:
    result = syscount("-p", str(os.getpid()), "-i", "2.5", "-d", "0.1")
    assert result.returncode == 0, result.stderr
    first = result.stderr.splitlines()[0]
    assert first == f"syscount: counting system calls of processes {os.getpid()} every 2.5 s; Ctrl-C to stop"


def test_count_of_everything_announces_all_processes() -> None:
    result = syscount("count", "-d", "0.1", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == "syscount: counting system calls of all processes every 1 s; Ctrl-C to stop"


def test_trace_announces_the_processes() -> None:
    result = syscount("trace", "-p", str(os.getpid()), "-d", "0.1", "-o", os.devnull)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == f"syscount: tracing system calls of processes {os.getpid()}; Ctrl-C to stop"


def test_serve_announces_where_the_metrics_are_and_stops_with_0_on_sigterm() -> None:
    process = subprocess.Popen(
        [*SYSCOUNT, "serve", "--listen", "127.0.0.1:0", "-p", str(os.getpid())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        pattern = (
            rf"syscount: counting system calls of processes {os.getpid()}; "
            r"metrics at http://127\.0\.0\.1:\d+/metrics; capabilities: none; Ctrl-C or SIGTERM to stop\n"
        )
        assert re.fullmatch(pattern, first), first
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=TIMEOUT)
