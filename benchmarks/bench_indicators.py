"""The indicators stage rule by rule: time, memory and hits, for the code of any revision.

Reads the stage tables that ``bench_scale_stages.py`` leaves under
``benchmarks/work/scale/stages-<persons>-<resolver>/`` (``nodes``, ``edges``, ``communities``,
``identity_conflicts``; run it first with ``--stages ingest resolve graph detect``) and, in a
fresh process, runs every rule alone as ``compute_indicators`` runs it (full and weak level,
with the run purpose's allowed purposes), then all rules together (``--together``: only
that). Per rule it records wall and CPU seconds, the resident memory before (``input_mb``) and
the peak above it, the hits and a digest of its hits table; the same digest means the same rows
and reasons. A run whose memory passes ``--memory-limit-gb`` is stopped and recorded as such.

``--code REV`` measures the ``mhgraph`` of a git revision (exported to a temporary folder)
instead of this checkout's, so that the code before and after a change runs on the same tables;
the hits of all rules together are kept next to the tables (``indicator_hits-<label>.parquet``).
Results go to ``benchmarks/results/indicators.json`` under ``"<persons> <resolver>"`` and the
label (``--label``, default the revision or ``checkout``), with the load averages around the run.

    .venv/bin/python benchmarks/bench_indicators.py --persons 100000 --code main --label before
    .venv/bin/python benchmarks/bench_indicators.py --persons 100000 --label after
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_pipeline import _machine, _source_state, add_commit_option
from bench_scale import ROOT, WORK
from bench_scale_stages import PeakSampler, _rss_mb

RESULTS = ROOT / "benchmarks" / "results" / "indicators.json"


def digest(hits) -> str:
    """A digest of a hits table's rows in its order (lists and dates included)."""
    return hashlib.sha256(repr(hits.rows()).encode()).hexdigest()[:16]


def measure_child(folder: Path, limit_gb: float, label: str, each_rule: bool) -> None:
    """Inside the fresh process: every rule alone (``each_rule``), then all together; prints one JSON line."""
    import polars as pl

    from mhgraph.indicators import INDICATORS, compute_indicators
    from mhgraph.purpose import DEFAULT_RUN_PURPOSE, allowed_source_purposes

    figures: dict[str, dict] = {}

    def stop(peak: float) -> None:
        print(json.dumps({"status": f"stopped: memory above {limit_gb} GB", "peak_mb": round(peak),
                          "rules": figures}), flush=True)
        os._exit(3)

    sampler = PeakSampler(limit_gb * 1024, stop)
    sampler.start()
    nodes, edges, communities, conflicts = (pl.read_parquet(folder / f"{name}.parquet") for name in
                                            ("nodes", "edges", "communities", "identity_conflicts"))
    allowed = allowed_source_purposes(DEFAULT_RUN_PURPOSE)

    def measured(part: str, names: list[str] | None) -> pl.DataFrame:
        sampler.reset()
        base, start, cpu = _rss_mb(), time.perf_counter(), time.process_time()
        hits = compute_indicators(nodes, edges, communities, allowed_purposes=allowed, indicators=names,
                                  identity_conflicts=conflicts)
        figures[part] = {"wall_seconds": round(time.perf_counter() - start, 2),
                         "cpu_seconds": round(time.process_time() - cpu, 2), "input_mb": round(base),
                         "peak_above_input_mb": round(sampler.peak - base), "hits": hits.height,
                         "digest": digest(hits)}
        return hits

    for name in INDICATORS if each_rule else ():
        measured(name, [name])
    measured("all rules", None).write_parquet(folder / f"indicator_hits-{label}.parquet")
    print(json.dumps({"status": "ok", "nodes": nodes.height, "edges": edges.height, "rules": figures}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--resolver", choices=("full", "exact"), default="exact")
    parser.add_argument("--code", help="a git revision whose mhgraph to measure (default: this checkout)")
    parser.add_argument("--label", help="the name of this measurement (default: the revision, or 'checkout')")
    parser.add_argument("--memory-limit-gb", type=float, default=3.0)
    parser.add_argument("--together", action="store_true", help="only all rules together, not every rule alone")
    add_commit_option(parser)
    args = parser.parse_args(argv)
    # before the measurement: a copy that cannot say its commit stops here
    source = ({"revision": args.code, "commit": subprocess.run(["git", "rev-parse", args.code], cwd=ROOT,
                                                               capture_output=True, text=True).stdout.strip()}
              if args.code else _source_state(args.commit))
    folder = WORK / f"stages-{args.persons}-{args.resolver}"
    if not (folder / "communities.parquet").is_file():
        raise SystemExit(f"no stage tables in {folder}: run bench_scale_stages.py --persons {args.persons} "
                         f"--resolver {args.resolver} --stages ingest resolve graph detect first")
    label = args.label or args.code or "checkout"
    with tempfile.TemporaryDirectory(prefix="bench-indicators-") as code_dir:
        env = dict(os.environ)
        if args.code:  # the package of that revision, ahead of this checkout's on the path
            archive = subprocess.run(["git", "archive", args.code, "mhgraph"], cwd=ROOT, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", code_dir], input=archive.stdout, check=True)
            env["PYTHONPATH"] = os.pathsep.join([code_dir, env.get("PYTHONPATH", "")])
        load_before = [round(x, 2) for x in os.getloadavg()]
        proc = subprocess.run([sys.executable, __file__, "--child", str(folder), str(args.memory_limit_gb), label,
                               str(not args.together)],
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent, env=env)
    lines = proc.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"status": f"failed: exit status {proc.returncode}"}
    report = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    report.setdefault("runs", {}).setdefault(f"{args.persons} {args.resolver}", {})[label] = {
        **result, "command": "python benchmarks/bench_indicators.py " + shlex.join(argv or sys.argv[1:]),
        "recorded": dt.datetime.now().isoformat(timespec="seconds"), "memory_limit_gb": args.memory_limit_gb,
        "loadavg_before": load_before, "loadavg_after": [round(x, 2) for x in os.getloadavg()], "source": source}
    report["machine"] = _machine()
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    for part, row in result.get("rules", {}).items():
        print(f"{part:28s} wall {row['wall_seconds']:7.2f} cpu {row['cpu_seconds']:7.2f} "
              f"peak +{row['peak_above_input_mb']:5d} MB hits {row['hits']:6d} {row['digest']}")
    print(result["status"])
    return 0 if result["status"] == "ok" else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        measure_child(Path(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5] == "True")
    else:
        sys.exit(main())
