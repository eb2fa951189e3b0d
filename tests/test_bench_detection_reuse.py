"""``bench_detection.py --reuse`` runs a kept world again only when it is the world asked for."""
import json
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_detection  # noqa: E402
from mhgraph.synth import synthesize  # noqa: E402


def _persons_in_truth(folder: Path) -> int:
    return pl.read_parquet(folder / "extracts" / "truth" / "persons.parquet").height


def test_a_world_kept_for_these_parameters_is_reused(tmp_path):
    folder = tmp_path / "development-101-medium"
    assert not bench_detection.prepare_world(folder, 300, 101, "medium", reuse=True)
    (folder / "run").mkdir()
    assert bench_detection.prepare_world(folder, 300, 101, "medium", reuse=True)
    assert _persons_in_truth(folder) == 300 and not (folder / "run").exists()


def test_a_world_kept_for_another_persons_count_is_generated_again(tmp_path):
    folder = tmp_path / "development-101-medium"
    bench_detection.prepare_world(folder, 400, 101, "medium", reuse=False)
    assert not bench_detection.prepare_world(folder, 300, 101, "medium", reuse=True)
    assert _persons_in_truth(folder) == 300
    assert json.loads((folder / "world.json").read_text())["persons"] == 300


def test_extracts_without_a_stamp_are_generated_again(tmp_path):
    # made by hand with `mhgraph synth`, or a generation cut short after its truth folder
    folder = tmp_path / "development-101-medium"
    synthesize(folder / "extracts", persons=400, seed=101, noise="medium")
    assert not bench_detection.prepare_world(folder, 300, 101, "medium", reuse=True)
    assert _persons_in_truth(folder) == 300


def test_a_world_from_other_generator_code_is_generated_again(tmp_path):
    folder = tmp_path / "development-101-medium"
    bench_detection.prepare_world(folder, 300, 101, "medium", reuse=False)
    stamp = folder / "world.json"
    stamp.write_text(json.dumps({**json.loads(stamp.read_text()), "generator": "0123456789abcdef"}))
    (folder / "extracts" / "marker").write_text("kept")
    assert not bench_detection.prepare_world(folder, 300, 101, "medium", reuse=True)
    assert not (folder / "extracts" / "marker").exists()
