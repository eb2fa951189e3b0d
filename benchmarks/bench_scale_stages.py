"""The pipeline's stages one at a time, each in a fresh process: what each stage itself needs.

``bench_scale.py`` measures one whole run, whose memory at any moment includes every table the
earlier stages left behind. This script runs each stage in a fresh process that reads the
previous stages' tables from Parquet under ``benchmarks/work/scale/stages-<persons>-<resolver>/``
and writes its own there, so that per stage it records the memory of its input tables
(``input_mb``, after reading them), its own peak above them, wall and CPU seconds, and the log
lines of mhgraph with the resident memory at each (``<stage>.log`` next to the tables). Ingest
streams to Parquet; resolve reads each entity type's mention columns from a scan when that
type's turn comes and graph reads the mention columns it needs and the relations a column at a time
from scans, as ``mhgraph run`` hands them over (``mhgraph.pipeline.scan_of``); detect reads only its columns
of the graph's tables, as the run's detection process does (``mhgraph.pipeline.detect_stored``). With
``--each-indicator`` the indicators stage also runs every rule alone. A stage whose memory passes
``--memory-limit-gb`` is stopped and recorded as such. The data is that of ``bench_scale.py``
(same cache, same parts). Results go to ``benchmarks/results/scale.json`` under ``stages``.

    .venv/bin/python benchmarks/bench_scale_stages.py --persons 1000000 --memory-limit-gb 11
    .venv/bin/python benchmarks/bench_scale_stages.py --persons 1000000 --resolver exact --stages resolve graph detect
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_pipeline import _machine, _source_state, add_commit_option
from bench_scale import RESULTS, SEED, WORK, prepare

STAGES = ("ingest", "resolve", "graph", "detect", "indicators")
SEED_DETECT = 42  # the seed of `mhgraph run`


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakSampler(threading.Thread):
    """Peak resident memory of this process since the last ``reset``; exits the process above the limit."""

    def __init__(self, limit_mb: float, on_limit):
        super().__init__(daemon=True)
        self.limit_mb, self.on_limit, self.peak = limit_mb, on_limit, _rss_mb()

    def reset(self) -> None:
        self.peak = _rss_mb()

    def run(self) -> None:
        while True:
            self.peak = max(self.peak, _rss_mb())
            if self.peak > self.limit_mb:
                self.on_limit(self.peak)
            time.sleep(0.02)


def run_stage(stage: str, folder: Path, resolver: str, limit_gb: float, each_indicator: bool) -> None:
    """Inside the fresh process: one stage from Parquet to Parquet; prints one JSON line."""
    import logging

    import polars as pl

    figures: dict[str, dict] = {}

    def stop(peak: float) -> None:
        print(json.dumps({"status": f"stopped: memory above {limit_gb} GB", "peak_mb": round(peak), "parts": figures}),
              flush=True)
        os._exit(3)

    sampler = PeakSampler(limit_gb * 1024, stop)
    sampler.start()

    class MemoryLog(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            print(f"{time.strftime('%H:%M:%S')} rss {_rss_mb():.0f} MB peak {sampler.peak:.0f} MB "
                  f"{record.name}: {record.getMessage()}", file=sys.stderr, flush=True)

    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger().addHandler(MemoryLog())

    def read(*names: str) -> list[pl.DataFrame]:
        return [pl.read_parquet(folder / f"{name}.parquet") for name in names]

    def measured(part: str, work):
        sampler.reset()
        base, start, cpu = _rss_mb(), time.perf_counter(), time.process_time()
        out = work()
        figures[part] = {"wall_seconds": round(time.perf_counter() - start, 1),
                         "cpu_seconds": round(time.process_time() - cpu, 1), "input_mb": round(base),
                         "peak_mb": round(sampler.peak), "peak_above_input_mb": round(sampler.peak - base)}
        return out

    from mhgraph.purpose import DEFAULT_RUN_PURPOSE, allowed_source_purposes
    if stage == "ingest":
        from mhgraph.ingest import ingest
        from mhgraph.spec import load_specs
        # streamed to Parquet as `mhgraph run` does; the tables are moved next to the other stages' ones
        ingested = measured("ingest", lambda: ingest(folder / "input", specs=load_specs(),
                                                     run_purpose=DEFAULT_RUN_PURPOSE, out_dir=folder / "ingested"))
        for name, path in ingested.paths.items():
            path.replace(folder / f"{name}.parquet")
        out = {}
    elif stage == "resolve":
        from mhgraph.pipeline import needed, resolver_columns, scan_of
        from mhgraph.resolve import IdentityConflicts, resolve, resolve_baseline
        # the hand-over of `mhgraph run`: a scan of the columns the resolver reads, which it reads per entity type
        mentions = scan_of(pl.scan_parquet(folder / "mentions.parquet"), resolver_columns(None, resolver))
        if resolver == "exact":
            out = {"resolution": measured("resolve", lambda: resolve_baseline(mentions)),
                   "identity_conflicts": IdentityConflicts.none().table}
        else:
            relations = needed(pl.scan_parquet(folder / "relations.parquet"), ("type", "from_mention", "to_mention"))
            # as the run does: each type's matches written next to the tables once it is clustered
            resolved = measured("resolve", lambda: resolve(mentions, relations, matches_file=folder / "matches.parquet"))
            out = {"resolution": resolved.resolution, "identity_conflicts": resolved.identity_conflicts}
    elif stage == "graph":
        from mhgraph.graph import MENTION_COLUMNS, build_graph_tables
        from mhgraph.pipeline import scan_of
        # as `mhgraph run` hands them over: scans of the mentions' graph columns and of the relations
        mentions = scan_of(pl.scan_parquet(folder / "mentions.parquet"), MENTION_COLUMNS)
        relations, (resolution,) = pl.scan_parquet(folder / "relations.parquet"), read("resolution")
        nodes, edges = measured("graph", lambda: build_graph_tables(mentions, relations, resolution))
        out = {"nodes": nodes, "edges": edges}
    elif stage == "detect":
        from mhgraph.partition import DEFAULT_UNIT_SIZE
        from mhgraph.pipeline import detect_stored
        # as the run's detection process does: only its columns, read from the graph's tables
        out = {"communities": measured("detect", lambda: detect_stored(folder, seed=SEED_DETECT, partitions=None,
                                                                       unit_size=DEFAULT_UNIT_SIZE))}
    else:
        from mhgraph.indicators import INDICATORS, compute_indicators
        nodes, edges, communities, conflicts = read("nodes", "edges", "communities", "identity_conflicts")
        allowed = allowed_source_purposes(DEFAULT_RUN_PURPOSE)
        for name in INDICATORS if each_indicator else ():
            measured(f"indicator {name}", lambda: compute_indicators(
                nodes, edges, communities, allowed_purposes=allowed, indicators=[name], identity_conflicts=conflicts))
        out = {"indicator_hits": measured("indicators", lambda: compute_indicators(
            nodes, edges, communities, allowed_purposes=allowed, identity_conflicts=conflicts))}
    for name, table in out.items():
        table.write_parquet(folder / f"{name}.parquet")
    print(json.dumps({"status": "ok", "rows": {name: table.height for name, table in out.items()}, "parts": figures}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--part-persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--resolver", choices=("full", "exact"), default="full")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES),
                        help="the stages to run (the earlier ones' tables must be there from a previous call)")
    parser.add_argument("--memory-limit-gb", type=float, default=11.0)
    parser.add_argument("--each-indicator", action="store_true", help="also run every indicator rule alone")
    add_commit_option(parser)
    args = parser.parse_args(argv)
    source = _source_state(args.commit)  # before any data is prepared: a copy that cannot say its commit stops here
    command = "python benchmarks/bench_scale_stages.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    folder = WORK / f"stages-{args.persons}-{args.resolver}"
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "input").is_symlink():
        (folder / "input").unlink()
    (folder / "input").symlink_to(prepare(args.persons, args.part_persons, args.seed))
    report = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"runs": {}}
    entry = report.setdefault("stages", {}).setdefault(f"{args.persons} {args.resolver}", {})
    for stage in args.stages:
        load_before = [round(x, 2) for x in os.getloadavg()]
        with (folder / f"{stage}.log").open("w") as log:
            proc = subprocess.run([sys.executable, __file__, "--child", stage, str(folder), args.resolver,
                                   str(args.memory_limit_gb), str(args.each_indicator)],
                                  stdout=subprocess.PIPE, stderr=log, text=True, cwd=Path(__file__).parent)
        lines = proc.stdout.strip().splitlines()
        result = json.loads(lines[-1]) if lines else {"status": f"failed: exit status {proc.returncode}"}
        entry[stage] = {**result, "command": command, "recorded": dt.datetime.now().isoformat(timespec="seconds"),
                        "loadavg_before": load_before, "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                        "source": source}
        report["machine"] = _machine()
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        print(stage, json.dumps({k: entry[stage].get(k) for k in ("status", "parts")}), flush=True)
        if result["status"] != "ok":
            break
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        stage, folder, resolver, limit, each = sys.argv[2:7]
        run_stage(stage, Path(folder), resolver, float(limit), each == "True")
    else:
        sys.exit(main())
