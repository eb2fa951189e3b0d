"""The scale benchmark's cache of generated parts: reused when current, never thrown away unasked."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_scale  # noqa: E402


def _cached_part(work: Path, stamp: dict) -> Path:
    folder = work / "parts-1000-7" / "part0"
    folder.mkdir(parents=True)
    (folder / "extract.csv").write_text("id\n1\n")
    folder.with_suffix(".json").write_text(json.dumps(stamp))
    return folder


def _parameters(generator: str) -> dict:
    return {"persons": 1000, "seed": 7, "part": 0, "noise": bench_scale.NOISE, "generator": generator}


def test_a_part_from_this_generator_is_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_scale, "WORK", tmp_path)
    folder = _cached_part(tmp_path, {"parameters": _parameters(bench_scale._generator_digest())})
    assert bench_scale.prepare_part(0, 1000, 7) == folder
    assert (folder / "extract.csv").read_text() == "id\n1\n"


def test_a_part_shown_to_match_a_later_generator_is_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_scale, "WORK", tmp_path)
    folder = _cached_part(tmp_path, {"parameters": _parameters("0123456789abcdef"),
                                     "equivalent_generators": [bench_scale._generator_digest()]})
    assert bench_scale.prepare_part(0, 1000, 7) == folder


def test_a_part_from_other_generator_code_stops_the_run_and_stays(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_scale, "WORK", tmp_path)
    folder = _cached_part(tmp_path, {"parameters": _parameters("0123456789abcdef"),
                                     "equivalent_generators": ["fedcba9876543210"]})
    with pytest.raises(SystemExit, match="--regenerate"):
        bench_scale.prepare_part(0, 1000, 7)
    assert (folder / "extract.csv").is_file()


def test_other_parameters_are_not_made_equivalent_by_the_generator_list(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_scale, "WORK", tmp_path)
    other_seed = {**_parameters("0123456789abcdef"), "seed": 8}
    _cached_part(tmp_path, {"parameters": other_seed, "equivalent_generators": [bench_scale._generator_digest()]})
    with pytest.raises(SystemExit, match="--regenerate"):
        bench_scale.prepare_part(0, 1000, 7)


@pytest.mark.parametrize("stamp_text", [None, '{"parameters": {"persons": 10'])
def test_a_part_without_a_readable_stamp_is_an_unfinished_generation_and_is_made_again(tmp_path, monkeypatch,
                                                                                       stamp_text):
    monkeypatch.setattr(bench_scale, "WORK", tmp_path)
    folder = tmp_path / "parts-300-7" / "part0"
    folder.mkdir(parents=True)
    (folder / "half.csv").write_text("id\n1\n")
    if stamp_text is not None:
        folder.with_suffix(".json").write_text(stamp_text)
    assert bench_scale.prepare_part(0, 300, 7) == folder
    assert not (folder / "half.csv").exists()
    assert any(folder.glob("belastingdienst_*.csv"))
    assert json.loads(folder.with_suffix(".json").read_text())["parameters"] == {
        **_parameters(bench_scale._generator_digest()), "persons": 300}
    assert not folder.with_name("part0.partial").exists()


def test_a_change_to_any_module_the_generator_imports_makes_the_cached_part_stale(tmp_path, monkeypatch):
    """Not only mhgraph/synth shapes the parts: normalise, spec, reference, purpose, safe_output,
    the ingest and the diminutives behind ``given_name_bf`` do too. A change to any of them stops a
    run on a part generated before it; a change to resolve (which only compares) does not."""
    import shutil

    shutil.copytree(bench_scale.ROOT / "mhgraph", tmp_path / "copy" / "mhgraph",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(bench_scale, "ROOT", tmp_path / "copy")
    monkeypatch.setattr(bench_scale, "WORK", tmp_path / "work")
    names = {path.relative_to(bench_scale.ROOT).as_posix() for path in bench_scale.generator_files()}
    assert {"mhgraph/normalise.py", "mhgraph/spec.py", "mhgraph/reference.py", "mhgraph/purpose.py",
            "mhgraph/safe_output.py", "mhgraph/ingest/readers.py", "mhgraph/synth/data/names.txt",
            "mhgraph/data/diminutives_eu.csv"} <= names
    assert not any(name.startswith("mhgraph/resolve/") for name in names)

    folder = bench_scale.prepare_part(0, 300, 7)
    generated = folder.with_suffix(".json").read_text()
    package = bench_scale.ROOT / "mhgraph"
    (package / "resolve" / "score.py").write_text("# changed\n", encoding="utf-8")
    assert bench_scale.prepare_part(0, 300, 7) == folder and folder.with_suffix(".json").read_text() == generated
    for name in ("normalise.py", "spec.py", "reference.py", "purpose.py", "safe_output.py", "ingest/readers.py",
                 "data/diminutives_eu.csv"):
        digest = bench_scale._generator_digest()
        path = package / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert bench_scale._generator_digest() != digest, name
        with pytest.raises(SystemExit, match="--regenerate"):
            bench_scale.prepare_part(0, 300, 7)
        path.write_bytes(original)
        assert bench_scale.prepare_part(0, 300, 7) == folder


_WRITE_UNDER_A_SIZE_LIMIT = """
import resource, signal, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from bench_pipeline import write_json_atomically
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (64, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    write_json_atomically(Path(sys.argv[2]), {"parameters": {"persons": 200000, "note": "x" * 500}})
except OSError as error:
    print("cut short:", error.strerror)
"""


def test_a_stamp_cut_short_by_a_full_disk_leaves_the_old_stamp_whole(tmp_path):
    # the file-size limit of a child process stands in for a full disk: the write fails halfway
    stamp = tmp_path / "part0.json"
    stamp.write_text(json.dumps({"parameters": _parameters("0123456789abcdef")}))
    child = subprocess.run([sys.executable, "-c", _WRITE_UNDER_A_SIZE_LIMIT, str(Path(bench_scale.__file__).parent),
                            str(stamp)], capture_output=True, text=True, timeout=300)
    assert child.stdout.startswith("cut short"), child.stderr
    assert bench_scale._read_stamp(stamp) == {"parameters": _parameters("0123456789abcdef")}
    assert [p.name for p in tmp_path.iterdir()] == ["part0.json"]
