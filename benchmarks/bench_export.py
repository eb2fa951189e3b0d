"""Benchmark: how long the export takes, how large its pages get, and whether the pictures still
work (search, filters, time slider, labels that do not overlap, A4 PDF) as clusters grow.

Two workloads, both generated before any clock starts:

* synthetic stage tables: ``--top`` clusters of ``--cluster-size`` entities each (people
  employed by and registered at a few companies and addresses, each company with a director at
  the KvK, so roughly two relations per person), plus a background of ``--background`` entities
  in small clusters that are not exported (they still pass through the joins). Each indicator
  hit lists the relations of its focus entity. The export is timed ``--repeat`` times; the pages
  of the last repeat are checked in headless Chromium;
* a whole run over a synthetic population of ``--persons`` people (``mhgraph synth`` with
  ``--seed``, then the pipeline): its export is timed again, ``mhgraph report --pdf`` is timed,
  and every cluster page is checked in headless Chromium.

The checks are those of ``tests/test_export_browser.py`` (:mod:`mhgraph.export.probe`).

Run:  .venv/bin/python benchmarks/bench_export.py [--cluster-size 20 100 400] [--persons 100000]
Writes benchmarks/results/export.json. The machine is shared; the load average is recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from bench_pipeline import _source_state, add_commit_option  # first: ROOT's mhgraph is the one imported
from mhgraph.export import report, write_outputs
from mhgraph.export.chromium import Chromium
from mhgraph.export.probe import probe_cluster_page
from mhgraph.pipeline import run_pipeline
from mhgraph.synth import synthesize

RESULTS = Path(__file__).parent / "results" / "export.json"


def synthetic_tables(top: int, cluster_size: int, background: int) -> dict[str, pl.DataFrame]:
    """Stage tables with ``top`` exported clusters and a background of small clusters."""
    entities, mentions, edges = [], [], []
    clusters = [(f"C{index:04d}", cluster_size) for index in range(1, top + 1)]
    clusters += [(f"C{index:04d}", 5) for index in range(top + 1, top + 1 + background // 5)]
    for cluster_id, size in clusters:
        companies = max(1, size // 20)
        addresses = max(1, size // 10)
        persons = size - companies - addresses
        ids = ([("company", f"C-{cluster_id}-{n}") for n in range(companies)]
               + [("address", f"A-{cluster_id}-{n}") for n in range(addresses)]
               + [("person", f"P-{cluster_id}-{n}") for n in range(persons)])
        entities += [(entity_id, kind, cluster_id) for kind, entity_id in ids]
        for n in range(persons):
            # People at one address work for the same employer, as where an employer houses its workers.
            home = n % addresses
            person, company, address = (f"P-{cluster_id}-{n}", f"C-{cluster_id}-{home * companies // addresses}",
                                        f"A-{cluster_id}-{home}")
            start = dt.date(2022 + (n * 7 % 36) // 12, (n * 7 % 36) % 12 + 1, 1)
            end = None if n % 4 == 0 else dt.date(start.year + 1, start.month, 1)
            record = f"{cluster_id}-{n}"
            for role, entity_id, kind in (("werknemer", person, "person"), ("werkgever", company, "company"),
                                          ("werknemer_adres", address, "address")):
                mentions.append((f"belastingdienst_loonaangifte/{record}/{role}", kind, "belastingdienst_loonaangifte",
                                 "belastingdienst", "fiscal_supervision", record, role, entity_id))
            for relation, target in (("EMPLOYED_BY", company), ("REGISTERED_AT", address)):
                edges.append((f"belastingdienst_loonaangifte/{record}/{relation}", relation, person, target,
                              "belastingdienst_loonaangifte", "belastingdienst", "fiscal_supervision", record,
                              1200.0 if relation == "EMPLOYED_BY" else None, 160.0 if relation == "EMPLOYED_BY" else None,
                              start, end))
        for n in range(companies):  # each company's director is one of its people, registered at the KvK
            director, company, record = f"P-{cluster_id}-{n}", f"C-{cluster_id}-{n}", f"F-{cluster_id}-{n}"
            for role, entity_id, kind in (("functionaris", director, "person"), ("bedrijf", company, "company")):
                mentions.append((f"kvk_functionarissen/{record}/{role}", kind, "kvk_functionarissen", "kvk",
                                 "company_register", record, role, entity_id))
            edges.append((f"kvk_functionarissen/{record}/OFFICER_OF", "OFFICER_OF", director, company,
                          "kvk_functionarissen", "kvk", "company_register", record, None, None,
                          dt.date(2021, 6, 1), None))
    entity_frame = pl.DataFrame(entities, schema=["entity_id", "entity_type", "cluster_id"], orient="row")
    mention_frame = pl.DataFrame(mentions, orient="row", schema=[
        "mention_id", "entity_type", "source", "partner", "purpose", "record_id", "role", "entity_id"])
    edge_frame = pl.DataFrame(edges, orient="row", schema={
        "relation_id": pl.String, "type": pl.String, "from_entity": pl.String, "to_entity": pl.String,
        "source": pl.String, "partner": pl.String, "purpose": pl.String, "record_id": pl.String,
        "wage": pl.Float64, "hours": pl.Float64, "valid_from": pl.Date, "valid_to": pl.Date})
    nodes = (mention_frame.group_by("entity_id").agg(
        pl.col("entity_type").first(), pl.col("partner").unique().sort().alias("partners"),
        pl.col("source").unique().sort().alias("sources"), pl.col("purpose").unique().sort().alias("purposes"),
        pl.len().alias("mention_count")).sort("entity_id"))
    hits = (edge_frame.filter(pl.col("type") == "REGISTERED_AT")
            .join(entity_frame.rename({"entity_id": "to_entity"}), on="to_entity")
            .group_by("to_entity", "cluster_id").agg(pl.col("relation_id").sort().alias("evidence"))
            .select(pl.lit("crowded_address").alias("indicator"), pl.lit("1").alias("version"),
                    pl.col("to_entity").alias("focus_entity"), "cluster_id",
                    pl.format("{} persons registered at one address", pl.col("evidence").list.len()).alias("reason"),
                    "evidence", pl.lit(["belastingdienst"]).alias("partners"), pl.lit(1.0).alias("weight")))
    sizes = entity_frame.group_by("cluster_id").agg(
        pl.len().alias("size"), *(pl.col("entity_type").eq(kind).sum().alias(column) for kind, column in
                                  (("person", "persons"), ("company", "companies"), ("address", "addresses"),
                                   ("permit", "permits"))))
    ranked = (sizes.sort("size", "cluster_id", descending=[True, False]).with_row_index("rank", offset=1)
              .with_columns(score=pl.col("size").cast(pl.Float64), flagged=pl.lit(True), partners=pl.lit(["belastingdienst"]),
                            puzzle_count=pl.lit(1), indicators=pl.lit(["crowded_address"]), reasons=pl.lit("")))
    return {"clusters": ranked, "communities": entity_frame.select("entity_id", "cluster_id"), "nodes": nodes,
            "edges": edge_frame, "hits": hits, "mentions": mention_frame.drop("entity_id"),
            "resolution": mention_frame.select("mention_id", "entity_id")}


def browser_checks(pages: list[Path]) -> dict:
    """The browser tests' checks over ``pages``, summed up: every figure a test would assert on."""
    probes, seconds = [], []
    with Chromium() as browser:
        for page in pages:
            start = time.perf_counter()
            probes.append(probe_cluster_page(browser, page))
            seconds.append(time.perf_counter() - start)
    filters = [step for facts in probes for step in facts["partner_filters"] + facts["type_filters"]]
    return {
        "pages": len(probes),
        "nodes_max": max(facts["nodes_in_data"] for facts in probes),
        "labels_drawn_min": min(facts["labels"]["labels"] for facts in probes),
        "labels_drawn_of_nodes_min": round(min(facts["labels"]["labels"] / max(facts["labels"]["nodes"], 1)
                                               for facts in probes), 3),
        "overlapping_label_pairs": sum(facts["labels"]["overlapping_pairs"] for facts in probes),
        "labels_outside_canvas": sum(facts["labels"]["outside_canvas"] for facts in probes),
        "searches": sum(len(facts.get("search", [])) for facts in probes),
        "searches_finding_the_node": sum(s["selected"] == s["expected"] for facts in probes
                                         for s in facts.get("search", [])),
        "filters_operated": len(filters),
        "filters_leaving_hidden_edges_shown": sum(
            step.get("edges_of_partner_still_shown", step.get("edges_of_type_still_shown")) > 0 for step in filters),
        "filters_leaving_bare_nodes": sum(step["nodes_without_edge"] > 0 for step in filters),
        "time_slider_changed_the_picture": sum(facts["time_slider"]["edges_after"] < facts["time_slider"]["edges_before"]
                                               for facts in probes if "time_slider" in facts),
        "time_slider_edges_outside_window": sum(facts["time_slider"]["edges_outside_window"] for facts in probes
                                                if "time_slider" in facts),
        "resources_loaded": sum(int(facts["status"]["resources"]) for facts in probes),
        "policy_violations": sum(int(facts["status"]["violations"]) for facts in probes),
        "seconds_per_page_median": round(statistics.median(seconds), 2),
    }


def pdf_facts(path: Path) -> dict:
    """Pages and page sizes (points) of a PDF, read from its MediaBoxes."""
    import re

    data = path.read_bytes()
    sizes = {(round(float(x1) - float(x0), 1), round(float(y1) - float(y0), 1)) for x0, y0, x1, y1 in re.findall(
        rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", data)}
    return {"bytes": len(data), "pages": len(re.findall(rb"/Type\s*/Page\b(?!s)", data)), "page_sizes_pt": sorted(sizes)}


def population_run(persons: int, seed: int, top: int, work: Path) -> dict:
    """Synthesise ``persons`` people and run the pipeline (untimed), then time the export, the
    PDF and check every cluster page in the browser."""
    synthesize(work / "extracts", persons=persons, seed=seed)
    start = time.perf_counter()
    result = run_pipeline(work / "extracts", work / "run", top=top, seed=42)
    pipeline_seconds = time.perf_counter() - start
    t = result.tables
    start = time.perf_counter()
    paths = write_outputs(work / "run", t["clusters"], t["communities"], t["nodes"], t["edges"], t["indicator_hits"],
                          t["mentions"], t["resolution"], top=min(top, result.manifest["clusters_flagged"]),
                          run_info=result.manifest)
    export_seconds = time.perf_counter() - start
    start = time.perf_counter()
    printed = report(work / "run", pdf=True)
    report_seconds = time.perf_counter() - start
    pages = sorted(path for key, path in paths.items() if key.startswith("cluster:"))
    sizes = t["clusters"].filter(pl.col("cluster_id").is_in([p.stem.removeprefix("cluster_") for p in pages]))["size"]
    return {
        "persons": persons, "seed": seed, "data": "development (synthetic, seed not used for any threshold)",
        "entities": t["nodes"].height, "relations": t["edges"].height, "clusters": t["clusters"].height,
        "clusters_flagged": result.manifest["clusters_flagged"], "exported_cluster_sizes": sorted(sizes.to_list()),
        "pipeline_seconds_untimed_part": round(pipeline_seconds, 1),
        "export_seconds": round(export_seconds, 2), "report_with_pdf_seconds": round(report_seconds, 2),
        "cluster_page_bytes_max": max(p.stat().st_size for p in pages),
        "index_bytes": paths["index"].stat().st_size, "pdf": pdf_facts(printed["pdf"]),
        "browser": browser_checks(pages),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster-size", type=int, nargs="+", default=[20, 100, 400])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--background", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--persons", type=int, default=100_000, help="population of the whole run (0: skip it)")
    parser.add_argument("--seed", type=int, default=7)
    add_commit_option(parser)
    args = parser.parse_args()
    source = _source_state(args.commit)  # before anything is measured: a copy that cannot say its commit stops here
    result = {
        "benchmark": "export",
        "command": "python benchmarks/bench_export.py " + " ".join(
            [f"--cluster-size {' '.join(map(str, args.cluster_size))}", f"--top {args.top}",
             f"--background {args.background}", f"--repeat {args.repeat}", f"--persons {args.persons}",
             f"--seed {args.seed}"]),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg(), "python": platform.python_version(),
                    "polars": pl.__version__, "note": "2 cores shared with other work; wall times are indicative"},
        "source": source,
        "runs": {},
    }
    for size in args.cluster_size:
        tables = synthetic_tables(args.top, size, args.background)
        times = []
        for repeat in range(args.repeat):
            out = Path(tempfile.mkdtemp(prefix="bench-export-"))
            start = time.perf_counter()
            paths = write_outputs(out, tables["clusters"], tables["communities"], tables["nodes"], tables["edges"],
                                  tables["hits"], tables["mentions"], tables["resolution"], top=args.top)
            times.append(time.perf_counter() - start)
            pages = sorted(paths[key] for key in paths if key.startswith("cluster:"))
            page_bytes = [page.stat().st_size for page in pages]
            summary_bytes = paths["summary"].stat().st_size
            checks = browser_checks(pages[:3]) if repeat == args.repeat - 1 else None
            shutil.rmtree(out)
        result["runs"][str(size)] = {
            "entities_total": tables["nodes"].height, "relations_total": tables["edges"].height,
            "seconds_median": round(statistics.median(times), 3), "seconds": [round(t, 3) for t in times],
            "cluster_page_bytes_max": max(page_bytes), "summary_bytes": summary_bytes, "browser": checks,
        }
        print(size, result["runs"][str(size)], flush=True)
    if args.persons:
        with tempfile.TemporaryDirectory(prefix="bench-export-population-") as work:
            result["population"] = population_run(args.persons, args.seed, args.top, Path(work))
        print(result["population"], flush=True)
    result["machine"]["loadavg_after"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
