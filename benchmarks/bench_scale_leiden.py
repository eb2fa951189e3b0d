"""What each Leiden iteration costs and buys on the largest unit of a run's graph.

``mhgraph.detect.leiden_membership`` iterates Leiden until an iteration moves at most
``DEFAULT_TOLERANCE`` of the vertices. This script repeats that on the largest unit of whole
connected components (``mhgraph.partition.component_units``, the unit detection runs as one
task) of the ``nodes`` and ``edges`` tables of a finished run, with the seed of ``mhgraph run``,
and goes on until an iteration moves nothing (or ``--max-iterations``). Per iteration it records CPU seconds, the vertices
moved (``mhgraph.detect.moved_vertices``), the CPM quality, and against the partition where
nothing moves any more: the vertices still placed elsewhere and how many of its communities of 5
or more members are already found exactly. It also says at which iteration ``DEFAULT_TOLERANCE``
and ten times it stop. The data: a run kept by ``bench_scale.py --keep-output`` (its
``tables/``) or the tables of ``bench_scale_stages.py``. Results go to
``benchmarks/results/scale.json`` under ``leiden``.

    .venv/bin/python benchmarks/bench_scale_leiden.py benchmarks/work/scale/out-1000000/tables --label "1000000 exact"
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shlex
import sys
import time
from pathlib import Path

import igraph as ig
import numpy as np
import polars as pl

from bench_pipeline import _machine, _source_state, add_commit_option
from bench_scale import RESULTS
from mhgraph.detect import (DEFAULT_RESOLUTION, DEFAULT_TOLERANCE, community_edge_arrays, cpm_node_weights,
                            moved_vertices, non_persons)
from mhgraph.partition import DEFAULT_UNIT_SIZE, component_units

SEED = 42  # the seed of `mhgraph run`
MIN_SIZE = 5


def largest_unit(tables: Path) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, float]:
    """Vertex count, pairs, weights and followers (non-persons, as `mhgraph run` detects) of the
    largest unit, and the CPU seconds to build them."""
    start = time.process_time()
    nodes = pl.read_parquet(tables / "nodes.parquet", columns=["entity_id", "entity_type"])
    edges = pl.read_parquet(tables / "edges.parquet", columns=["from_entity", "to_entity", "type"])
    entity_ids, pairs, weights = community_edge_arrays(nodes, edges)
    unit = np.sort(max(component_units(len(entity_ids), pairs, DEFAULT_UNIT_SIZE), key=len))
    local = np.full(len(entity_ids), -1)
    local[unit] = np.arange(len(unit))
    inside = local[pairs[:, 0]] >= 0
    followers = non_persons(nodes, entity_ids)[unit]
    return len(unit), local[pairs[inside]], weights[inside], followers, time.process_time() - start


def exactly_found(membership: np.ndarray, final: np.ndarray) -> tuple[int, int]:
    """Communities of ``final`` with at least MIN_SIZE members, and how many ``membership`` holds exactly."""
    frame = pl.DataFrame({"final": final, "now": membership})
    sizes = frame.group_by("now").agg(now_size=pl.len())
    large = frame.group_by("final").agg(size=pl.len(), labels=pl.col("now").n_unique(), now=pl.col("now").first()) \
        .filter(pl.col("size") >= MIN_SIZE)
    exact = large.join(sizes, on="now").filter((pl.col("labels") == 1) & (pl.col("now_size") == pl.col("size")))
    return large.height, exact.height


def iterate(n: int, pairs: np.ndarray, weights: np.ndarray, followers: np.ndarray, most: int) -> list[dict]:
    graph = ig.Graph(n=n, edges=pairs, directed=False)
    node_weights = cpm_node_weights(graph, followers)
    ig.set_random_number_generator(random.Random(SEED))
    membership, rows, kept = None, [], []
    try:
        while True:
            start = time.process_time()
            partition = graph.community_leiden(objective_function="CPM", weights=weights, n_iterations=1,
                                               initial_membership=membership, resolution=DEFAULT_RESOLUTION,
                                               node_weights=node_weights)
            seconds = time.process_time() - start
            moved = moved_vertices(membership, partition.membership) if membership is not None else None
            quality = partition.quality() if callable(partition.quality) else partition.quality
            rows.append({"iteration": len(rows) + 1, "cpu_seconds": round(seconds, 2), "moved": moved,
                         "quality": quality, "communities": len(set(partition.membership))})
            membership = partition.membership
            kept.append(np.asarray(membership))
            print(json.dumps(rows[-1]), flush=True)
            if moved == 0 or len(rows) == most:
                break
    finally:
        ig.set_random_number_generator(random)
    for row, labels in zip(rows, kept):
        row["off_final"] = moved_vertices(labels, kept[-1])
        row["final_communities_5_plus"], row["found_exactly"] = exactly_found(labels, kept[-1])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tables", type=Path, help="folder with nodes.parquet and edges.parquet of a run")
    parser.add_argument("--label", required=True, help="entry name in scale.json, e.g. '1000000 exact'")
    parser.add_argument("--max-iterations", type=int, default=60,
                        help="stop here if something still moves; the last iteration is then the reference")
    add_commit_option(parser)
    args = parser.parse_args()
    source = _source_state(args.commit)  # before the measurement: a copy that cannot say its commit stops here
    load_before = [round(x, 2) for x in os.getloadavg()]
    n, pairs, weights, followers, build_seconds = largest_unit(args.tables)
    rows = iterate(n, pairs, weights, followers, args.max_iterations)
    stops = {str(tolerance): next((r["iteration"] for r in rows if r["moved"] is not None
                                   and r["moved"] <= tolerance * n), None)
             for tolerance in (DEFAULT_TOLERANCE, 10 * DEFAULT_TOLERANCE)}
    report = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"runs": {}}
    report.setdefault("leiden", {})[args.label] = {
        "command": "python benchmarks/bench_scale_leiden.py " + shlex.join(sys.argv[1:]),
        "recorded": dt.datetime.now().isoformat(timespec="seconds"), "source": source,
        "unit_entities": n, "unit_pairs": len(pairs), "arrays_cpu_seconds": round(build_seconds, 2),
        "stops_at_iteration_by_tolerance": stops, "converged": rows[-1]["moved"] == 0, "iterations": rows,
        "loadavg_before": load_before, "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    report["machine"] = _machine()
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(stops))
    return 0


if __name__ == "__main__":
    sys.exit(main())
