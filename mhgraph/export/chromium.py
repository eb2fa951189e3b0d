"""Headless Chromium through its DevTools protocol: print a page to PDF, take a screenshot, ask a
page what it drew.

The browser is started with ``--remote-debugging-pipe`` (no port is opened) and with every host
name mapped to "not found", so that a page printed or checked here cannot reach the network.
Chromium is looked up in ``$MHGRAPH_CHROMIUM``, then as ``chromium``, ``chromium-browser``,
``google-chrome`` on the ``PATH`` (Debian: ``apt-get install chromium``).

>>> with Chromium() as browser:                                   # doctest: +SKIP
...     tab = browser.open(Path("out/index.html"))
...     tab.evaluate("document.title")
'mhgraph – clusters ter bespreking'
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from mhgraph.errors import MhgraphError

__all__ = ["A4_INCHES", "BROWSER_FLAGS", "Chromium", "Tab", "find_chromium", "print_pdf"]

A4_INCHES = (8.27, 11.69)  # 210 × 297 mm
BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                 "--host-resolver-rules=MAP * ~NOTFOUND")


def find_chromium() -> Path:
    """The Chromium executable, or a :class:`MhgraphError` saying how to install it."""
    named = os.environ.get("MHGRAPH_CHROMIUM")
    candidates = [named] if named else ["chromium", "chromium-browser", "google-chrome"]
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return Path(found)
    raise MhgraphError("headless Chromium not found (set MHGRAPH_CHROMIUM, or install it: apt-get install chromium)")


class Chromium:
    """One headless browser, spoken to over a pipe; use as a context manager."""

    def __init__(self, executable: Path | None = None, window: tuple[int, int] = (1400, 900), timeout: float = 30):
        self.executable = executable or find_chromium()
        self.window = window
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self._profile: tempfile.TemporaryDirectory | None = None
        self._buffer = b""
        self._next_id = 0

    def __enter__(self) -> Chromium:
        self._profile = tempfile.TemporaryDirectory(prefix="mhgraph-chromium-", ignore_cleanup_errors=True)
        # The protocol uses file descriptors 3 (to the browser) and 4 (from it).
        self.process = subprocess.Popen(
            ["sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', str(self.executable), *BROWSER_FLAGS,
             f"--user-data-dir={self._profile.name}", f"--window-size={self.window[0]},{self.window[1]}",
             "--remote-debugging-pipe"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            try:  # closing lets the browser's helper processes finish writing into the profile
                self.call("Browser.close")
                self.process.wait(timeout=10)
            except (MhgraphError, OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=10)
        if self._profile is not None:
            self._profile.cleanup()

    def call(self, method: str, session: str | None = None, **params):
        """Send one protocol command and return its result (events in between are skipped)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.process.stdin.write(json.dumps(message).encode() + b"\0")
        self.process.stdin.flush()
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._next_id:
                    if "error" in reply:
                        raise MhgraphError(f"Chromium refused {method}: {reply['error'].get('message')}")
                    return reply["result"]
            ready, _, _ = select.select([self.process.stdout], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                raise MhgraphError(f"Chromium did not answer {method} within {self.timeout:.0f} s")
            chunk = self.process.stdout.read1(1 << 20)
            if not chunk:
                raise MhgraphError(f"Chromium stopped while answering {method}")
            self._buffer += chunk

    def open(self, page: Path, width: int | None = None, height: int | None = None) -> Tab:
        """Open a local file in a new tab and wait until it has loaded."""
        target = self.call("Target.createTarget", url=Path(page).resolve().as_uri())["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        tab = Tab(self, session)
        if width and height:
            self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
                      deviceScaleFactor=1, mobile=False)
        # The new tab starts as about:blank, which is "complete" before the page itself has come.
        tab.wait_for(f"location.href === {json.dumps(Path(page).resolve().as_uri())} && document.readyState === 'complete'")
        return tab


class Tab:
    """One page in the browser."""

    def __init__(self, browser: Chromium, session: str):
        self.browser, self.session = browser, session

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-like values only)."""
        result = self.browser.call("Runtime.evaluate", self.session, expression=expression, returnByValue=True,
                                   awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            reason = (details.get("exception") or {}).get("description") or details.get("text")
            raise MhgraphError(f"the page could not evaluate an expression: {str(reason).splitlines()[0]}")
        return result["result"].get("value")

    def wait_for(self, expression: str, seconds: float = 15):
        """Wait until ``expression`` is truthy in the page; returns its value."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except MhgraphError:  # the page is still being replaced by the one being opened
                value = None
            if value:
                return value
            time.sleep(0.05)
        raise MhgraphError(f"the page did not reach {expression!r} within {seconds:.0f} s")

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        """A PNG of the window (or of the whole page)."""
        params = {"format": "png"}
        if full_page:
            size = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": size[0], "height": size[1],
                                                            "scale": 1})
        data = self.browser.call("Page.captureScreenshot", self.session, **params)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    def pdf(self, path: Path) -> Path:
        """The page printed as the print stylesheet says (A4, see ``page.css``), backgrounds included."""
        data = self.browser.call("Page.printToPDF", self.session, paperWidth=A4_INCHES[0], paperHeight=A4_INCHES[1],
                                 preferCSSPageSize=True, printBackground=True, displayHeaderFooter=False)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)


def print_pdf(page: Path, pdf: Path) -> Path:
    """Print the local HTML ``page`` to ``pdf`` through headless Chromium (A4, print stylesheet)."""
    with Chromium() as browser:
        tab = browser.open(page)
        tab.wait_for("document.documentElement.getAttribute('data-page-loaded') === 'true'")
        return tab.pdf(pdf)
