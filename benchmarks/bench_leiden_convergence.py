"""What Leiden's iterations buy: detection quality, community stability and CPU seconds per stopping rule.

Every world of one split of the detection protocol (``benchmarks/detection_protocol.toml``) is
generated once and run end to end (``mhgraph.run_pipeline`` with the shipped defaults) once per
stopping rule; only how long Leiden iterates differs between the runs. Per rule it records
recall@k, average precision and look-alikes in the top k (``mhgraph.evaluate``), the CPU seconds
of the detect stage, and how far its communities lie from those of the reference rule (the
tolerance 1e-4 shipped before): vertices placed in another community
(:func:`mhgraph.detect.moved_vertices`), entities whose ``cluster_id`` differs, and top-k
clusters whose members differ.

    python benchmarks/bench_leiden_convergence.py --split development

Choose on ``development`` only (the protocol's rule). Results: ``benchmarks/results/convergence.json``
under SPLIT.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
import time
from functools import partial
from pathlib import Path

import polars as pl

from bench_detection import load_protocol, worlds
from bench_pipeline import _loadavg, _machine, _source_state, add_commit_option  # before mhgraph: ROOT's own

import mhgraph.pipeline
from mhgraph.detect import detect_communities, moved_vertices
from mhgraph.evaluate import evaluate
from mhgraph.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "convergence.json"
WORK = ROOT / "benchmarks" / "work" / "leiden"

# name -> keyword arguments of detect_communities. The reference for stability is the tolerance
# shipped before 1e-3 (named, not "the default", so that a rerun measures the same comparison).
REFERENCE = "reference 1e-4"
RULES: dict[str, dict] = {
    REFERENCE: {"tolerance": 1e-4},
    "converged": {"tolerance": 0.0},
    "tolerance 1e-3": {"tolerance": 1e-3},
    "tolerance 1e-2": {"tolerance": 1e-2},
    "2 iterations": {"n_iterations": 2},
    "3 iterations": {"n_iterations": 3},
}


def timed_detect(seconds: list[float], **rule):
    """``detect_communities`` with ``rule``, adding the CPU seconds of each call to ``seconds``."""
    def detect(*args, **kwargs):
        start = time.process_time()
        result = detect_communities(*args, **{**kwargs, **rule})
        seconds.append(time.process_time() - start)
        return result
    return detect


def run_rule(extracts: Path, out: Path, rule: dict, k: int) -> dict:
    """Run the pipeline on ``extracts`` into ``out`` with Leiden stopped by ``rule``; its figures."""
    seconds: list[float] = []
    shipped = mhgraph.pipeline.detect_communities
    mhgraph.pipeline.detect_communities = timed_detect(seconds, **rule)
    try:
        mhgraph.pipeline.run_pipeline(extracts, out, executor="serial")
    finally:
        mhgraph.pipeline.detect_communities = shipped
    figures = evaluate(out, extracts / "truth", k=k, write=False)
    return {"detect_cpu_seconds": round(sum(seconds), 3),
            **{key.removeprefix("detection."): figures[key] for key in (
                f"detection.recall_at_{k}", "detection.average_precision", f"detection.decoys_in_top_{k}")}}


def stability(reference: Path, other: Path, k: int) -> dict:
    """How far the communities of run ``other`` lie from those of run ``reference``."""
    def read(run: Path) -> pl.DataFrame:
        return pl.read_parquet(run / "tables" / "communities.parquet").sort("entity_id")
    before, after = read(reference), read(other)
    ids = [frame.get_column("cluster_id").str.slice(1).cast(pl.Int64) for frame in (before, after)]

    def top(run: Path) -> set[frozenset]:
        clusters = pl.read_parquet(run / "tables" / "clusters.parquet").head(k).get_column("cluster_id")
        members = read(run).filter(pl.col("cluster_id").is_in(clusters.implode()))
        return {frozenset(group) for group in members.group_by("cluster_id").agg("entity_id")
                .get_column("entity_id").to_list()}
    return {"moved_vertices": moved_vertices(ids[0].to_numpy(), ids[1].to_numpy()),
            "cluster_id_changed": int((ids[0] != ids[1]).sum()), "entities": before.height,
            f"top_{k}_clusters_changed": len(top(reference) - top(other))}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("development", "validation"), default="development")
    parser.add_argument("--rules", nargs="+", choices=list(RULES), default=list(RULES))
    parser.add_argument("--limit", type=int, default=None, help="only the first N worlds of the split")
    parser.add_argument("--results", type=Path, default=RESULTS)
    add_commit_option(parser)
    args = parser.parse_args(argv)
    source = _source_state(args.commit)  # before any world is generated: a copy that cannot say its commit stops here
    protocol = load_protocol()
    k, persons = protocol["k"], protocol["persons"]
    rules = [REFERENCE, *(rule for rule in args.rules if rule != REFERENCE)]
    records, load_before = [], _loadavg()
    for world in worlds(protocol, args.split)[: args.limit]:
        folder = WORK / f"{world['split']}-{world['seed']}-{world['noise']}"
        extracts = folder / "extracts"
        if not (extracts / "truth").is_dir():
            synthesize(extracts, persons=persons, seed=world["seed"], noise=world["noise"])
        record = {"seed": world["seed"], "noise": world["noise"], "rules": {}}
        for rule in rules:
            out = folder / rule.replace(" ", "-")
            figures = run_rule(extracts, out, RULES[rule], k)
            if rule != REFERENCE:
                figures |= stability(folder / REFERENCE.replace(" ", "-"), out, k)
            record["rules"][rule] = figures
            print(f"{world['seed']} {world['noise']} {rule}: {figures}", file=sys.stderr, flush=True)
        records.append(record)
    summary = {}
    for rule in rules:
        per_world = [record["rules"][rule] for record in records]
        summary[rule] = {"arguments": RULES[rule]} | {
            key: round(sum(figures[key] for figures in per_world) / len(per_world), 4)
            for key in per_world[0] if key != "entities"}
    results = json.loads(args.results.read_text()) if args.results.is_file() else {"benchmark": "leiden convergence"}
    results.setdefault("splits", {})[args.split] = {
        "command": shlex.join(["python", "benchmarks/bench_leiden_convergence.py",
                               *(argv if argv is not None else sys.argv[1:])]),
        "recorded": dt.datetime.now().isoformat(timespec="seconds"), "source": source,
        "machine": _machine(), "load_before": load_before, "load_after": _loadavg(), "persons": persons,
        "worlds": len(records), "mean_per_world": summary, "per_world": records}
    args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
