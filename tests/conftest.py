"""Shared test set-up: CI refuses to pass when a privileged (real BPF) test was skipped."""

from __future__ import annotations

import os

import pytest

REQUIRE_ENV = "SYSCOUNT_REQUIRE_PRIVILEGED"
_skipped_privileged: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "privileged" in report.keywords:
        _skipped_privileged.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get(REQUIRE_ENV) == "1" and _skipped_privileged:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if os.environ.get(REQUIRE_ENV) == "1" and _skipped_privileged:
        terminalreporter.write_line(
            f"{REQUIRE_ENV}=1 but {len(_skipped_privileged)} privileged test(s) skipped: "
            + ", ".join(_skipped_privileged[:5]),
            red=True,
        )
