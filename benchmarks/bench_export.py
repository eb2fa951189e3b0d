"""Benchmark: how long the export takes, and how large its pages get, as top clusters grow.

Synthetic stage tables: ``--top`` clusters of ``--cluster-size`` entities each (persons employed
by and registered at a few companies and addresses, so roughly two relations per person),
plus a background of ``--background`` entities in small clusters that are not exported (they
still pass through the joins). Each indicator hit lists the relations of its focus entity.

Run:  .venv/bin/python benchmarks/bench_export.py [--cluster-size 20 100 400] [--top 10]
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

from mhgraph.export import write_outputs

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
              .with_columns(score=pl.col("size").cast(pl.Float64), partners=pl.lit(["belastingdienst"]),
                            puzzle_count=pl.lit(1), indicators=pl.lit(["crowded_address"]), reasons=pl.lit("")))
    return {"clusters": ranked, "communities": entity_frame.select("entity_id", "cluster_id"), "nodes": nodes,
            "edges": edge_frame, "hits": hits, "mentions": mention_frame.drop("entity_id"),
            "resolution": mention_frame.select("mention_id", "entity_id")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster-size", type=int, nargs="+", default=[20, 100, 400])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--background", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result = {
        "benchmark": "export",
        "command": "python benchmarks/bench_export.py " + " ".join(
            [f"--cluster-size {' '.join(map(str, args.cluster_size))}", f"--top {args.top}",
             f"--background {args.background}", f"--repeat {args.repeat}"]),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg(), "python": platform.python_version(),
                    "polars": pl.__version__, "note": "2 cores shared with other work; wall times are indicative"},
        "runs": {},
    }
    for size in args.cluster_size:
        tables = synthetic_tables(args.top, size, args.background)
        times = []
        for _ in range(args.repeat):
            out = Path(tempfile.mkdtemp(prefix="bench-export-"))
            start = time.perf_counter()
            paths = write_outputs(out, tables["clusters"], tables["communities"], tables["nodes"], tables["edges"],
                                  tables["hits"], tables["mentions"], tables["resolution"], top=args.top)
            times.append(time.perf_counter() - start)
            page_bytes = [paths[key].stat().st_size for key in paths if key.startswith("cluster:")]
            summary_bytes = paths["summary"].stat().st_size
            shutil.rmtree(out)
        result["runs"][str(size)] = {
            "entities_total": tables["nodes"].height, "relations_total": tables["edges"].height,
            "relations_per_top_cluster": 2 * (size - max(1, size // 20) - max(1, size // 10)),
            "seconds_median": round(statistics.median(times), 3), "seconds": [round(t, 3) for t in times],
            "cluster_page_bytes_max": max(page_bytes), "summary_bytes": summary_bytes,
        }
        print(size, result["runs"][str(size)])
    result["machine"]["loadavg_after"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
