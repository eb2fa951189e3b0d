"""The whole pipeline (``mhgraph.run_pipeline``): time per stage, peak memory and quality.

Two parts, both written to ``benchmarks/results/pipeline.json``:

* **scale** — for each ``--persons`` N (default 5,000, 50,000 and 200,000) a synthetic set
  (``mhgraph.synth.synthesize(..., noise="medium")``) is generated into a temporary folder
  under ``benchmarks/work/`` and removed afterwards. ``run_pipeline`` runs in a fresh
  process, so that its peak resident memory (``ru_maxrss`` read inside that process right
  after the run) is that run's own. Recorded: wall time per stage (``run_manifest.json``),
  total wall time, peak memory, counts, and the evaluation against the ground truth.
* **resolver comparison** — on the committed ``data/sample`` and on synthetic sets of
  ``--compare-persons`` persons at noise ``low``, ``medium`` and ``high`` for each of
  ``--compare-seeds``: ``run_pipeline(..., resolver="full")`` against
  ``resolver="exact"`` (exact keyed identifiers only), each in a fresh process.

    .venv/bin/python benchmarks/bench_pipeline.py                        # everything
    .venv/bin/python benchmarks/bench_pipeline.py --persons 5000 --skip-compare
    .venv/bin/python benchmarks/bench_pipeline.py --skip-scale           # comparison only

A run is stopped after ``--timeout`` seconds and recorded as such. Entries already in the
results file that this invocation does not run are kept; each entry carries the command that
produced it. The parent process imports nothing heavy, so a child's peak memory is its own.
``MHGRAPH_AUDIT_LOG`` points into the temporary folder, so no audit log is written elsewhere.
The machine has 2 cores shared with other work: wall times are indicative, and the load
average before and after every run is recorded next to it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The mhgraph measured is ROOT's own: a copy (git archive) run with another checkout's
# environment would otherwise import that checkout's mhgraph through its editable install, which
# Python asks only after every folder on the path. ROOT goes last, so that a PYTHONPATH naming
# another mhgraph on purpose (rerank_kept_worlds.py, bench_indicators.py --code) still wins. Every
# benchmark that records its _source_state imports this module before mhgraph, its child scripts
# too; ``-c`` and ``-m`` children run in ROOT, which Python puts first on their path.
sys.path.append(str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "pipeline.json"
WORK = ROOT / "benchmarks" / "work"
SAMPLE = ROOT / "data" / "sample"
SAMPLE_SEED = 20261127  # data/sample is synthesize(persons=5000, seed=20261127, noise="medium")
NOISE_LEVELS = ("low", "medium", "high")
ER_TYPES = ("person", "company", "address", "permit")
DETECTION_KEYS = ("detection.recall_at_10", "detection.average_precision", "detection.decoys_in_top_10",
                  "detection.recall", "detection.planted_networks", "detection.decoy_networks",
                  "detection.flagged_clusters")

_SYNTH_CHILD = """
import json, resource, sys, time
from mhgraph.synth import synthesize
out, persons, seed, noise = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
start = time.perf_counter()
summary = synthesize(out, persons=persons, seed=seed, noise=noise)
print(json.dumps({"seconds": round(time.perf_counter() - start, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "rows": summary["rows"], "networks": summary["networks"]}))
"""

_PIPELINE_CHILD = """
import json, logging, resource, sys, time
import polars as pl
from mhgraph.evaluate import evaluate
from mhgraph.pipeline import run_pipeline
extracts, out, resolver = sys.argv[1], sys.argv[2], sys.argv[3]
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
start, cpu = time.perf_counter(), time.process_time()
result = run_pipeline(extracts, out, resolver=resolver)
wall, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before evaluation adds to it
tables = result.tables
counts = {"mentions": tables["mentions"].height, "relations": tables["relations"].height,
          "quarantined": tables["quarantine"].height, "entities": tables["nodes"].height,
          "clusters": tables["clusters"].height, "flagged_clusters": result.manifest["clusters_flagged"]}
start = time.perf_counter()
figures = evaluate(out, extracts + "/truth")
print(json.dumps({"wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "peak_rss_mb": round(peak, 1),
                  "counts": counts, "evaluation": figures,
                  "evaluation_seconds": round(time.perf_counter() - start, 2)}))
"""


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    versions = {name: importlib.metadata.version(name) for name in ("mhgraph", "polars", "igraph", "networkx")}
    return {"cpus": os.cpu_count(), "cpu_model": model, "platform": platform.platform(),
            "python": platform.python_version(), "memory_gb": round(os.sysconf("SC_PHYS_PAGES")
                                                                    * os.sysconf("SC_PAGE_SIZE") / 2**30, 1),
            **versions, "note": "2 cores shared with other work running at the same time; wall times are "
                                "indicative, the load averages next to each run say how busy the machine was"}


COMMIT_VARIABLE = "MHGRAPH_COMMIT"


def add_commit_option(parser: argparse.ArgumentParser) -> None:
    """The ``--commit`` option of every benchmark that records its :func:`_source_state`."""
    parser.add_argument("--commit", default=None,
                        help=f"the commit measured, for a copy without git history (git archive); default "
                             f"${COMMIT_VARIABLE}. Inside a git checkout its HEAD is recorded, and a commit given "
                             f"that is not HEAD stops the benchmark")


def _source_state(commit: str | None = None) -> dict:
    """Which code was measured: the commit and whether mhgraph/ had uncommitted changes.

    Inside a git checkout (this file's own: an unpacked copy may sit inside another repository)
    its HEAD. A commit given there (a benchmark's ``--commit``, else ``$MHGRAPH_COMMIT``) must be
    that HEAD, or the benchmark stops (``SystemExit``): a variable left exported would otherwise
    label every result with a commit whose code was not measured. A copy without git history
    (``git archive``) has to be told its commit, or the benchmark stops rather than record a
    result no one can trace; its changed files are then unknown (``None``). An ``mhgraph``
    imported from outside ROOT stops the benchmark too: the commit recorded would not be the code
    measured. Benchmarks call it first thing, so that they stop before generating or measuring
    anything.
    """
    import mhgraph

    if not Path(mhgraph.__file__).resolve().is_relative_to(ROOT.resolve()):
        sys.exit(f"mhgraph is imported from {Path(mhgraph.__file__).parent}, not from {ROOT}, whose commit would be "
                 f"recorded: import this benchmark's own bench_pipeline before mhgraph")
    def git(*args: str) -> str | None:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None
    given = commit or os.environ.get(COMMIT_VARIABLE)
    toplevel = git("rev-parse", "--show-toplevel")
    if not (toplevel and Path(toplevel).resolve() == ROOT.resolve()):
        if not given:
            sys.exit(f"{ROOT} is no git checkout: say which commit it is with --commit or ${COMMIT_VARIABLE}")
        return {"commit": given, "mhgraph_changed_files": None}
    head = git("rev-parse", "HEAD")
    if given and git("rev-parse", "--verify", "--quiet", f"{given}^{{commit}}") != head:
        origin = "--commit" if commit else f"${COMMIT_VARIABLE}"
        sys.exit(f"{origin} says commit {given}, but {ROOT} is a git checkout at {head}, which is what would be "
                 f"measured: leave {origin} out (unset {COMMIT_VARIABLE}) or check out {given}")
    return {"commit": head, "mhgraph_changed_files": git("status", "--porcelain", "--", "mhgraph").splitlines()}


def _child(code: str, args: list[str], env: dict, timeout: float, log_file: Path) -> dict:
    """Run ``code`` in a fresh interpreter; its last stdout line is its JSON result."""
    start = time.perf_counter()
    with log_file.open("w", encoding="utf-8") as stderr:
        try:
            proc = subprocess.run([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=stderr,
                                  text=True, env=env, cwd=ROOT, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc = None
    elapsed = round(time.perf_counter() - start, 1)
    log_tail = log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-5:]
    if proc is None:
        return {"status": f"stopped after the {timeout:.0f} s timeout", "elapsed_seconds": elapsed,
                "log_tail": log_tail}
    if proc.returncode != 0:
        why = "killed by signal %d (out of memory?)" % -proc.returncode if proc.returncode < 0 \
            else f"exit status {proc.returncode}"
        return {"status": f"failed: {why}", "elapsed_seconds": elapsed, "log_tail": log_tail}
    return {"status": "ok", "process_seconds": elapsed, **json.loads(proc.stdout.strip().splitlines()[-1])}


def _synthesize(folder: Path, persons: int, seed: int, noise: str, env: dict, timeout: float) -> dict:
    return _child(_SYNTH_CHILD, [str(folder), str(persons), str(seed), noise], env, timeout,
                  folder.parent / "synth.log")


def _figures(evaluation: dict) -> dict:
    """The evaluation figures this benchmark keeps (the full set is in the run's evaluation.json)."""
    keep = {f"er.{t}.{m}": evaluation.get(f"er.{t}.{m}") for t in ER_TYPES for m in ("precision", "recall", "f1")}
    return {**keep, **{key: evaluation.get(key) for key in DETECTION_KEYS}}


def _run_pipeline(extracts: Path, out: Path, resolver: str, env: dict, timeout: float) -> dict:
    load_before = _loadavg()
    result = _child(_PIPELINE_CHILD, [str(extracts), str(out), resolver], env, timeout,
                    out.parent / f"{out.name}.log")
    result["loadavg_before"], result["loadavg_after"] = load_before, _loadavg()
    if result["status"] == "ok":
        manifest = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
        result["stage_seconds"] = {stage: round(s, 2) for stage, s in manifest["seconds"].items()}
        result["evaluation"] = _figures(result["evaluation"])
    return result


def _environment(folder: Path) -> dict:
    return {**os.environ, "MHGRAPH_AUDIT_LOG": str(folder / "audit.log")}


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
            and p.name != "README.md"}


def scale_run(persons: int, seed: int, timeout: float, command: str, source: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"pipeline-{persons}-", dir=WORK) as tmp:
        folder, env = Path(tmp), _environment(Path(tmp))
        entry = {"command": command, "recorded": dt.datetime.now().isoformat(timespec="seconds"),
                 "persons": persons, "seed": seed, "noise": "medium", "source": source}
        entry["synth"] = _synthesize(folder / "extracts", persons, seed, "medium", env, timeout)
        if entry["synth"]["status"] == "ok":
            entry["delivered_bytes"] = sum(p.stat().st_size for p in (folder / "extracts").iterdir() if p.is_file())
            entry["pipeline"] = _run_pipeline(folder / "extracts", folder / "out", "full", env, timeout)
    return entry


def compare_set(label: str, extracts: Path | None, persons: int, seed: int, noise: str, timeout: float) -> dict:
    """Full against exact-key resolution on one set; ``extracts=None`` generates it first."""
    with tempfile.TemporaryDirectory(prefix="pipeline-compare-", dir=WORK) as tmp:
        folder, env = Path(tmp), _environment(Path(tmp))
        entry = {"set": label, "persons": persons, "seed": seed, "noise": noise}
        if extracts is None:
            extracts = folder / "extracts"
            entry["synth"] = _synthesize(extracts, persons, seed, noise, env, timeout)
            if entry["synth"]["status"] != "ok":
                return entry
            if (noise, persons, seed) == ("medium", 5000, SAMPLE_SEED):
                entry["identical_to_data_sample"] = _digests(extracts) == _digests(SAMPLE)
        for resolver in ("full", "exact"):
            entry[resolver] = _run_pipeline(extracts, folder / f"out-{resolver}", resolver, env, timeout)
    return entry


def read_json(path: Path):
    """What ``path`` holds as JSON, or None when there is no such file or it cannot be read (a
    stamp cut short).

    >>> read_json(Path("no such stamp.json")) is None
    True
    """
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def write_json_atomically(path: Path, record: dict) -> None:
    """Write ``record`` to ``path`` whole or not at all: a reader (or the next run) finds the
    old file or the new one, never one cut short by a crash or a full disk.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> write_json_atomically(folder / "stamp.json", {"persons": 20})
    >>> json.loads((folder / "stamp.json").read_text()), [p.name for p in folder.iterdir()]
    ({'persons': 20}, ['stamp.json'])
    """
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _save(report: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[5_000, 50_000, 200_000])
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED, help="seed of the scale sets")
    parser.add_argument("--compare-persons", type=int, default=5_000)
    parser.add_argument("--compare-seeds", type=int, nargs="+", default=[SAMPLE_SEED, 7])
    parser.add_argument("--timeout", type=float, default=1200, help="seconds before one run is stopped")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-compare", action="store_true")
    add_commit_option(parser)
    args = parser.parse_args(argv)
    source = _source_state(args.commit)  # before anything is generated: a copy that cannot say its commit stops here
    command = " ".join([".venv/bin/python benchmarks/bench_pipeline.py", *map(shlex.quote, (argv or sys.argv[1:]))])
    WORK.mkdir(parents=True, exist_ok=True)

    report = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.is_file() else {}
    report.update(benchmark="pipeline", machine=_machine())
    report.setdefault("scale", {})
    if not args.skip_scale:
        for persons in args.persons:
            print(f"scale: {persons} persons ...", file=sys.stderr, flush=True)
            report["scale"][str(persons)] = scale_run(persons, args.seed, args.timeout, command, source)
            report["scale"] = dict(sorted(report["scale"].items(), key=lambda item: int(item[0])))
            _save(report)
    if not args.skip_compare:
        comparison = {"command": command, "recorded": dt.datetime.now().isoformat(timespec="seconds"),
                      "source": source, "loadavg_before": _loadavg(), "sets": []}
        report["resolver_comparison"] = comparison
        print("compare: data/sample ...", file=sys.stderr, flush=True)
        comparison["sets"].append(compare_set("data/sample", SAMPLE, 5000, SAMPLE_SEED, "medium", args.timeout))
        _save(report)
        for seed in args.compare_seeds:
            for noise in NOISE_LEVELS:
                print(f"compare: noise {noise}, seed {seed} ...", file=sys.stderr, flush=True)
                comparison["sets"].append(compare_set(f"synth {noise} seed {seed}", None, args.compare_persons,
                                                      seed, noise, args.timeout))
                _save(report)
        comparison["loadavg_after"] = _loadavg()
    report["parent_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    _save(report)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
