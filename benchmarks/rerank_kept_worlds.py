"""Another ruleset on the very same graphs: the rules and the ranking of another checkout rerun
on the worlds ``bench_detection.py --keep`` kept, network by network against the shipped run.

A world's graph (nodes, edges, communities, identity conflicts) is what its run stored; only
the rules and the ranking come from ``--source``, a checkout of another commit (for instance
``git archive <commit> mhgraph | tar -x -C /tmp/other``), imported in a process of its own. So a
difference in a network's rank is the rules' doing, not entity resolution's or detection's.
Development worlds only: the kept worlds of the development splits.

    .venv/bin/python benchmarks/rerank_kept_worlds.py --source /tmp/r15 \\
        --worlds benchmarks/work/detection --results benchmarks/results/rerank_ruleset15.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl

from bench_pipeline import _source_state, add_commit_option  # before mhgraph: ROOT's own

import mhgraph
from mhgraph.evaluate import match_networks, network_outcomes, read_run_and_truth


def rerank(run: Path, out: Path) -> None:
    """The rules and the ranking of the ``mhgraph`` this process imports, on ``run``'s stored graph;
    writes what :func:`~mhgraph.evaluate.read_run_and_truth` reads into ``out/tables``."""
    from mhgraph.indicators import compute_indicators, with_cluster_ids
    from mhgraph.rank import counted_hits, rank_clusters

    tables = run / "tables"
    allowed = frozenset(json.loads((run / "run_manifest.json").read_text())["allowed_source_purposes"])
    nodes, edges, communities = (pl.read_parquet(tables / f"{name}.parquet") for name in ("nodes", "edges", "communities"))
    hits = with_cluster_ids(compute_indicators(
        nodes, edges, allowed_purposes=allowed,
        identity_conflicts=pl.read_parquet(tables / "identity_conflicts.parquet")), communities)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    rank_clusters(communities, nodes, edges, hits).write_parquet(out / "tables" / "clusters.parquet")
    counted_hits(hits, communities).write_parquet(out / "tables" / "indicator_hits.parquet")
    for name in ("communities", "resolution"):
        shutil.copy(tables / f"{name}.parquet", out / "tables" / f"{name}.parquet")


def ranks(run: Path, truth: Path) -> pl.DataFrame:
    return network_outcomes(match_networks(*read_run_and_truth(run, truth))).select(
        "network_id", "kind", "typology", "strength", "rank")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="folder holding the other commit's mhgraph package")
    parser.add_argument("--worlds", type=Path, nargs="+", required=True, help="folders of kept bench_detection worlds")
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--rerank", nargs=2, type=Path, help=argparse.SUPPRESS)  # RUN OUT, in the other's process
    add_commit_option(parser)
    args = parser.parse_args(argv)
    other = args.source.resolve()
    if args.rerank:
        # else the installed mhgraph would rerank, and every rank would stay as it was
        if not Path(mhgraph.__file__).resolve().is_relative_to(other):
            sys.exit(f"mhgraph was imported from {Path(mhgraph.__file__).parent}, not from --source {other}")
        rerank(*args.rerank)
        return {}
    source = _source_state(args.commit)  # the shipped side's code; a copy that cannot say its commit stops here
    if not (other / "mhgraph" / "__init__.py").is_file():
        sys.exit(f"--source {args.source} holds no mhgraph package (no mhgraph/__init__.py)")
    env = {**os.environ, "PYTHONPATH": str(other)}
    worlds = sorted(world for folder in args.worlds for world in folder.iterdir()
                    if (world / "run" / "tables" / "clusters.parquet").is_file()
                    and world.name.startswith("development"))
    records = []
    for world in worlds:
        other = world / "rerank"
        shutil.rmtree(other, ignore_errors=True)
        subprocess.run([sys.executable, __file__, "--source", str(args.source), "--worlds", str(world),
                        "--results", os.devnull, "--rerank", str(world / "run"), str(other)], env=env, check=True)
        truth = world / "extracts" / "truth"
        both = ranks(world / "run", truth).join(ranks(other, truth).select("network_id", other_rank="rank"),
                                                 on="network_id")
        records += [{"world": world.name, **row} for row in both.to_dicts()]
        print(world.name, file=sys.stderr, flush=True)
    table = pl.DataFrame(records)
    planted = table.filter(pl.col("kind") == "planted")
    moved = table.filter(pl.col("rank").fill_null(0) != pl.col("other_rank").fill_null(0))
    result = {
        "benchmark": "rerank_kept_worlds", "source": source, "other_source": str(args.source), "worlds": len(worlds),
        "recall_at_10": {"shipped": round(float((planted["rank"] <= 10).sum()) / planted.height, 4),
                         "other": round(float((planted["other_rank"] <= 10).sum()) / planted.height, 4)},
        "moved_networks": moved.to_dicts(),
        "networks": records,
    }
    args.results.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
