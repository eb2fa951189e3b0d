"""Benchmark: do cluster ids stay when the next delivery differs a little, and what does the diff say?

For a development set (``data/sample``) and a validation world of the detection protocol
(``benchmarks/detection_protocol.toml``: its first validation seed, persons and noise, fixed
before anything was measured), one base run, then reruns with ``--previous`` on:

* the same extracts (the diff must be empty);
* copies with a share of the rows of every CSV extract changed (half dropped, half delivered
  again under a new record id; ``tests/history_helpers.py``), for several shares and seeds;
* copies without one partner's extracts.

Per rerun: the share of the true networks (planted and decoy, from ``truth/``) whose entities
are mostly in a cluster with the same id as in the base run (``networks_kept``), the share of the rerun's clusters with more than one
member that carry an id of the base run (``multi_member_carried``), the number of diff entries
per kind, and the seconds spent pairing clusters and diffing (read from the tables, apart from
the pipeline).

Run:  .venv/bin/python benchmarks/bench_history.py [--shares 0.01 0.05 0.1 0.2] [--seeds 1 2]
Writes benchmarks/results/history.json. The machine is shared; the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import tomllib
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

import polars as pl

from bench_pipeline import _source_state, add_commit_option  # first: ROOT's mhgraph is the one imported
from mhgraph.diff import CHANGE_KINDS, RunTables, changes_are_empty, diff_runs
from mhgraph.pipeline import run_pipeline
from mhgraph.spec import load_specs
from mhgraph.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from history_helpers import copy_delivered, copy_with_changed_rows  # noqa: E402  (shared with the tests)

RESULTS = Path(__file__).parent / "results" / "history.json"
WORK = Path(__file__).parent / "work" / "history"
PROTOCOL = Path(__file__).parent / "detection_protocol.toml"


def network_clusters(out: Path, truth: Path) -> dict[str, str]:
    """Per true network (planted or decoy), the cluster of the run holding most of its entities."""
    networks = pl.read_parquet(truth / "networks.parquet").select("network_id", "entity_id")
    placed = (
        pl.read_parquet(truth / "mentions.parquet").select("mention_id", "entity_id").join(networks, on="entity_id")
        .join(pl.read_parquet(out / "tables" / "resolution.parquet").select("mention_id", run_entity="entity_id"),
              on="mention_id")
        .join(pl.read_parquet(out / "tables" / "communities.parquet").select(run_entity="entity_id", cluster_id="cluster_id"),
              on="run_entity")
    )
    modal = (placed.group_by("network_id", "cluster_id").agg(pl.col("entity_id").n_unique().alias("n"))
             .sort(["network_id", "n", "cluster_id"], descending=[False, True, False])
             .group_by("network_id", maintain_order=True).first())
    return dict(modal.select("network_id", "cluster_id").iter_rows())


def stability(base: Path, rerun: Path, truth: Path) -> dict:
    before, after = (pl.read_parquet(out / "tables" / "communities.parquet") for out in (base, rerun))
    networks = [network_clusters(out, truth) for out in (base, rerun)]
    common = sorted(set(networks[0]) & set(networks[1]))
    multi = after.filter(pl.col("cluster_size") > 1)
    carried = multi.filter(pl.col("cluster_id").is_in(before["cluster_id"].unique().implode()))
    start = time.perf_counter()
    changes = diff_runs(RunTables.read(base), RunTables.read(rerun))
    seconds = time.perf_counter() - start
    return {
        "networks_kept": round(sum(networks[0][n] == networks[1][n] for n in common) / max(1, len(common)), 4),
        "networks": len(common),
        "multi_member_carried": round(carried["cluster_id"].n_unique() / max(1, multi["cluster_id"].n_unique()), 4),
        "diff_entries": {**{kind: len(changes[kind]) for kind in CHANGE_KINDS},
                         **{f"indicators_{k}": len(v) for k, v in changes["indicators"].items()}},
        "diff_empty": changes_are_empty(changes),
        "seconds_pair_and_diff": round(seconds, 3),
    }


def measure(name: str, extracts: Path, shares: list[float], seeds: list[int]) -> dict:
    work = WORK / name
    base = work / "base"
    truth = extracts / "truth"
    run_pipeline(extracts, base)
    out = {"extracts": str(extracts.relative_to(ROOT) if extracts.is_relative_to(ROOT) else extracts)}
    run_pipeline(extracts, work / "same", previous=base)
    out["unchanged"] = stability(base, work / "same", truth)
    out["changed_rows"] = {}
    for share in shares:
        rows = []
        for seed in seeds:
            changed = work / f"changed_{share}_{seed}"
            shutil.rmtree(changed, ignore_errors=True)
            copy_with_changed_rows(extracts, changed, share=share, seed=seed)
            run_pipeline(changed, work / f"run_{share}_{seed}", previous=base)
            rows.append(stability(base, work / f"run_{share}_{seed}", truth))
        out["changed_rows"][str(share)] = {
            "runs": rows,
            "networks_kept_min": min(r["networks_kept"] for r in rows),
            "multi_member_carried_median": statistics.median(r["multi_member_carried"] for r in rows),
        }
        print(name, share, out["changed_rows"][str(share)]["networks_kept_min"],
              out["changed_rows"][str(share)]["multi_member_carried_median"], flush=True)
    out["without_partner"] = {}
    for partner in sorted({spec.partner for spec in load_specs()}):
        without = work / f"without_{partner}"
        shutil.rmtree(without, ignore_errors=True)
        copy_delivered(extracts, without, without_partner=partner)
        if not any(without.iterdir()):
            continue
        run_pipeline(without, work / f"run_without_{partner}", previous=base)
        out["without_partner"][partner] = stability(base, work / f"run_without_{partner}", truth)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shares", type=float, nargs="+", default=[0.01, 0.05, 0.1, 0.2])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    add_commit_option(parser)
    args = parser.parse_args()
    source = _source_state(args.commit)  # before anything is measured: a copy that cannot say its commit stops here
    shutil.rmtree(WORK, ignore_errors=True)
    os.environ["MHGRAPH_AUDIT_LOG"] = str(WORK / "audit.log")
    results = {
        "benchmark": "history",
        "command": "python benchmarks/bench_history.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg(), "python": platform.python_version(),
                    "polars": pl.__version__, "note": "2 cores shared with other work; times are indicative"},
        "source": source,
        "datasets": {},
    }
    protocol = tomllib.loads(PROTOCOL.read_text(encoding="utf-8"))
    world = {"persons": protocol["persons"], "seed": protocol["validation"]["seeds"][0],
             "noise": protocol["validation"]["noise"][0]}
    results["validation_world"] = world
    validation = WORK / "validation_extracts"
    synthesize(validation, **world)
    for name, extracts in (("development", ROOT / "data" / "sample"), ("validation", validation)):
        results["datasets"][name] = measure(name, extracts, args.shares, args.seeds)
    results["machine"]["loadavg_after"] = os.getloadavg()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
