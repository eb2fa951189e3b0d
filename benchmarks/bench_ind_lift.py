"""Benchmark: does the IND's presence by itself lift a network in the ranking?

The IND holds records only on non-EU nationals. The same network with EU workers is, in the
registers, the same network without the IND's records. So for every planted network of a
synthetic run this benchmark compares the network's best score with all partners and with the
IND's records left out (graph, indicators and score run again; :func:`mhgraph.rank.partners_needed`
works it out more cheaply from the hit table), under two scores:

* ``puzzle``: the previous ranking, ``sum over indicators of weight × (1 + d + ... ) ×
  (1 + 0.5 × (partners - 1))``, which lifted a cluster for every partner behind its hits;
* ``families``: :func:`mhgraph.rank.rank_clusters`, which scores families of evidence and not
  partners.

``lift`` is score with the IND / score without it, per network with IND records; a lift of 1
means the IND's presence changed nothing. A lift above 1 that remains under ``families`` comes
from rules that show an irregularity only the IND's records can show (sponsor churn, migrants
off the sponsor's payroll, exchange-permit labour), not from the IND's presence.

Run:  .venv/bin/python benchmarks/bench_ind_lift.py RUN_DIR TRUTH_DIR [RUN_DIR TRUTH_DIR ...]
(run folders of ``mhgraph run`` on synthetic extracts, and their ``truth/`` folders).
Writes benchmarks/results/ind_lift.json with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

import polars as pl

from bench_pipeline import _source_state, add_commit_option  # first: ROOT's mhgraph is the one imported
from mhgraph.evaluate import match_networks
from mhgraph.graph import build_graph_tables
from mhgraph.indicators import INDICATORS, compute_indicators
from mhgraph.rank import rank_clusters

RESULTS = Path(__file__).parent / "results" / "ind_lift.json"


def puzzle_scores(hits: pl.DataFrame, communities: pl.DataFrame, decay: float = 0.5, bonus: float = 0.5):
    """The previous score per cluster: decayed sum per indicator times the partner bonus."""
    context = [n for n, s in INDICATORS.items() if s.context_only]
    located = hits.drop("cluster_id").join(communities.select(focus_entity="entity_id", cluster_id="cluster_id"),
                                           on="focus_entity")
    per_indicator = located.group_by("cluster_id", "indicator").agg(pl.col("weight").first(), n=pl.len()).with_columns(
        points=pl.col("weight") * (1 - pl.lit(decay) ** pl.col("n")) / (1 - decay),
        context=pl.col("indicator").is_in(context))
    partners = (located.filter(~pl.col("indicator").is_in(context)).explode("partners")
                .group_by("cluster_id").agg(puzzle=pl.col("partners").n_unique()))
    return (per_indicator.group_by("cluster_id").agg(real=pl.col("points").filter(~pl.col("context")).sum(),
                                                     ctx=pl.col("points").filter(pl.col("context")).sum())
            .join(partners, on="cluster_id", how="left")
            .select("cluster_id", score=pl.when(pl.col("real") > 0).then(
                (pl.col("real") + pl.col("ctx")) * (1 + bonus * (pl.col("puzzle").fill_null(1) - 1))).otherwise(0.0)))


def _scores(tables: dict, without: str | None):
    mentions, relations, resolution = tables["mentions"], tables["relations"], tables["resolution"]
    if without is not None:
        mentions = mentions.filter(pl.col("partner") != without)
        relations = relations.filter(pl.col("partner") != without)
        resolution = resolution.join(mentions.select("mention_id"), on="mention_id", how="semi")
    nodes, edges = build_graph_tables(mentions, relations, resolution)
    communities = tables["communities"].join(nodes.select("entity_id"), on="entity_id", how="semi")
    hits = compute_indicators(nodes, edges, communities)
    families = rank_clusters(communities, nodes, edges, hits).select("cluster_id", "score")
    return {"families": families, "puzzle": puzzle_scores(hits, communities)}


def _best(scores: pl.DataFrame, hit_clusters: pl.DataFrame) -> pl.DataFrame:
    """Per network its best score over the clusters that hold it, and that cluster's rank."""
    ranked = scores.sort(["score", "cluster_id"], descending=[True, False]).with_row_index("rank", offset=1)
    return (hit_clusters.join(ranked, on="cluster_id").sort("network_id", "rank")
            .group_by("network_id", maintain_order=True).agg(pl.col("score").first(), pl.col("rank").first()))


def measure(run_dir: Path, truth_dir: Path) -> list[dict]:
    tables = {n: pl.read_parquet(run_dir / "tables" / f"{n}.parquet")
              for n in ("mentions", "relations", "resolution", "communities", "clusters")}
    networks = pl.read_parquet(truth_dir / "networks.parquet")
    truth_mentions = pl.read_parquet(truth_dir / "mentions.parquet")
    everything = tables["clusters"].with_columns(score=pl.lit(1.0))  # every cluster may hold a network
    held = match_networks(tables["resolution"], tables["communities"], everything, truth_mentions, networks)
    planted = networks.filter(pl.col("kind") == "planted").select("network_id", "typology").unique()
    with_ind = (truth_mentions.filter(pl.col("source").str.starts_with("ind_"))
                .join(networks.select("network_id", "entity_id"), on="entity_id").select("network_id").unique())
    held = held.join(planted, on="network_id").select("network_id", "cluster_id")
    rows = []
    before, after = _scores(tables, None), _scores(tables, "ind")
    for score in ("puzzle", "families"):
        a, b = _best(before[score], held), _best(after[score], held)
        for row in a.join(b, on="network_id", suffix="_without_ind").join(planted, on="network_id").iter_rows(named=True):
            rows.append({"run": run_dir.name, "ranking": score, **row,
                         "ind_records": row["network_id"] in set(with_ind["network_id"])})
    return rows


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", metavar="FOLDER", help="RUN_DIR TRUTH_DIR pairs")
    add_commit_option(parser)
    args = parser.parse_args(argv)
    if len(args.folders) % 2:
        raise SystemExit(__doc__)
    source = _source_state(args.commit)  # before anything is measured: a copy that cannot say its commit stops here
    pairs = list(zip(args.folders[::2], args.folders[1::2]))
    rows = [r for run, truth in pairs for r in measure(Path(run), Path(truth))]
    summary = {}
    for score in ("puzzle", "families"):
        mine = [r for r in rows if r["ranking"] == score and r["ind_records"]]
        lifts = [r["score"] / r["score_without_ind"] for r in mine if r["score_without_ind"] > 0]
        lost = [r for r in mine if r["score_without_ind"] == 0 < r["score"]]
        summary[score] = {"networks_with_ind_records": len(mine),
                          "median_rank": statistics.median(r["rank"] for r in mine) if mine else None,
                          "median_rank_without_ind": statistics.median(r["rank_without_ind"] for r in mine) if mine else None,
                          "median_lift": round(statistics.median(lifts), 3) if lifts else None,
                          "max_lift": round(max(lifts), 3) if lifts else None,
                          "unchanged": sum(1 for x in lifts if abs(x - 1) < 1e-9),
                          "scored_only_with_ind": len(lost)}
    result = {"command": "python benchmarks/bench_ind_lift.py " + " ".join(argv),
              "runs": [str(r) for r, _ in pairs], "source": source, "summary": summary, "networks": rows,
              "load_average": os.getloadavg(), "cpu_count": os.cpu_count(), "python": platform.python_version()}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
