"""Benchmark: do small planted networks survive community detection in a large sparse graph?

Graphs from :func:`mhgraph.planted.planted_cell_graph` (cells of 5-50 entities in a
person-company-address background of 10k and 100k entities). For each graph:

* quality (NMI, purity, coverage, exact; see :func:`mhgraph.planted.score_partition`) of
  Leiden-CPM (:func:`mhgraph.detect.detect_communities`, over a sweep of resolutions),
  modularity Leiden (igraph) and networkx's Louvain, all on the same weighted pairs;
* wall time of igraph Leiden-CPM (including building the igraph graph from the tables) and of
  networkx Louvain (building the networkx graph timed apart), median of ``--repeat`` runs.

Run:  .venv/bin/python benchmarks/bench_detect.py [--sizes 10000 100000] [--repeat 3]
Writes benchmarks/results/detect.json. The machine is shared; the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import igraph as ig
import networkx as nx
import polars as pl

from bench_pipeline import _source_state, add_commit_option  # first: ROOT's mhgraph is the one imported
from mhgraph.detect import (DEFAULT_RESOLUTION, community_edge_arrays, detect_communities, leiden_membership,
                            number_clusters)
from mhgraph.planted import planted_cell_graph, score_partition

RESULTS = Path(__file__).parent / "results" / "detect.json"
RESOLUTIONS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1)


def _timed(function, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, round(statistics.median(times), 4), [round(t, 4) for t in times]


def _modularity_leiden(entity_ids, pairs, pair_weights, seed: int):
    return number_clusters(entity_ids, leiden_membership(len(entity_ids), pairs, pair_weights,
                                                         objective="modularity", seed=seed))


def _networkx_graph(entity_ids, pairs, pair_weights) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(entity_ids.tolist())
    graph.add_weighted_edges_from(zip(entity_ids[pairs[:, 0]].tolist(), entity_ids[pairs[:, 1]].tolist(),
                                      pair_weights.tolist()))
    return graph


def _louvain(graph: nx.Graph, seed: int) -> pl.DataFrame:
    communities = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    return pl.DataFrame(
        [(node, f"L{i:06d}") for i, members in enumerate(communities) for node in members],
        schema=["entity_id", "cluster_id"], orient="row",
    )


def _size_summary(communities: pl.DataFrame) -> dict:
    sizes = communities.group_by("cluster_id").len().get_column("len")
    return {"communities": sizes.len(), "largest": int(sizes.max())}


def run_size(n_background: int, repeat: int, seed: int) -> dict:
    nodes, edges, truth = planted_cell_graph(n_background=n_background, seed=seed)
    entity_ids, pairs, pair_weights = community_edge_arrays(nodes, edges)
    cells = truth.get_column("cell").drop_nulls()
    out = {
        "graph": {"nodes": nodes.height, "edges": edges.height, "weighted_pairs": len(pairs),
                  "cells": cells.n_unique(), "planted_entities": cells.len(),
                  "max_degree": int(pl.concat([edges.get_column("from_entity"), edges.get_column("to_entity")])
                                    .value_counts().get_column("count").max())},
        "quality": {}, "seconds": {},
    }
    for resolution in RESOLUTIONS:
        communities = detect_communities(nodes, edges, resolution, seed=seed)
        out["quality"][f"cpm_leiden_{resolution}"] = {**score_partition(truth, communities),
                                                      **_size_summary(communities)}
    cpm, out["seconds"]["cpm_leiden_igraph"], out["seconds"]["cpm_leiden_igraph_runs"] = _timed(
        lambda: detect_communities(nodes, edges, DEFAULT_RESOLUTION, seed=seed), repeat)
    modularity, out["seconds"]["modularity_leiden_igraph"], _ = _timed(
        lambda: _modularity_leiden(entity_ids, pairs, pair_weights, seed), repeat)
    out["quality"]["modularity_leiden"] = {**score_partition(truth, modularity), **_size_summary(modularity)}
    graph, out["seconds"]["networkx_graph_build"], _ = _timed(
        lambda: _networkx_graph(entity_ids, pairs, pair_weights), 1)
    louvain, out["seconds"]["louvain_networkx"], out["seconds"]["louvain_networkx_runs"] = _timed(
        lambda: _louvain(graph, seed), repeat if n_background <= 20_000 else 1)
    out["quality"]["louvain_networkx"] = {**score_partition(truth, louvain), **_size_summary(louvain)}
    out["quality"]["default_resolution"] = DEFAULT_RESOLUTION
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    add_commit_option(parser)
    args = parser.parse_args()
    source = _source_state(args.commit)  # before anything is measured: a copy that cannot say its commit stops here
    results = {
        "benchmark": "detect",
        "command": "python benchmarks/bench_detect.py " + " ".join(
            ["--sizes", *map(str, args.sizes), "--repeat", str(args.repeat), "--seed", str(args.seed)]),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg(), "python": platform.python_version(),
                    "igraph": ig.__version__, "networkx": nx.__version__, "polars": pl.__version__,
                    "note": "2 cores shared with other work; wall times are indicative"},
        "source": source,
        "sizes": {},
    }
    for size in args.sizes:
        results["sizes"][str(size)] = run_size(size, args.repeat, args.seed)
        print(json.dumps({size: results["sizes"][str(size)]["quality"]}, indent=1))
    results["machine"]["loadavg_after"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
