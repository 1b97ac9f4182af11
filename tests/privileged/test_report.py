"""syscount report on a real recording, checked in a real browser (headless chromium).

The recorded program is the known-syscall workload under a hostile name, so its process
row is named ``<i>w&x``: the page must show that text, not make an element of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from syscount.sinks.jsonl import SCHEMA

from ..chromium import Browser, Tab, settle
from .helpers import ROOT, WORKLOAD, syscount

ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots for people to look at; not in git
HOSTILE = "<i>w&x"
PLAN = ["--getppid", "1000", "--openclose", "200", "--fail-open", "7", "--sleeps", "8", "--sleep-ms", "25"]


def offsite(requests: list[str]) -> list[str]:
    """Requests that leave the page's own file (data: URLs are made in the page itself)."""
    return [url for url in requests if not url.startswith(("file:", "data:"))]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("report")
    program = where / HOSTILE
    shutil.copy(WORKLOAD, program)
    recording = where / "run.jsonl"
    result = syscount("-L", "-P", "-i", "0.05", "--format", "json", "-o", str(recording), "--", str(program), *PLAN)
    assert result.returncode == 0, result.stderr
    page = where / "run.html"
    result = syscount("report", str(recording), "-o", str(page), "--title", f"run of {HOSTILE}")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"syscount report: wrote {page}: ")
    return page


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with Browser(tmp_path_factory.mktemp("chromium-profile")) as running:
        yield running


@pytest.fixture(scope="module")
def loaded(browser: Browser, report: Path) -> Tab:
    tab = browser.open(report.as_uri())
    rendered = browser.wait_for(
        tab,
        "document.body.dataset.charts !== undefined && "
        "document.querySelectorAll('.js-plotly-plot .main-svg').length > 0 && "
        "document.querySelectorAll('.js-plotly-plot').length === Number(document.body.dataset.charts)",
    )
    assert rendered, "the charts did not render"
    settle(browser, tab)
    return tab


def test_the_page_loads_without_console_errors_or_network_requests(browser: Browser, loaded: Tab) -> None:
    load = browser.page_load(loaded)
    assert load.requests and load.requests[0].startswith("file:")
    assert offsite(load.requests) == []
    assert load.console_errors == []


def test_the_oracle_sees_a_request_and_a_console_error(browser: Browser, tmp_path: Path) -> None:
    """The check above can fail: a page that fetches and logs an error is caught."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<!DOCTYPE html><img src="http://127.0.0.1:9/pixel.png">'
        '<script>fetch("https://example.invalid/x").catch(() => {}); console.error("boom")</script>'
    )
    tab = browser.open(page.as_uri())
    settle(browser, tab)
    load = browser.page_load(tab)
    assert offsite(load.requests) == ["http://127.0.0.1:9/pixel.png", "https://example.invalid/x"]
    assert "boom" in load.console_errors


def test_the_dom_holds_the_charts(browser: Browser, loaded: Tab) -> None:
    ids = browser.evaluate(loaded, "[...document.querySelectorAll('.js-plotly-plot')].map(e => e.id)")
    assert ids[:2] == ["calls", "errors"] and ids[-2:] == ["percentiles", "rows"]
    assert "heatmap0" in ids
    assert browser.evaluate(loaded, "document.querySelectorAll('#heatmap0 .hm image').length") == 1
    legend = browser.evaluate(loaded, "[...document.querySelectorAll('#calls .legendtext')].map(e => e.textContent)")
    assert {"getppid", "openat", "close", "nanosleep"} <= set(legend)
    errnos = browser.evaluate(loaded, "[...document.querySelectorAll('#errors .legendtext')].map(e => e.textContent)")
    assert errnos == ["ENOENT"]


def test_the_tables_hold_the_exact_figures(browser: Browser, loaded: Tab) -> None:
    cells = browser.evaluate(
        loaded, "[...document.querySelectorAll('#summary tbody tr')].map(r => [...r.cells].map(c => c.textContent))"
    )
    by_name = {row[-1]: row for row in cells}
    # % time, seconds, usecs/call, calls, errors, syscall
    assert by_name["getppid"][3] == "1000" and by_name["getppid"][4] == ""
    assert by_name["openat"][3:5] == ["207", "7"]
    assert by_name["nanosleep"][3] == "8"
    meta = dict(
        browser.evaluate(
            loaded, "[...document.querySelectorAll('#meta tr')].map(r => [...r.cells].map(c => c.textContent))"
        )[1:]
    )
    assert meta["kernel"] and meta["host"] and meta["schema version"] == str(SCHEMA)
    assert HOSTILE in meta["traced command"]


def test_names_a_process_controls_are_text_not_markup(browser: Browser, loaded: Tab) -> None:
    rows = browser.evaluate(loaded, "[...document.querySelectorAll('#rows .legendtext')].map(e => e.textContent)")
    assert any(name.startswith(f"{HOSTILE} (") for name in rows), rows
    assert browser.evaluate(loaded, "document.querySelectorAll('i').length") == 0
    assert browser.evaluate(loaded, "document.title") == f"run of {HOSTILE}"


def test_a_screenshot_is_taken(browser: Browser, loaded: Tab) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    browser.screenshot(loaded, shot)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 50_000
