"""Make the screenshots in docs/img from a run over data/sample and a 400-node synthetic cluster.

Run from the repository root:  .venv/bin/python tools/screenshots.py [--out docs/img]

Pictures: ``cluster-page.png`` (the top cluster of the sample, default view),
``cluster-page-detail.png`` (a node clicked, ties leading out shown), ``cluster-why-and-when.png``
(score breakdown, evidence, timeline), ``index-overview.png`` (the ranked clusters and the spread
of the scores), ``print-a4.png`` (the overview as printed) and ``cluster-400.png`` (a 400-node
cluster in its default view).
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import tempfile
from pathlib import Path

from mhgraph.export import write_outputs
from mhgraph.export.chromium import Chromium, Tab
from mhgraph.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
WINDOW = (1400, 900)


def _open(browser: Chromium, page: Path, size: tuple[int, int] = WINDOW, media: str = "screen") -> Tab:
    tab = browser.open(page)
    browser.call("Emulation.setDeviceMetricsOverride", tab.session, width=size[0], height=size[1],
                 deviceScaleFactor=1, mobile=False)
    browser.call("Emulation.setEmulatedMedia", tab.session, media=media)
    tab.wait_for("document.documentElement.getAttribute('data-page-loaded') === 'true'")
    tab.evaluate("window.dispatchEvent(new Event('resize')); const fit = document.getElementById('fit');"
                 " if (fit) fit.click(); true")
    return tab


def _clip(browser: Chromium, tab: Tab, first: str, last: str, path: Path, width: int = WINDOW[0]) -> None:
    """A screenshot from the top of element ``first`` to the bottom of element ``last`` (CSS selectors)."""
    box = tab.evaluate(f"(() => {{ const a = document.querySelector({json.dumps(first)}).getBoundingClientRect(),"
                       f" b = document.querySelector({json.dumps(last)}).getBoundingClientRect();"
                       " return {y: a.top + scrollY - 8, h: b.bottom - a.top + 16}; })()")
    data = browser.call("Page.captureScreenshot", tab.session, format="png", captureBeyondViewport=True,
                        clip={"x": 0, "y": box["y"], "width": width, "height": box["h"], "scale": 1})["data"]
    path.write_bytes(base64.b64decode(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mhgraph-screenshots-") as work:
        run = Path(work) / "run"
        result = run_pipeline(ROOT / "data" / "sample", run, top=10)
        top = result.tables["clusters"].row(0, named=True)["cluster_id"]
        spec = importlib.util.spec_from_file_location("bench_export", ROOT / "benchmarks" / "bench_export.py")
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
        big = bench.synthetic_tables(1, 400, 100)
        big_paths = write_outputs(Path(work) / "big", big["clusters"], big["communities"], big["nodes"], big["edges"],
                                  big["hits"], big["mentions"], big["resolution"], top=1)
        page = run / "clusters" / f"cluster_{top}.html"
        with Chromium(window=WINDOW) as browser:
            _open(browser, page).screenshot(args.out / "cluster-page.png")

            tab = _open(browser, page)
            tab.evaluate("document.getElementById('ties').click(); document.getElementById('fit').click(); true")
            target = tab.evaluate("(() => { const d = JSON.parse(document.getElementById('graph-data').textContent);"
                                  " return d.nodes.filter(n => n.flags.length && !n.outside)[0].id; })()")
            at = tab.evaluate(f"window.mhgraphView.screen({json.dumps(target)})")
            canvas = tab.evaluate("(() => { const r = document.querySelector('#graph canvas')"
                                  ".getBoundingClientRect(); return {x: r.left, y: r.top}; })()")
            for kind in ("mousePressed", "mouseReleased"):
                browser.call("Input.dispatchMouseEvent", tab.session, type=kind, x=canvas["x"] + at["x"],
                             y=canvas["y"] + at["y"], button="left", clickCount=1)
            tab.wait_for("document.getElementById('graph').getAttribute('data-selected')")
            tab.screenshot(args.out / "cluster-page-detail.png")

            tab = _open(browser, page, (1100, 900))
            _clip(browser, tab, "body > h2", "figure:last-of-type", args.out / "cluster-why-and-when.png", 1100)

            tab = _open(browser, run / "index.html", (1100, 900))
            _clip(browser, tab, "h1", "figure", args.out / "index-overview.png", 1100)

            # 794 px is the width of A4 at 96 dpi: the overview as the print stylesheet lays it out.
            _open(browser, run / "index.html", (794, 1123), media="print").screenshot(args.out / "print-a4.png")

            _open(browser, big_paths["cluster:C0001"]).screenshot(args.out / "cluster-400.png")
    for path in sorted(args.out.glob("*.png")):
        print(path, path.stat().st_size)


if __name__ == "__main__":
    main()
