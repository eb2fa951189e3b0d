"""The exported pages in a real headless Chromium: they draw offline, fetch nothing and run no
value from the data; on the sample run search, filters and the time slider do what they say,
labels do not overlap (also on a 400-node cluster), and the report prints as an A4 PDF.

Each page is opened from ``file://`` with every host name mapped to "not found" and a network
log recorded; the page's own status script reports on ``<html>`` what it loaded and what its
security policy blocked, and the picture reports how many nodes it drew. Two control runs show
that these checks can fail: pyvis's own template (CDN links, heading inserted unescaped) trips
every one of them. The interaction checks operate the controls as a person would and measure
the result with :mod:`mhgraph.export.probe`.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pyvis.network import Network

from mhgraph.export import report, write_outputs
from mhgraph.export.chromium import BROWSER_FLAGS, Chromium
from mhgraph.export.probe import label_geometry, probe_cluster_page
from test_export import IMG_PAYLOAD, PERSONS, QUOTED_REASON, SCRIPT_PAYLOAD, build_tables, export

ROOT = Path(__file__).resolve().parents[1]

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium is not installed at /usr/bin/chromium "
                       "(Debian package `chromium`; `make test` installs it)"),
]

FLAGS = list(BROWSER_FLAGS)
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
        graph = dom.first("div", id="graph")
        assert graph["data-has-canvas"] == "true"
        assert (graph["data-drawn-nodes"], graph["data-drawn-edges"]) == (str(nodes), str(edges))
        assert int(graph["data-drawn-labels"]) > 0


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


def test_tooltip_shows_hostile_values_as_plain_text(pages):
    with Chromium() as browser:
        tab = browser.open(pages / "clusters" / "cluster_C0002.html")
        tab.wait_for("document.getElementById('graph').getAttribute('data-drawn-nodes')")
        at = tab.evaluate(f"window.mhgraphView.screen({json.dumps(PERSONS[6])})")
        box = tab.evaluate("(() => { const r = document.querySelector('#graph canvas').getBoundingClientRect(); "
                           "return {x: r.left, y: r.top}; })()")
        browser.call("Input.dispatchMouseEvent", tab.session, type="mouseMoved", x=box["x"] + at["x"],
                     y=box["y"] + at["y"])
        tooltip = tab.wait_for("(() => { const tip = document.getElementById('graph-tip'); if (tip.hidden) return null;"
                               " return {text: tip.textContent, html: tip.innerHTML, elements: tip.querySelectorAll('*')"
                               ".length, images: document.getElementsByTagName('img').length,"
                               " pwned: document.documentElement.getAttribute('data-pwned')}; })()")
        browser.call("Input.dispatchMouseEvent", tab.session, type="mousePressed", x=box["x"] + at["x"],
                     y=box["y"] + at["y"], button="left", clickCount=1)
        browser.call("Input.dispatchMouseEvent", tab.session, type="mouseReleased", x=box["x"] + at["x"],
                     y=box["y"] + at["y"], button="left", clickCount=1)
        detail = tab.wait_for("document.getElementById('graph').getAttribute('data-selected') && "
                              "{text: document.getElementById('detail').textContent, "
                              "html: document.getElementById('detail').innerHTML}")
    assert tooltip["text"].startswith("Manager 1 · Manager")
    assert QUOTED_REASON in tooltip["text"]
    assert tooltip["elements"] == 0  # text only, nothing the page would parse
    assert tooltip["images"] == 0 and tooltip["pwned"] is None
    # A click opens the node's detail: its pseudonym and its records, the hostile record id as text.
    assert PERSONS[6] in detail["text"] and SCRIPT_PAYLOAD in detail["text"]
    assert "&lt;/script&gt;&lt;script&gt;" in detail["html"] and "<img" not in detail["html"]


# --- the sample run: search, filters, time slider, labels --------------------------------------------

@pytest.fixture(scope="module")
def sample_probes(sample_export):
    out, _ = sample_export
    pages = sorted((out / "clusters").glob("cluster_*.html"))
    with Chromium() as browser:
        return [probe_cluster_page(browser, page) for page in pages]


@pytest.mark.slow
def test_sample_pages_draw_offline_with_labels_that_do_not_overlap(sample_export, sample_probes):
    assert len(sample_probes) == min(10, sample_export[1].manifest["clusters_flagged"])  # the flagged, at most 10
    for facts in sample_probes:
        assert facts["status"] == {"resources": "0", "violations": "0"}, facts["page"]
        labels = facts["labels"]
        assert labels["overlapping_pairs"] == 0 and labels["outside_canvas"] == 0, facts["page"]
        # Small clusters: nearly every node is named in the default view (a 30-node star of
        # workers around one sponsor names its company and addresses, and workers where they fit).
        if labels["nodes"] <= 25:
            assert labels["labels"] >= 0.6 * labels["nodes"], (facts["page"], labels)
        else:  # a large cluster carries its members' own homes and companies: at least 30 names
            assert labels["labels"] >= min(0.5 * labels["nodes"], 30), (facts["page"], labels)


# The labels of every static picture of a page as the browser draws them: pairs of labels that
# overlap, labels over a node's shape (the background rectangle aside), labels outside the picture.
PICTURE_LABELS = """(() => {
  const box = el => { const b = el.getBBox(); return {x: b.x, y: b.y, w: b.width, h: b.height}; };
  const hit = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  const facts = {pictures: 0, labels: 0, overlapping_pairs: 0, over_nodes: 0, outside: 0};
  for (const svg of document.querySelectorAll("svg.picture")) {
    const view = svg.viewBox.baseVal;
    const labels = [...svg.querySelectorAll("text")].map(box);
    const shapes = [...svg.querySelectorAll("circle, polygon, rect")].slice(1).map(box);
    facts.pictures += 1;
    facts.labels += labels.length;
    labels.forEach((a, i) => {
      facts.overlapping_pairs += labels.slice(i + 1).filter(b => hit(a, b)).length;
      facts.over_nodes += shapes.filter(s => hit(a, s)).length;
      facts.outside += (a.x < 0 || a.y < 0 || a.x + a.w > view.width || a.y + a.h > view.height) ? 1 : 0;
    });
  }
  return facts;
})()"""


@pytest.mark.slow
def test_the_pictures_of_the_document_name_nodes_without_overlapping_labels(sample_export):
    # placed as the cluster pages place theirs: beside, above or below their node, clear of the
    # other labels and nodes, inside the picture, as measured by the browser that draws them
    out, _ = sample_export
    with Chromium() as browser:
        facts = browser.open(out / "index.html").evaluate(PICTURE_LABELS)
    assert facts["pictures"] == min(10, sample_export[1].manifest["clusters_flagged"])
    assert facts["labels"] >= 4 * facts["pictures"], facts
    assert (facts["overlapping_pairs"], facts["over_nodes"], facts["outside"]) == (0, 0, 0), facts


@pytest.mark.slow
def test_search_finds_a_node_by_alias_and_by_pseudonym(sample_probes):
    for facts in sample_probes:
        for search in facts["search"]:
            assert search["hits"] >= 1 and search["selected"] == search["expected"], (facts["page"], search)
            assert search["expected"] in search["detail"]  # the pseudonym is in the detail it opens
        assert facts["labels_after_search"]["overlapping_pairs"] == 0


@pytest.mark.slow
def test_each_filter_hides_what_it_should(sample_probes):
    for facts in sample_probes:
        assert len(facts["partner_filters"]) >= 2 and len(facts["type_filters"]) >= 2
        for step in facts["partner_filters"] + facts["type_filters"]:
            kind = "partner" if "partner" in step else "type"
            assert step[f"edges_of_{kind}_still_shown"] == 0, (facts["page"], step)
            assert step["edges_after"] == step["edges_before"] - step[f"edges_of_{kind}_before"], (facts["page"], step)
            assert step["nodes_without_edge"] == 0  # nodes left with no relation go too
        assert any(step["edges_of_partner_before"] for step in facts["partner_filters"])
        assert facts["restored"]


@pytest.mark.slow
def test_time_slider_changes_what_is_shown(sample_probes):
    changed = 0
    for facts in sample_probes:
        slider = facts["time_slider"]
        assert slider["edges_outside_window"] == 0, facts["page"]
        assert re.fullmatch(r"\d{4}-\d{2} … \d{4}-\d{2}", slider["text"])
        changed += slider["edges_after"] < slider["edges_before"]
    assert changed >= 8


@pytest.mark.slow
def test_ties_leading_out_can_be_shown(sample_probes):
    expanded = [facts["ties"] for facts in sample_probes if "ties" in facts]
    assert expanded
    for ties in expanded:
        assert ties["edges_after"] == ties["edges_before"] + ties["in_data"]


# --- a 400-node cluster -------------------------------------------------------------------------------

def _bench_export():
    if str(ROOT / "benchmarks") not in sys.path:  # its neighbours are imported as top-level modules, as when run as a script
        sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("bench_export", ROOT / "benchmarks" / "bench_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_400_node_cluster_renders_with_labels_that_do_not_overlap(tmp_path):
    tables = _bench_export().synthetic_tables(1, 400, 100)
    paths = write_outputs(tmp_path, tables["clusters"], tables["communities"], tables["nodes"], tables["edges"],
                          tables["hits"], tables["mentions"], tables["resolution"], top=1)
    with Chromium() as browser:
        facts = probe_cluster_page(browser, paths["cluster:C0001"])
        tab = browser.open(paths["cluster:C0001"])
        tab.wait_for("document.getElementById('graph').getAttribute('data-drawn-labels')")
        tab.evaluate("document.getElementById('zoom-in').click(); document.getElementById('zoom-in').click(); true")
        zoomed = label_geometry(tab)
    assert facts["nodes_in_data"] == 400 and facts["default"]["nodes"] == 400
    labels = facts["labels"]
    assert labels["overlapping_pairs"] == 0 and labels["outside_canvas"] == 0
    assert labels["labels"] >= 40  # every company and address named, and workers where they fit
    assert zoomed["overlapping_pairs"] == 0 and zoomed["labels"] > 0
    assert facts["search"][0]["selected"] == facts["search"][0]["expected"]
    assert facts["time_slider"]["edges_after"] < facts["time_slider"]["edges_before"]
    assert all(step["edges_after"] == step["edges_before"] - step["edges_of_partner_before"] > 0
               for step in facts["partner_filters"])


# --- print ------------------------------------------------------------------------------------------

def pdf_pages(path: Path) -> list[tuple[float, float]]:
    """Width and height in points of every page of a PDF (from each page's MediaBox)."""
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", data)
    assert len(boxes) == len(re.findall(rb"/Type\s*/Page\b(?!s)", data))  # one box per page
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


@pytest.mark.slow
def test_report_prints_as_an_a4_pdf(sample_export, tmp_path):
    out, _ = sample_export
    run = tmp_path / "run"
    shutil.copytree(out, run)
    written = report(run, lang="en", pdf=True)
    pages = pdf_pages(written["pdf"])
    assert len(pages) >= 10  # ten clusters, each starting on its own page
    for width, height in pages:  # A4 is 595.28 × 841.89 points
        assert abs(width - 595.28) < 1.5 and abs(height - 841.89) < 1.5, (width, height)
    assert "Ranked clusters" in written["index"].read_text()


def test_pdf_page_sizes_are_read_from_the_file(tmp_path):
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Page /MediaBox [0 0 612 792] >> endobj\n"
                       b"2 0 obj << /Type /Pages /Kids [1 0 R] >> endobj\n%%EOF")
    assert pdf_pages(letter) == [(612.0, 792.0)]


def test_the_picture_saves_as_a_png_without_breaking_the_policy(pages, tmp_path):
    with Chromium() as browser:
        browser.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(tmp_path))
        tab = browser.open(pages / "clusters" / "cluster_C0001.html")
        tab.wait_for("document.documentElement.getAttribute('data-page-loaded') === 'true'")
        tab.evaluate("document.getElementById('save-png').click(); true")
        saved = tmp_path / "cluster_C0001.png"
        deadline = time.monotonic() + 10
        while not (saved.is_file() and saved.stat().st_size > 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        violations = tab.evaluate("document.documentElement.getAttribute('data-csp-violations')")
    width, height, distinct_bytes = _png_size_and_variety(saved)
    assert width > 400 and height > 300 and distinct_bytes > 50
    assert violations == "0"
