"""The exported pages in a real headless Chromium: they draw offline, fetch nothing and run no
value from the data.

Each page is opened from ``file://`` with every host name mapped to "not found" and a network
log recorded; the page's own status script reports on ``<html>`` what it loaded and what its
security policy blocked, and the picture reports how many nodes it drew. Two control runs show
that these checks can fail: pyvis's own template (CDN links, heading inserted unescaped) trips
every one of them.
"""

from __future__ import annotations

import json
import select
import struct
import subprocess
import time
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pyvis.network import Network

from test_export import IMG_PAYLOAD, PERSONS, QUOTED_REASON, SCRIPT_PAYLOAD, build_tables, export

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium is not installed at /usr/bin/chromium "
                       "(Debian package `chromium`; `make test` installs it)"),
]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--host-resolver-rules=MAP * ~NOTFOUND"]
# Requests the browser makes for itself (update checks, account probes) carry this initiator;
# requests a page makes carry the page's origin ("null" for file://).
BROWSER_INITIATOR = "not an origin"


def chromium(tmp_path: Path, page: Path, *extra: str) -> tuple[str, list[str]]:
    """Open ``page``, let it run for 5 s of virtual time; returns the DOM and the URLs the page requested."""
    profile = tmp_path / f"profile-{page.stem}"
    netlog = tmp_path / f"netlog-{page.stem}.json"
    done = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", f"--log-net-log={netlog}",
         "--virtual-time-budget=5000", *extra, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requested = [event["params"]["url"] for event in log["events"]
                 if event["type"] == start_job and "url" in event.get("params", {})
                 and event["params"].get("initiator") != BROWSER_INITIATOR]
    return done.stdout, requested


class _Dom(HTMLParser):
    def __init__(self, text: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def first(self, tag: str, **wanted) -> dict:
        return next(attrs for name, attrs in self.elements
                    if name == tag and all(attrs.get(k) == v for k, v in wanted.items()))


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    export(out, build_tables(), top=2)
    return out


@pytest.mark.parametrize("name, nodes, edges", [
    ("index.html", None, None),
    ("clusters/cluster_C0001.html", 7, 12),
    ("clusters/cluster_C0002.html", 5, 6),
])
def test_page_draws_offline_fetches_nothing_and_runs_no_data(pages, tmp_path, name, nodes, edges):
    dom_text, requested = chromium(tmp_path, pages / name, "--dump-dom")
    dom = _Dom(dom_text)
    root = dom.first("html")
    assert requested == []
    assert root.get("data-page-loaded") == "true", "the page's own script did not run"
    assert root.get("data-resources-loaded") == "0"
    assert root.get("data-csp-violations") == "0", root.get("data-csp-last-violation")
    assert "data-pwned" not in root
    assert not [tag for tag, _ in dom.elements if tag in ("img", "iframe", "object", "embed")]
    if nodes is not None:
        network = dom.first("div", id="network")
        assert network["data-has-canvas"] == "true"
        assert (network["data-drawn-nodes"], network["data-drawn-edges"]) == (str(nodes), str(edges))


def test_control_pyvis_template_is_caught_by_the_same_checks(tmp_path):
    """pyvis's own output: it asks the CDN for its scripts, draws nothing offline, and runs the payload."""
    net = Network(heading=IMG_PAYLOAD, cdn_resources="remote", directed=True)
    net.add_node("a", label="Person P-1")
    net.add_node("b", label="Company C-1")
    net.add_edge("a", "b", label="EMPLOYED_BY")
    page = tmp_path / "pyvis.html"
    page.write_text(net.generate_html(), encoding="utf-8")
    dom_text, requested = chromium(tmp_path, page, "--dump-dom")
    dom = _Dom(dom_text)
    assert any("cdn" in url for url in requested), requested
    assert dom.first("html").get("data-pwned") == "img"
    assert not [tag for tag, _ in dom.elements if tag == "canvas"]


def _png_size_and_variety(path: Path) -> tuple[int, int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, offset = b"", 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT":
            idat += data[offset + 8:offset + 8 + length]
        offset += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def test_screenshot_of_a_cluster_page_is_a_picture(pages, tmp_path):
    shot = tmp_path / "cluster.png"
    chromium(tmp_path, pages / "clusters" / "cluster_C0001.html", "--window-size=1100,900", f"--screenshot={shot}")
    width, height, distinct_bytes = _png_size_and_variety(shot)
    assert (width, height) == (1100, 900)
    assert distinct_bytes > 100  # a blank or text-only page has far fewer


class _DevTools:
    """A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, tmp_path: Path):
        # The protocol uses file descriptors 3 (to the browser) and 4 (from it).
        self.process = subprocess.Popen(
            ["sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', str(CHROMIUM), *FLAGS,
             f"--user-data-dir={tmp_path / 'profile-cdp'}", "--window-size=1200,1000", "--remote-debugging-pipe"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self.buffer, self.next_id = b"", 0

    def call(self, method: str, session: str | None = None, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.process.stdin.write(json.dumps(message).encode() + b"\0")
        self.process.stdin.flush()
        deadline = time.monotonic() + 20
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    assert "error" not in reply, reply
                    return reply["result"]
            ready, _, _ = select.select([self.process.stdout], [], [], max(deadline - time.monotonic(), 0))
            assert ready, f"no answer to {method}"
            self.buffer += self.process.stdout.read1(65536)

    def evaluate(self, session: str, expression: str):
        result = self.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, session: str, expression: str, seconds: float = 10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.evaluate(session, expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {expression}")

    def close(self):
        self.process.kill()
        self.process.wait(timeout=10)


# Centre, in page coordinates, of the canvas pixels painted in the person colour (#4e79a7).
_FIND_PERSON = """(() => {
  const canvas = document.querySelector('#network canvas');
  canvas.scrollIntoView();
  const image = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let sx = 0, sy = 0, n = 0;
  for (let i = 0; i < image.length; i += 4) {
    if (Math.abs(image[i] - 78) < 4 && Math.abs(image[i + 1] - 121) < 4 && Math.abs(image[i + 2] - 167) < 4) {
      const p = i / 4; sx += p % canvas.width; sy += Math.floor(p / canvas.width); n += 1;
    }
  }
  const box = canvas.getBoundingClientRect(), ratio = canvas.width / box.width;
  return n ? {x: box.left + sx / n / ratio, y: box.top + sy / n / ratio, n: n} : null;
})()"""

_TOOLTIP = """(() => {
  const tip = document.querySelector('.vis-tooltip');
  if (!tip || tip.style.visibility !== 'visible') return null;
  return {text: tip.textContent, html: tip.innerHTML, elements: tip.querySelectorAll('*').length,
          images: document.getElementsByTagName('img').length,
          pwned: document.documentElement.getAttribute('data-pwned')};
})()"""


def test_tooltip_shows_hostile_values_as_plain_text(pages, tmp_path):
    browser = _DevTools(tmp_path)
    try:
        url = (pages / "clusters" / "cluster_C0002.html").resolve().as_uri()
        target = browser.call("Target.createTarget", url=url)["targetId"]
        session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        browser.wait_for(session, "document.getElementById('network').getAttribute('data-drawn-nodes')")
        person = browser.wait_for(session, _FIND_PERSON)
        browser.call("Input.dispatchMouseEvent", session, type="mouseMoved", x=person["x"], y=person["y"])
        tooltip = browser.wait_for(session, _TOOLTIP)
    finally:
        browser.close()
    assert tooltip["text"].startswith(f"Person {PERSONS[6]}")
    assert SCRIPT_PAYLOAD in tooltip["text"] and QUOTED_REASON in tooltip["text"]
    assert "&lt;/script&gt;&lt;script&gt;" in tooltip["html"]
    assert tooltip["elements"] == 1  # only the plain-text box the page itself made
    assert tooltip["images"] == 0 and tooltip["pwned"] is None
