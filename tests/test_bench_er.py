"""The entity-resolution benchmark refuses to score a run whose resolve failed."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_er.py"


def _bench_er():
    spec = importlib.util.spec_from_file_location("bench_er_under_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_failed_resolve_stops_the_benchmark_instead_of_scoring_the_old_folder(tmp_path):
    # a folder without ingested tables: `mhgraph resolve` reports the error and returns 1
    # without raising, so the child process itself exits 0
    bench = _bench_er()
    with pytest.raises(SystemExit, match="resolve failed on"):
        bench.timed_resolve(tmp_path)
