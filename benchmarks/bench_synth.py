"""Wall time and peak memory of a large synthetic data set (``mhgraph synth``).

Generates the eight delivered extracts and the ground truth for N persons (default
1,000,000) into a temporary folder that is removed afterwards, in a fresh process so that the
peak resident memory is that run's alone.

    .venv/bin/python benchmarks/bench_synth.py                    # 1,000,000 persons
    .venv/bin/python benchmarks/bench_synth.py --persons 100000   # a quick look

Results go to ``benchmarks/results/synth.json``: wall and CPU time, peak resident memory
(``ru_maxrss`` of the run, and of its children), rows and bytes per delivered file, and the
load average before and after. The machine has 2 cores shared with other work: wall times
are indicative, the load average says how busy it was.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_pipeline import _source_state, add_commit_option  # first: ROOT's mhgraph is the one imported

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "synth.json"

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from mhgraph.synth import synthesize
out, persons, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start, cpu = time.perf_counter(), time.process_time()
summary = synthesize(out, persons=persons, seed=seed)
wall, cpu = time.perf_counter() - start, time.process_time() - cpu
files = {p.name: p.stat().st_size for p in sorted(Path(out).iterdir()) if p.is_file()}
truth = sum(p.stat().st_size for p in (Path(out) / "truth").rglob("*") if p.is_file())
print(json.dumps({"wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "rows": summary["rows"], "bytes": files, "truth_bytes": truth,
                  "entities": summary["entities"], "networks": summary["networks"]}))
"""


def run(persons: int, seed: int) -> dict:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        proc = subprocess.run([sys.executable, "-c", _CHILD, tmp, str(persons), str(seed)],
                              capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result["peak_rss_mb_children"] = round(children, 1)
    result["peak_rss_mb_self"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["loadavg_before"] = [round(x, 2) for x in load_before]
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    add_commit_option(parser)
    args = parser.parse_args(argv)
    source = _source_state(args.commit)  # before anything is measured: a copy that cannot say its commit stops here
    result = run(args.persons, args.seed)
    report = {
        "benchmark": "synth",
        "command": f"python benchmarks/bench_synth.py --persons {args.persons} --seed {args.seed}",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "note": "2 cores shared with other work; wall times are indicative"},
        "persons": args.persons,
        "source": source,
        "result": result,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
