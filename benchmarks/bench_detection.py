"""Detection quality by the protocol in ``benchmarks/detection_protocol.toml``.

For every world of the protocol (development and validation seeds, each at the protocol's
noise levels) the benchmark generates the synthetic partner data with ``mhgraph synth``
(delivered through ``mhgraph pseudonymise``, as synth does) outside the timed part, runs
``mhgraph run`` on it with the shipped defaults in a fresh process (timed), and scores the run
against the truth (``mhgraph.evaluate``). On the worlds the protocol names, it also reruns the
run with each partner left out and with each alone (``mhgraph evaluate --ablate-partners``).

Written to ``benchmarks/results/detection.json``, per split (development, validation):

* recall@10 (planted networks found by a top-10 flagged cluster, pooled over the worlds),
  average precision (mean over the worlds), lawful look-alikes and other false positives in
  the top 10 (mean and maximum per world), the whole network as denominator;
* the typology × strength table, and recall per strength and per typology;
* the EU/non-EU comparison at equal strength (typologies that occur with both origins);
* per look-alike kind, and per origin of its persons, how many showed up in the top 10;
* the puzzle table: recall@10 and AP with all partners, each alone and each left out;
* per world: the figures, the seconds of generation and run, the load average.

    .venv/bin/python benchmarks/bench_detection.py                           # the whole protocol
    .venv/bin/python benchmarks/bench_detection.py --split development       # development worlds only
    .venv/bin/python benchmarks/bench_detection.py --split development --skip-ablation --limit 2
    .venv/bin/python benchmarks/bench_detection.py --split development --skip-ablation --reuse  # kept worlds

The result records the commit measured: the checkout's HEAD (a different ``--commit`` or
``$MHGRAPH_COMMIT`` stops it at once), or for a copy without git history (``git archive``)
``--commit`` or ``$MHGRAPH_COMMIT``; such a copy without either stops at once.
Results of a split this invocation does not run are kept in the file. ``--limit N`` runs the
first N worlds of a split (for a quick look; such a result is marked partial). Generated
worlds go to ``benchmarks/work/detection/`` and are removed after scoring unless ``--keep``;
``--reuse`` runs the kept extracts of a world again instead of generating it (to compare two
rulesets on the very same worlds). A world is reused only while its stamp (``world.json``,
written whole once its generation finished) names the persons, seed and noise asked for and the
digest of this checkout's generator code; any other kept world (another persons count, other
synth code, a generation cut short, extracts made by hand with ``mhgraph synth``) is generated
again, which the progress line says and the world's ``reused`` records.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import polars as pl

from bench_pipeline import _loadavg, _machine, _source_state, add_commit_option, read_json, write_json_atomically
from bench_scale import _generator_digest
from mhgraph.evaluate import (FOUND_SHARE, evaluate, grouped_figures, match_networks, network_outcomes,
                              partner_ablation, read_run_and_truth)
from mhgraph.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = ROOT / "benchmarks" / "detection_protocol.toml"
RESULTS = ROOT / "benchmarks" / "results" / "detection.json"
WORK = ROOT / "benchmarks" / "work" / "detection"
SPLITS = ("development", "development_added", "development_hidden", "validation")


def load_protocol(path: Path = PROTOCOL) -> dict:
    protocol = tomllib.loads(path.read_text(encoding="utf-8"))
    if protocol["found_share"] != FOUND_SHARE:
        sys.exit(f"{path}: found_share {protocol['found_share']} differs from mhgraph.evaluate.FOUND_SHARE {FOUND_SHARE}")
    return protocol


def worlds(protocol: dict, split: str) -> list[dict]:
    part = protocol[split]
    return [{"split": split, "seed": seed, "noise": noise, "ablation": noise in part.get("ablation_noise", [])}
            for noise in part["noise"] for seed in part["seeds"]]


def run_world(world: dict, persons: int, k: int, ablate: bool, keep: bool,
              reuse: bool = False) -> tuple[dict, pl.DataFrame, list]:
    """Generate (or with ``reuse`` take the kept extracts of), run and score one world; returns its
    figures, its network outcomes and, with ``ablate``, the partner ablation (configuration,
    summary, outcomes)."""
    folder = WORK / f"{world['split']}-{world['seed']}-{world['noise']}"
    extracts, run = folder / "extracts", folder / "run"
    start = time.perf_counter()
    reused = prepare_world(folder, persons, world["seed"], world["noise"], reuse)
    synth_seconds = time.perf_counter() - start
    env = {**os.environ, "MHGRAPH_AUDIT_LOG": str(folder / "audit.log")}
    load_before = _loadavg()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mhgraph.cli", "--quiet", "run", str(extracts), "--out", str(run)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    run_seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"mhgraph run failed on {folder}: {proc.stderr.strip()[-2000:]}")
    figures = evaluate(run, extracts / "truth", k=k, write=False)
    outcomes = _outcomes(run, extracts / "truth")
    ablation = []
    if ablate:
        for name, result in partner_ablation(run, extracts / "truth", k=k).items():
            summary = {key: value for key, value in result.items() if key != "outcomes"}
            ablation.append((name, summary, result["outcomes"]))
    record = {
        **world, "persons": persons, "reused": reused,
        "synth_seconds": round(synth_seconds, 2), "run_seconds": round(run_seconds, 2),
        "load_before": load_before, "load_after": _loadavg(),
        "figures": {key.removeprefix("detection."): figures[key] for key in (
            f"detection.recall_at_{k}", "detection.recall", "detection.average_precision",
            f"detection.decoys_in_top_{k}", f"detection.false_positives_in_top_{k}", "detection.flagged_clusters",
            "detection.planted_networks", "detection.decoy_networks", "er.person.f1", "er.address.f1")},
        "networks": outcomes.to_dicts(),
        "ablation": {name: summary for name, summary, _ in ablation},
    }
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return record, outcomes, ablation


def prepare_world(folder: Path, persons: int, seed: int, noise: str, reuse: bool) -> bool:
    """Generate the world's extracts into ``folder/extracts`` and stamp them, or with ``reuse``
    keep those there when their stamp is for these parameters and this generator code; returns
    whether they were kept. The stamp is written last, so a generation cut short has none."""
    stamp, wanted = folder / "world.json", {"persons": persons, "seed": seed, "noise": noise,
                                            "generator": _generator_digest()}
    if reuse:
        kept = read_json(stamp)
        if kept == wanted:
            shutil.rmtree(folder / "run", ignore_errors=True)
            return True
        print(f"  {folder.name} is not kept for {wanted} (its stamp: {kept}): generating it again",
              file=sys.stderr, flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    synthesize(folder / "extracts", persons=persons, seed=seed, noise=noise)
    write_json_atomically(stamp, wanted)
    return False


def _outcomes(run: Path, truth: Path) -> pl.DataFrame:
    return network_outcomes(match_networks(*read_run_and_truth(run, truth)))


def _pooled(outcomes: pl.DataFrame, records: list[dict], k: int) -> dict:
    """Recall pooled over the worlds' networks; AP and top-k counts per world, then averaged."""
    planted = outcomes.filter(pl.col("kind") == "planted")
    per_world = [r["figures"] for r in records]

    def spread(key):
        values = [f[key] for f in per_world if f[key] is not None]
        return {"mean": round(sum(values) / len(values), 4), "min": min(values), "max": max(values)} if values else None

    return {
        "worlds": len(records),
        "planted_networks": planted.height,
        f"recall_at_{k}": round(float((planted["rank"] <= k).sum()) / planted.height, 4) if planted.height else None,
        "recall": round(float(planted["rank"].is_not_null().sum()) / planted.height, 4) if planted.height else None,
        "average_precision": spread("average_precision"),
        f"decoys_in_top_{k}": spread(f"decoys_in_top_{k}"),
        f"false_positives_in_top_{k}": spread(f"false_positives_in_top_{k}"),
        "lost_before_ranking": int((planted["coverage"] < FOUND_SHARE).sum()),
    }


def _tables(outcomes: pl.DataFrame, k: int) -> dict:
    figures = grouped_figures(outcomes, k)
    table: dict[str, dict] = {}
    for key, value in figures.items():
        if key.startswith("detection.by_typology_strength."):
            typology, strength, figure = key.removeprefix("detection.by_typology_strength.").split(".")
            table.setdefault(typology, {}).setdefault(strength, {})[figure] = value
    return {
        "by_strength": {key.split(".")[2]: value for key, value in figures.items()
                        if key.startswith("detection.by_strength.") and key.endswith(f"recall_at_{k}")},
        "by_typology": {key.split(".")[2]: value for key, value in figures.items()
                        if key.startswith("detection.by_typology.") and key.endswith(f"recall_at_{k}")},
        "typology_strength": table,
        "fairness": {key.removeprefix("fairness."): value for key, value in figures.items()
                     if key.startswith("fairness.")},
    }


def _lookalikes(outcomes: pl.DataFrame, k: int) -> dict:
    """Per look-alike kind and per origin of its persons: how many there were and how many
    showed up in the top k (a top-k cluster finds it or is made of it)."""
    decoys = outcomes.filter(pl.col("kind") == "decoy").with_columns(shown=pl.col("belongs_rank") <= k)
    out = {}
    for name, by in (("by_kind", "typology"), ("by_origin", "origin")):
        table = decoys.group_by(by).agg(networks=pl.len(), **{f"in_top_{k}": pl.col("shown").sum()}).sort(by)
        out[name] = {row[by]: {key: row[key] for key in ("networks", f"in_top_{k}")} for row in table.iter_rows(named=True)}
    return out


def _puzzle(ablations: list[tuple[str, dict, pl.DataFrame]], k: int) -> dict:
    out = {}
    for name in dict.fromkeys(name for name, _, _ in ablations):
        summaries = [s for n, s, _ in ablations if n == name]
        planted = pl.concat([o for n, _, o in ablations if n == name]).filter(pl.col("kind") == "planted")
        aps = [s["average_precision"] for s in summaries if s["average_precision"] is not None]
        out[name] = {
            "partners": summaries[0]["partners"], "worlds": len(summaries),
            f"recall_at_{k}": round(float((planted["rank"] <= k).sum()) / planted.height, 4),
            "average_precision": round(sum(aps) / len(aps), 4) if aps else None,
            f"decoys_in_top_{k}_mean": round(sum(s[f"decoys_in_top_{k}"] for s in summaries) / len(summaries), 2),
        }
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="all")
    parser.add_argument("--protocol", type=Path, default=PROTOCOL)
    parser.add_argument("--skip-ablation", action="store_true", help="no partner ablation (no puzzle table)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N worlds of each split")
    parser.add_argument("--keep", action="store_true", help="keep the generated worlds and runs")
    parser.add_argument("--reuse", action="store_true", help="run kept worlds again instead of generating them")
    parser.add_argument("--results", type=Path, default=RESULTS)
    add_commit_option(parser)
    args = parser.parse_args(argv)
    source = _source_state(args.commit)  # before any world is generated: a copy that cannot say its commit stops here
    protocol = load_protocol(args.protocol)
    k, persons = protocol["k"], protocol["persons"]
    results = json.loads(args.results.read_text()) if args.results.is_file() else {}
    results.update({"benchmark": "detection", "machine": _machine()})
    results.setdefault("splits", {})
    for split in (SPLITS if args.split == "all" else (args.split,)):
        chosen = worlds(protocol, split)[: args.limit]
        records, outcomes, ablations, started = [], [], [], time.perf_counter()
        for i, world in enumerate(chosen, start=1):
            print(f"{split} {i}/{len(chosen)}: seed {world['seed']}, noise {world['noise']}", file=sys.stderr, flush=True)
            record, outcome, ablation = run_world(world, persons, k, world["ablation"] and not args.skip_ablation,
                                                  args.keep or args.reuse, args.reuse)
            records.append(record)
            outcomes.append(outcome.with_columns(seed=pl.lit(world["seed"]), noise=pl.lit(world["noise"])))
            ablations += ablation
            print(f"  recall@{k} {record['figures'][f'recall_at_{k}']}, AP {record['figures']['average_precision']}, "
                  f"look-alikes in top {k}: {record['figures'][f'decoys_in_top_{k}']}", file=sys.stderr, flush=True)
        pooled = pl.concat(outcomes)
        results["splits"][split] = {
            "command": shlex.join(["python", "benchmarks/bench_detection.py", *(argv if argv is not None else sys.argv[1:])]),
            "recorded": dt.datetime.now().isoformat(timespec="seconds"), "reused_worlds": args.reuse,
            "source": source,
            "protocol": {"file": str(args.protocol.relative_to(ROOT)) if args.protocol.is_relative_to(ROOT)
                         else str(args.protocol), "version": protocol["version"],
                         "sha256": hashlib.sha256(args.protocol.read_bytes()).hexdigest(), "persons": persons,
                         "partial": len(chosen) < len(worlds(protocol, split))},
            "seconds": round(time.perf_counter() - started, 1),
            "summary": _pooled(pooled, records, k),
            **_tables(pooled, k),
            "lookalikes": _lookalikes(pooled, k),
            "puzzle": _puzzle(ablations, k) if ablations else None,
            "worlds": records,
        }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
