"""The whole pipeline at national scale: time and peak memory per stage at 1M and 5M persons.

The synthetic population is generated outside the timed part and cached under
``benchmarks/work/scale/`` (regenerated when the generator's source or the parameters change).
One ``mhgraph.synth.synthesize`` call for 1M persons takes about 4 minutes and 5 GB, so a larger
population is built from independent **parts** of ``--part-persons`` each, every part in a
fresh process:

* part 0 is ``synthesize(persons=P, seed=SEED)`` as it is (with its ground truth), so the
  1M-person set is an ordinary synthetic set that ``mhgraph evaluate`` can score;
* part ``k > 0`` is ``synthesize(persons=P, seed=SEED + k, key_seed=SEED)``: the same
  pseudonymisation key, so names, dates of birth and match keys compare across parts as they
  would in one population (namesakes included), while every exact identifier (BSN, V-number,
  KvK and wage-tax numbers, address and building keys, permit numbers) and every record id is
  made part-specific, so that parts share no person, company or address by accident. Its
  files are named ``<extract>.part<k>.<ext>`` with their own sidecar.

A run of N persons reads a folder of links to the first N / P parts' files. It runs
``mhgraph.run_pipeline`` in a fresh process that samples the resident memory of itself and
every process it starts (worker processes included) every 50 ms, and keeps per stage: wall
seconds, CPU seconds and peak resident memory (of the whole process tree, and the peaks of the
main process and of its workers, each on its own). A run whose memory passes ``--memory-limit-gb``
is stopped and recorded as such, with the stage it was in. The load average before and after
and the mean load during the run are recorded with every entry; results go to
``benchmarks/results/scale.json`` (entries this invocation does not run are kept).

    .venv/bin/python benchmarks/bench_scale.py --persons 1000000
    .venv/bin/python benchmarks/bench_scale.py --persons 5000000 --memory-limit-gb 16
    .venv/bin/python benchmarks/bench_scale.py --persons 100000 --part-persons 100000   # a quick look
    .venv/bin/python benchmarks/bench_scale.py --persons 5000000 --prepare-only         # data only
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_pipeline import _machine, _source_state, add_commit_option, read_json, write_json_atomically
from code_closure import imported_files

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "scale.json"
WORK = ROOT / "benchmarks" / "work" / "scale"
SEED = 20261127
NOISE = "medium"
SAMPLE_SECONDS = 0.05


# -- the data, generated outside the timed part ------------------------------------------------

# What the generator and make_part_specific import; resolve only compares filters (crypto.dice),
# so a change there leaves the generated data as it was.
_GENERATOR_MODULES = ("mhgraph.synth", "mhgraph.ingest.matching", "mhgraph.pseudonymise", "mhgraph.spec")


def generator_files() -> list[Path]:
    """The files that shape the generated parts: every mhgraph module the generator loads
    (:func:`code_closure.imported_files`: normalise, spec, reference, ingest, ... besides
    ``mhgraph/synth``) and the data they read (the generator's vocabularies, the specs, the
    diminutives behind ``given_name_bf``)."""
    package = ROOT / "mhgraph"
    data = [path for folder in (package / "synth" / "data", package / "specs", package / "data")
            for path in folder.rglob("*") if path.is_file()]
    return sorted(imported_files(ROOT, _GENERATOR_MODULES, later=("mhgraph.resolve",)) + data)


def _generator_digest() -> str:
    """Changes when the synthetic generator or this preparation changes: the cache is then stale."""
    digest = hashlib.sha256((inspect.getsource(make_part_specific) + _PART_CHILD).encode())
    for path in generator_files():
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _part_tag(part: int) -> str:
    return f"part{part}"


def make_part_specific(folder: Path, part: int) -> None:
    """Rewrite the delivered extracts of ``folder`` so that they share no identifier with other parts.

    Every exact identifier becomes a keyed hash of itself and the part (same 32-hex shape); the
    partner's own identifiers (record ids, permit numbers) get the part appended. Bloom filters,
    match keys and everything else stay as they are. Files are renamed ``<stem>.part<k><ext>``.
    """
    import polars as pl

    from mhgraph.ingest.matching import read_sidecar
    from mhgraph.pseudonymise import META_SUFFIX
    from mhgraph.spec import ENTITY_FIELDS, load_specs

    tag = _part_tag(part)
    salt = hashlib.sha256(f"mhgraph scale benchmark, {tag}".encode()).digest()

    def rehash(value: str | None) -> str | None:
        return None if value is None else hashlib.blake2b(value.encode(), key=salt, digest_size=16).hexdigest()

    specs = {spec.name: spec for spec in load_specs()}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(META_SUFFIX)):
        meta = read_sidecar(path)
        spec = specs[meta["source"]]
        hashed = {col for block in spec.entities for field, col in block.fields.items()
                  if ENTITY_FIELDS[block.type][field] == "hash" and not field.startswith("match_key")}
        own = {spec.record_id} | {col for block in spec.entities for field, col in block.fields.items()
                                  if ENTITY_FIELDS[block.type][field] == "id"}
        excel = path.suffix.lower() == ".xlsx"
        frame = pl.read_excel(path, infer_schema_length=0) if excel else \
            pl.read_csv(path, infer_schema=False, separator=spec.delimiter or ",")
        frame = frame.with_columns(
            *(pl.col(c).map_elements(rehash, return_dtype=pl.String) for c in hashed if c in frame.columns),
            *(pl.col(c) + tag for c in own if c in frame.columns),
        )
        target = path.with_name(f"{path.stem}.{tag}{path.suffix}")
        if excel:
            frame.write_excel(target)
        else:
            frame.write_csv(target, separator=spec.delimiter or ",")
        Path(str(target) + META_SUFFIX).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        path.unlink()
        Path(str(path) + META_SUFFIX).unlink()


_PART_CHILD = """
import json, resource, shutil, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[5])
from bench_scale import make_part_specific
from mhgraph.synth import synthesize
out, persons, part, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
start = time.perf_counter()
summary = synthesize(out, persons=persons, seed=seed + part, noise="%s", key_seed=seed)
if part:
    shutil.rmtree(out / "truth")  # its ids are no longer those of the extracts
    make_part_specific(out, part)
print(json.dumps({"seconds": round(time.perf_counter() - start, 1), "rows": summary["rows"],
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
""" % NOISE


def _stamp_holds(stamp: dict, wanted: dict) -> bool:
    """The stamp is for these parameters, from this generator or one shown to write the same bytes.

    ``equivalent_generators`` lists digests of later generator code whose output was compared
    byte for byte with the stamped one's (the generator's own files changed, its output did not).
    """
    stamped = stamp["parameters"]
    if stamped == wanted:
        return True
    same_but_generator = {**stamped, "generator": wanted["generator"]} == wanted
    return same_but_generator and wanted["generator"] in stamp.get("equivalent_generators", [])


def _read_stamp(stamp: Path) -> dict | None:
    """The stamp of a finished part, or None when there is none or it cannot be read."""
    recorded = read_json(stamp)
    return recorded if isinstance(recorded, dict) and "parameters" in recorded else None


def prepare_part(part: int, part_persons: int, seed: int, regenerate: bool = False) -> Path:
    """The folder of part ``part``, generated in a fresh process unless a current copy is cached.

    A part is generated into a side folder, stamped (whole or not at all) when complete and then
    moved into place, so a folder in place always has its stamp; one without a readable stamp is
    left from an unfinished generation and is made again.
    """
    folder = WORK / f"parts-{part_persons}-{seed}" / _part_tag(part)
    stamp = folder.with_suffix(".json")
    wanted = {"persons": part_persons, "seed": seed, "part": part, "noise": NOISE, "generator": _generator_digest()}
    recorded = _read_stamp(stamp)
    if recorded is not None and folder.is_dir() and _stamp_holds(recorded, wanted):
        return folder
    if recorded is not None and folder.exists() and not regenerate:
        raise SystemExit(f"{folder} was generated by other generator code than this checkout's "
                         f"({wanted['generator']}); it takes tens of minutes to generate again: "
                         "rerun with --regenerate to replace it")
    unfinished = folder.with_name(folder.name + ".partial")
    stamp.unlink(missing_ok=True)
    for stale in (folder, unfinished):
        if stale.exists():
            subprocess.run(["rm", "-rf", str(stale)], check=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    print(f"generating {folder} ...", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, "-c", _PART_CHILD, str(unfinished), str(part_persons), str(part),
                           str(seed), str(Path(__file__).parent)], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"generating part {part} failed:\n{proc.stderr[-3000:]}")
    write_json_atomically(stamp, {"parameters": wanted, "generated": json.loads(proc.stdout.splitlines()[-1])})
    unfinished.rename(folder)
    return folder


def prepare(persons: int, part_persons: int, seed: int, regenerate: bool = False) -> Path:
    """A folder holding links to the extracts of the first ``persons / part_persons`` parts."""
    if persons % part_persons:
        raise SystemExit(f"--persons {persons} is not a multiple of --part-persons {part_persons}")
    parts = [prepare_part(k, part_persons, seed, regenerate) for k in range(persons // part_persons)]
    folder = WORK / f"input-{persons}-{part_persons}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for part in parts:
        for path in part.iterdir():
            if path.is_file():
                (folder / path.name).symlink_to(os.path.relpath(path, folder))  # the checkout may move
    return folder


# -- the measurement ---------------------------------------------------------------------------

def _tree_rss_bytes(pid: int) -> tuple[int, int]:
    """Resident memory of ``pid`` alone, and of ``pid`` and all its descendants (read from /proc)."""
    total, own, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as statm:
                rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            total += rss
            own = rss if current == pid else own
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return own, total


class StageSampler(threading.Thread):
    """Samples the process tree's memory; the pipeline's stage log lines switch the stage."""

    def __init__(self, limit_bytes: int):
        super().__init__(daemon=True)
        self.limit_bytes, self.stage, self.stopped = limit_bytes, "start", threading.Event()
        self.stages: dict[str, dict] = {}
        self.loads: list[float] = []
        self._begin("start")

    def _begin(self, stage: str) -> None:
        times = os.times()
        self.stage = stage
        self.stages.setdefault(stage, {"peak_rss_mb": 0.0, "peak_main_process_mb": 0.0, "peak_workers_mb": 0.0,
                                       "wall_seconds": 0.0, "cpu_seconds": 0.0})
        self._since = (time.perf_counter(), times.user + times.system + times.children_user + times.children_system)

    def switch(self, stage: str) -> None:
        times = os.times()
        entry = self.stages[self.stage]
        entry["wall_seconds"] += time.perf_counter() - self._since[0]
        entry["cpu_seconds"] += times.user + times.system + times.children_user + times.children_system \
            - self._since[1]
        self._begin(stage)

    def run(self) -> None:
        last_load = 0.0
        while not self.stopped.wait(SAMPLE_SECONDS):
            own, rss = _tree_rss_bytes(os.getpid())
            entry = self.stages[self.stage]
            entry["peak_rss_mb"] = max(entry["peak_rss_mb"], rss / 2**20)
            # the main process and its workers (detection beside the rules) each at their own peak
            entry["peak_main_process_mb"] = max(entry["peak_main_process_mb"], own / 2**20)
            entry["peak_workers_mb"] = max(entry["peak_workers_mb"], (rss - own) / 2**20)
            if time.perf_counter() - last_load > 5:
                self.loads.append(os.getloadavg()[0])
                last_load = time.perf_counter()
            if rss > self.limit_bytes:
                stage = self.stage
                self.switch(stage)  # the stopped stage's time up to the stop
                print(json.dumps({"status": f"stopped: memory above the limit in stage {stage}",
                                  "stages": self.stages}), flush=True)
                os.killpg(0, signal.SIGKILL)


def measure_child(input_dir: str, out_dir: str, limit_gb: float, options: str) -> None:
    """Inside the fresh process: run the pipeline under the sampler, print one JSON line."""
    import logging

    os.setpgrp()  # so that stopping on the memory limit takes the worker processes with it
    sampler = StageSampler(int(float(limit_gb) * 2**30))

    class StageSwitch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.msg == "%s ...":
                sampler.switch(record.args[0])
            elif record.msg.startswith("%s done in"):
                sampler.switch(f"after {record.args[0]}")  # e.g. writing the stage tables

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("mhgraph.pipeline").addHandler(StageSwitch())
    from mhgraph.pipeline import run_pipeline

    sampler.start()
    start, cpu = time.perf_counter(), time.process_time()
    run_pipeline(input_dir, out_dir, **json.loads(options))
    wall = time.perf_counter() - start
    sampler.switch("end")
    sampler.stopped.set()
    stages = {name: {k: round(v, 2) for k, v in figures.items()} for name, figures in sampler.stages.items()
              if name not in ("start", "end") and figures["wall_seconds"] >= 0.05}
    print(json.dumps({"status": "ok", "wall_seconds": round(wall, 2),
                      "cpu_seconds_main_process": round(time.process_time() - cpu, 2),
                      "peak_rss_mb": round(max(s["peak_rss_mb"] for s in stages.values()), 1),
                      "mean_load_during": round(sum(sampler.loads) / max(len(sampler.loads), 1), 2),
                      "stages": stages}))


def measure(input_dir: Path, out_dir: Path, limit_gb: float, options: dict, timeout: float) -> dict:
    load_before = [round(x, 2) for x in os.getloadavg()]
    env = {**os.environ, "MHGRAPH_AUDIT_LOG": str(out_dir.parent / "audit.log")}
    log_file = out_dir.parent / f"{out_dir.name}.log"
    start = time.perf_counter()
    with log_file.open("w") as stderr:
        try:
            proc = subprocess.run([sys.executable, __file__, "--child", str(input_dir), str(out_dir), str(limit_gb),
                                   json.dumps(options)], stdout=subprocess.PIPE, stderr=stderr, text=True,
                                  env=env, cwd=ROOT, timeout=timeout)
            lines = proc.stdout.strip().splitlines()
            result = json.loads(lines[-1]) if lines else {"status": f"failed: exit status {proc.returncode}"}
        except subprocess.TimeoutExpired:
            result = {"status": f"stopped after the {timeout:.0f} s timeout"}
    result["process_seconds"] = round(time.perf_counter() - start, 1)
    # paths relative to the checkout: the results file is committed, the machine's layout is not
    result["log_tail"] = log_file.read_text(errors="replace").replace(f"{ROOT}/", "").splitlines()[-3:]
    result["loadavg_before"], result["loadavg_after"] = load_before, [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--part-persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--memory-limit-gb", type=float, default=16.0)
    parser.add_argument("--timeout", type=float, default=7200,
                        help="seconds before a run is stopped and recorded as such (5M took 2,197 s at load 8.9)")
    parser.add_argument("--resolver", choices=("full", "exact"), default="full",
                        help="exact: link on exact keyed identifiers only, to see the other stages at a size "
                             "the full resolver does not reach")
    parser.add_argument("--executor", default=None,
                        help="mhgraph run's --executor (default: its own, local processes); `serial` runs "
                             "detection and the indicator rules one after the other instead of side by side")
    parser.add_argument("--prepare-only", action="store_true", help="generate and cache the data, measure nothing")
    parser.add_argument("--regenerate", action="store_true",
                        help="replace cached parts written by other generator code (otherwise such a run stops)")
    parser.add_argument("--keep-output", action="store_true", help="keep the run folder under benchmarks/work/")
    add_commit_option(parser)
    args = parser.parse_args(argv)
    source = _source_state(args.commit)  # before any data is prepared: a copy that cannot say its commit stops here
    command = "python benchmarks/bench_scale.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    report = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"runs": {}}
    for persons in args.persons:
        input_dir = prepare(persons, args.part_persons, args.seed, args.regenerate)
        if args.prepare_only:
            continue
        out_dir = WORK / f"out-{persons}"
        subprocess.run(["rm", "-rf", str(out_dir)], check=True)
        entry = {"command": command, "recorded": dt.datetime.now().isoformat(timespec="seconds"),
                 "persons": persons, "resolver": args.resolver, "executor": args.executor or "processes (default)",
                 "part_persons": args.part_persons, "seed": args.seed, "noise": NOISE,
                 "memory_limit_gb": args.memory_limit_gb, "source": source,
                 "delivered_bytes": sum(p.stat().st_size for p in input_dir.iterdir())}
        options = {"resolver": args.resolver, **({"executor": args.executor} if args.executor else {})}
        entry["run"] = measure(input_dir, out_dir, args.memory_limit_gb, options, args.timeout)
        if entry["run"]["status"] == "ok":
            entry["run"]["mb_per_1000_persons"] = round(entry["run"]["peak_rss_mb"] / (persons / 1000), 2)
            manifest = json.loads((out_dir / "run_manifest.json").read_text())
            entry["counts"] = manifest["counts"]
            entry["stage_seconds_manifest"] = {k: round(v, 2) for k, v in manifest["seconds"].items()}
        if not args.keep_output:
            subprocess.run(["rm", "-rf", str(out_dir)], check=True)
        report["machine"] = _machine()
        report["runs"][f"{persons}" + ("" if args.resolver == "full" else f" {args.resolver}")
                       + (f" {args.executor}" if args.executor else "")] = entry
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps({k: entry["run"].get(k) for k in ("status", "wall_seconds", "peak_rss_mb")}))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        measure_child(*sys.argv[2:6])
    else:
        sys.exit(main())
