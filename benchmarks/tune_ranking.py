"""Choosing indicator thresholds and ranking weights on the development worlds, and only there.

The detection protocol (``benchmarks/detection_protocol.toml``) fixes development and validation
seeds. This script works on the **development** worlds only:

* ``prepare``: for each development world (seed × noise) it generates the synthetic partner
  data (``mhgraph.synth.synthesize``, delivered through ``pseudonymise``) and runs the stages
  that no indicator setting changes — ingest, resolve, graph, detect — once, keeping their
  tables in ``benchmarks/work/tune/<seed>-<noise>/``;
* ``score``: for each candidate setting of a TOML file (``[[candidate]]`` tables with a
  ``name``, optional ``ranking`` parameters of :func:`mhgraph.rank.rank_clusters` and
  ``weak_share``, optional ``thresholds`` and ``weak`` levels per indicator, ``graded = false``
  for no weak levels, and optional ``weights`` per indicator), it runs the indicators and the ranking on the kept tables and
  scores them against the truth (:mod:`mhgraph.evaluate`): recall@10 pooled over the worlds,
  mean average precision, mean and maximum lawful look-alikes in the top 10.

The headline figures are not made here: they come from ``benchmarks/bench_detection.py`` on the
validation worlds, with the shipped defaults.

    .venv/bin/python benchmarks/tune_ranking.py prepare [--noise medium] [--limit N] [--seeds 111 112]
    .venv/bin/python benchmarks/tune_ranking.py score CANDIDATES.toml [--seeds 111 112]

Writes ``benchmarks/results/tune_ranking.json`` (each candidate's figures, the load average).
"""

from __future__ import annotations

import argparse
import json
import os
import tomllib
from pathlib import Path

import polars as pl

from bench_pipeline import _source_state, add_commit_option  # first: ROOT's mhgraph is the one imported
from mhgraph.detect import detect_communities
from mhgraph.evaluate import detection_summary, match_networks
from mhgraph.graph import build_graph_tables
from mhgraph.indicators import RANKING, compute_indicators
from mhgraph.ingest import ingest
from mhgraph.rank import rank_clusters
from mhgraph.resolve import resolve
from mhgraph.synth import synthesize

HERE = Path(__file__).parent
PROTOCOL = HERE / "detection_protocol.toml"
WORK = HERE / "work" / "tune"
RESULTS = HERE / "results" / "tune_ranking.json"
KEPT = ("resolution", "nodes", "edges", "communities")


def development_worlds(noises: list[str] | None = None, seeds: list[int] | None = None) -> list[tuple[int, str]]:
    """The protocol's development worlds; ``seeds`` replaces its seed list (more development
    worlds), and may never name a validation seed."""
    protocol = tomllib.loads(PROTOCOL.read_text(encoding="utf-8"))
    dev = protocol["development"]
    held_out = set(seeds or []) & set(protocol["validation"]["seeds"])
    if held_out:
        raise SystemExit(f"seeds {sorted(held_out)} are validation seeds of {PROTOCOL.name}; never choose on them")
    return [(seed, noise) for noise in (noises or dev["noise"]) for seed in (seeds or dev["seeds"])]


def prepare(worlds: list[tuple[int, str]], persons: int) -> None:
    for seed, noise in worlds:
        folder = WORK / f"{seed}-{noise}"
        if (folder / "communities.parquet").is_file():
            continue
        synthesize(folder / "data", persons=persons, seed=seed, noise=noise)
        ingested = ingest(folder / "data")
        resolution = resolve(ingested.mentions, ingested.relations).resolution
        nodes, edges = build_graph_tables(ingested.mentions, ingested.relations, resolution)
        communities = detect_communities(nodes, edges, seed=42)
        for name, table in zip(KEPT, (resolution, nodes, edges, communities)):
            table.write_parquet(folder / f"{name}.parquet")
        print(f"prepared {folder.name}", flush=True)


def score(candidates: list[dict], worlds: list[tuple[int, str]], k: int = 10) -> list[dict]:
    tables = {}
    for seed, noise in worlds:
        folder = WORK / f"{seed}-{noise}"
        if (folder / "communities.parquet").is_file():
            tables[folder.name] = {name: pl.read_parquet(folder / f"{name}.parquet") for name in KEPT} | {
                "truth_mentions": pl.read_parquet(folder / "data" / "truth" / "mentions.parquet"),
                "networks": pl.read_parquet(folder / "data" / "truth" / "networks.parquet")}
    results = []
    for candidate in candidates:
        per_world = {}
        for world, t in tables.items():
            ranking = dict(candidate.get("ranking", {}))
            weak_share = ranking.pop("weak_share", RANKING["weak_share"])
            hits = compute_indicators(t["nodes"], t["edges"], t["communities"],
                                      thresholds=candidate.get("thresholds"), weak=candidate.get("weak"),
                                      graded=candidate.get("graded", True), weak_share=weak_share)
            if candidate.get("weights"):
                hits = hits.with_columns(weight=pl.when(pl.col("indicator").is_in(list(candidate["weights"]))).then(
                    pl.col("indicator").replace_strict(candidate["weights"], default=None, return_dtype=pl.Float64)
                    * pl.when(pl.col("grade") == "weak").then(weak_share).otherwise(1.0)).otherwise("weight"))
            clusters = rank_clusters(t["communities"], t["nodes"], t["edges"], hits, **ranking)
            matches = match_networks(t["resolution"], t["communities"], clusters, t["truth_mentions"], t["networks"])
            per_world[world] = detection_summary(matches, clusters, k)
        found = sum(round((w[f"recall_at_{k}"] or 0) * w["planted_networks"]) for w in per_world.values())
        planted = sum(w["planted_networks"] for w in per_world.values())
        aps = [w["average_precision"] for w in per_world.values() if w["average_precision"] is not None]
        lookalikes = [w[f"decoys_in_top_{k}"] for w in per_world.values()]
        others = [w[f"false_positives_in_top_{k}"] for w in per_world.values()]
        results.append({"name": candidate["name"], "candidate": candidate, "worlds": len(per_world),
                        f"recall_at_{k}": round(found / planted, 4) if planted else None,
                        "average_precision": round(sum(aps) / len(aps), 4) if aps else None,
                        f"lookalikes_in_top_{k}_mean": round(sum(lookalikes) / len(lookalikes), 2) if lookalikes else None,
                        f"lookalikes_in_top_{k}_max": max(lookalikes, default=None),
                        f"false_positives_in_top_{k}_mean": round(sum(others) / len(others), 2) if others else None,
                        "per_world": per_world})
        print(json.dumps({key: v for key, v in results[-1].items() if key not in ("per_world", "candidate")}),
              flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["prepare", "score"])
    parser.add_argument("candidates", nargs="?", help="TOML file of [[candidate]] settings (score)")
    parser.add_argument("--noise", nargs="*", help="noise levels of the development worlds (default: all)")
    parser.add_argument("--limit", type=int, help="only the first N development worlds")
    parser.add_argument("--seeds", type=int, nargs="*", help="other development seeds than the protocol's "
                        "(never a validation seed)")
    parser.add_argument("--persons", type=int, default=None, help="persons per world (default: the protocol's)")
    add_commit_option(parser)
    args = parser.parse_args()
    source = _source_state(args.commit)  # before anything is measured: a copy that cannot say its commit stops here
    worlds = development_worlds(args.noise, args.seeds)[: args.limit]
    if args.step == "prepare":
        persons = args.persons or tomllib.loads(PROTOCOL.read_text(encoding="utf-8"))["persons"]
        prepare(worlds, persons)
        return
    candidates = tomllib.loads(Path(args.candidates).read_text(encoding="utf-8"))["candidate"]
    results = score(candidates, worlds)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"command": "python benchmarks/tune_ranking.py score " + args.candidates,
                                   "split": "development", "source": source, "results": results, "load_average": os.getloadavg()},
                                  indent=1, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
