"""The fuzzing run: the property tests of ``tests/test_ingest_properties.py`` at volume.

Hypothesis draws damaged extracts of every shipped layout (``tests/damage.py``) and checks,
for each, that ingest (readers + validation) refuses the file with an error naming it or
accounts for every row, and that what ``mhgraph pseudonymise`` delivers from a damaged
plaintext extract is taken in whole by ingest. A crash is any other exception; the run
stops at the first one and prints the shrunk example.

    .venv/bin/python benchmarks/fuzz_ingest.py --examples 2000     # or: make fuzz

Writes ``benchmarks/results/fuzz.json``: examples per property, their outcomes (refused,
quarantined, clean), crashes, seconds and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import polars as pl  # noqa: E402
from bench_pipeline import _source_state, add_commit_option  # noqa: E402  (before damage: ROOT's mhgraph)
from damage import CSV_LAYOUTS, SPECS, damages, ingest_holds, pseudonymise_holds  # noqa: E402
import hypothesis  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "fuzz.json"
PROPERTIES = {
    "ingest": (ingest_holds, CSV_LAYOUTS),
    "pseudonymise_then_ingest": (pseudonymise_holds, sorted(SPECS)),
}


def run_property(name: str, examples: int, seed: int) -> dict:
    check, layouts = PROPERTIES[name]
    outcomes: Counter = Counter()

    @hypothesis.seed(seed)
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(layout=st.sampled_from(layouts), ops=damages())
    def holds(layout, ops):
        with tempfile.TemporaryDirectory() as folder:
            outcomes[check(Path(folder), layout, ops)] += 1

    start = time.perf_counter()
    crash = None
    try:
        holds()
    except Exception as exc:  # the property failed: report it, it is the finding
        crash = f"{type(exc).__name__}: {str(exc)[:500]}"
    return {"examples": sum(outcomes.values()), "outcomes": dict(sorted(outcomes.items())),
            "crashes": 0 if crash is None else 1, "first_crash": crash,
            "seconds": round(time.perf_counter() - start, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per property (default 2000)")
    parser.add_argument("--seed", type=int, default=20260115)
    add_commit_option(parser)
    args = parser.parse_args(argv)
    source = _source_state(args.commit)  # before anything is measured: a copy that cannot say its commit stops here
    load_before = os.getloadavg()
    report = {
        "command": " ".join([".venv/bin/python benchmarks/fuzz_ingest.py", *map(str, argv or sys.argv[1:])]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "polars": pl.__version__,
                    "platform": platform.platform()},
        "seed": args.seed,
        "source": source,
        "loadavg_before": [round(x, 2) for x in load_before],
        "properties": {name: run_property(name, args.examples, args.seed) for name in PROPERTIES},
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["properties"], indent=2))
    return 1 if any(p["crashes"] for p in report["properties"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
