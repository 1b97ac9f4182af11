"""A real browser for page tests: Debian's chromium, headless, driven over the DevTools protocol.

The protocol runs over a pipe (``--remote-debugging-pipe``: commands in on fd 3, replies
and events out on fd 4, each a JSON message ended by a NUL byte), so no port is opened.
The page's own session reports every request it makes (``Network.requestWillBeSent``),
every console message and uncaught exception, which is what "works offline, no console
errors" means when checked, rather than assumed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT = 60.0


class Tab(NamedTuple):
    session: str
    start: int  # index of its first event


class PageLoad:
    """What happened while a page loaded and rendered."""

    def __init__(self) -> None:
        self.requests: list[str] = []  # every URL the page asked for, its own included
        self.console_errors: list[str] = []  # console.error, uncaught exceptions, browser-logged errors


class Browser:
    def __init__(self, profile: Path, width: int = 1280, height: int = 900) -> None:
        to_child = os.pipe()
        from_child = os.pipe()

        def wire_pipes() -> None:  # in the child: the protocol's fds are 3 and 4
            read_end = fcntl.fcntl(to_child[0], fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_child[1], fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "about:blank",
            ],
            pass_fds=(3, 4),
            # wire_pipes only calls fcntl and dup2 (no locks a thread could hold at fork).
            preexec_fn=wire_pipes,  # noqa: PLW1509
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child[0])
        os.close(from_child[1])
        self._out = os.fdopen(to_child[1], "wb", buffering=0)
        self._in = os.fdopen(from_child[0], "rb", buffering=0)
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._events: list[dict[str, Any]] = []
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError, AssertionError, TimeoutError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()

    def _read(self) -> None:
        buffer = b""
        while chunk := self._in.read(65536):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._messages.put(json.loads(message))
        self._messages.put(None)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """A command and its result; events that arrive meanwhile are kept for ``events``."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._messages.get(timeout=max(0.1, deadline - time.monotonic()))
            assert reply is not None, f"chromium exited during {method}"
            if reply.get("id") == self._next_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                result: dict[str, Any] = reply.get("result", {})
                return result
            self._events.append(reply)

    def wait_event(self, method: str, session: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self._events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            seen = len(self._events)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(method)
            try:
                message = self._messages.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError(method) from None
            assert message is not None, f"chromium exited waiting for {method}"
            self._events.append(message)

    def open(self, url: str) -> Tab:
        """A new tab watching requests and console, navigated to ``url`` and loaded."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Runtime", "Log", "Page"):
            self.send(f"{domain}.enable", session=session)
        tab = Tab(session, len(self._events))
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session)
        return tab

    def page_load(self, tab: Tab) -> PageLoad:
        """What the tab's page requested and complained about since it was opened."""
        load = PageLoad()
        for event in self._events[tab.start :]:
            if event.get("sessionId") != tab.session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                load.requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                load.console_errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                load.console_errors.append(str(params["exceptionDetails"]))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                load.console_errors.append(params["entry"].get("text", ""))
        return load

    def evaluate(self, tab: Tab, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, tab.session
        )
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def wait_for(self, tab: Tab, expression: str, timeout: float = TIMEOUT) -> Any:
        """Poll ``expression`` until it is truthy (rendering is asynchronous)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(tab, expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.1)

    def screenshot(self, tab: Tab, path: Path) -> None:
        """The whole page, not only the window."""
        size = self.send("Page.getLayoutMetrics", session=tab.session)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}, tab.session
        )
        path.write_bytes(base64.b64decode(shot["data"]))


def settle(browser: Browser, tab: Tab, seconds: float = 1.0) -> None:
    """Let late events (a request fired by a timer) arrive before they are read."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        browser.evaluate(tab, "1")
        time.sleep(0.1)
