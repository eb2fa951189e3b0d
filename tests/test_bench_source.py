"""A benchmark run from a copy without git history (``git archive``) records the commit it is
told, and stops at once when it is told none; one run from a git checkout records its HEAD and
stops at once when told another commit."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _archive_copy(tmp_path: Path) -> Path:
    """The benchmark scripts, mhgraph and the tests' helpers in a folder no git repository holds, as
    ``git archive`` unpacks them; run with this checkout's environment, whose editable install points here."""
    copy = tmp_path / "copy" / "benchmarks"
    copy.mkdir(parents=True)
    for script in [*BENCHMARKS.glob("*.py"), *BENCHMARKS.glob("*.toml")]:
        shutil.copy(script, copy / script.name)
    shutil.copytree(BENCHMARKS.parent / "mhgraph", copy.parent / "mhgraph", ignore=shutil.ignore_patterns("__pycache__"))
    (copy.parent / "tests").mkdir()  # the helpers some benchmarks share with the tests
    for helper in (BENCHMARKS.parent / "tests").glob("*.py"):
        shutil.copy(helper, copy.parent / "tests" / helper.name)
    return copy


def _without_git(copy: Path, commit_variable: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "MHGRAPH_COMMIT"}
    env["GIT_CEILING_DIRECTORIES"] = str(copy.parents[1])  # no repository above the copy either
    if commit_variable:
        env["MHGRAPH_COMMIT"] = commit_variable
    return env


def _source_state(copy: Path, *commit: str, commit_variable: str | None = None) -> subprocess.CompletedProcess:
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import bench_pipeline; "
            "print(json.dumps(bench_pipeline._source_state(*sys.argv[2:])))")
    return subprocess.run([sys.executable, "-c", code, str(copy), *commit], capture_output=True, text=True,
                          env=_without_git(copy, commit_variable), cwd=copy.parent, timeout=300)


def _bench_pipeline():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_pipeline
    finally:
        sys.path.remove(str(BENCHMARKS))
    return bench_pipeline


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=BENCHMARKS, capture_output=True, text=True, check=True).stdout.strip()


def test_a_copy_without_git_records_the_commit_given_by_option_or_variable(tmp_path):
    copy = _archive_copy(tmp_path)
    given = _source_state(copy, "0123abc")
    assert given.returncode == 0, given.stderr
    assert json.loads(given.stdout) == {"commit": "0123abc", "mhgraph_changed_files": None}
    from_variable = _source_state(copy, commit_variable="4567def")
    assert json.loads(from_variable.stdout)["commit"] == "4567def"


def test_the_checkout_records_its_own_head(monkeypatch):
    monkeypatch.delenv("MHGRAPH_COMMIT", raising=False)
    head = _git("rev-parse", "HEAD")
    assert _bench_pipeline()._source_state()["commit"] == head and len(head) == 40


# Each benchmark that records its source, with arguments that would generate or measure something.
MEASURING = {
    "bench_detection.py": ["--split", "development", "--limit", "1", "--skip-ablation"],
    "bench_pipeline.py": ["--persons", "1000", "--skip-compare"],
    "bench_scale.py": ["--persons", "1000", "--part-persons", "1000"],
    "bench_scale_stages.py": ["--persons", "1000", "--part-persons", "1000", "--stages", "ingest"],
    "bench_scale_leiden.py": ["no-tables", "--label", "1000 exact"],
    "bench_indicators.py": ["--persons", "1000"],
    "bench_leiden_convergence.py": ["--limit", "1"],
    "bench_er.py": ["--only", "dev_synthetic"],
    "rerank_kept_worlds.py": ["--source", "other", "--worlds", "worlds", "--results", "results/rerank.json"],
    "bench_synth.py": ["--persons", "1000"],
    "bench_export.py": ["--cluster-size", "20", "--repeat", "1", "--background", "100", "--persons", "0"],
    "bench_detect.py": ["--sizes", "1000", "--repeat", "1"],
    "bench_history.py": ["--shares", "0.1", "--seeds", "1"],
    "bench_ind_lift.py": ["run", "truth"],
    "bench_neo4j.py": ["--entities", "1000"],
    "tune_ranking.py": ["prepare", "--limit", "1", "--persons", "1000"],
    "fuzz_ingest.py": ["--examples", "1"],
    "bench_ingest.py": ["--rows", "1000"],
    "bench_privacy.py": ["--only", "sample"],
    "analyse_detection.py": ["--limit", "1"],
}


@pytest.mark.parametrize("script", list(MEASURING))
def test_every_benchmark_without_git_and_without_a_commit_stops_before_any_work(tmp_path, script):
    copy = _archive_copy(tmp_path)
    assert "--commit" in subprocess.run([sys.executable, str(copy / script), "--help"], capture_output=True,
                                        text=True, env=_without_git(copy), cwd=tmp_path, timeout=300).stdout
    done = subprocess.run([sys.executable, str(copy / script), *MEASURING[script]], capture_output=True, text=True,
                          env=_without_git(copy), cwd=tmp_path, timeout=300)
    assert done.returncode != 0 and "is no git checkout: say which commit it is with --commit" in done.stderr, \
        done.stderr[-2000:]
    assert not (copy / "work").exists() and not (copy / "results").exists()


def test_a_checkout_told_another_commit_stops_and_told_its_own_records_its_head(monkeypatch):
    bench_pipeline = _bench_pipeline()
    head, other = _git("rev-parse", "HEAD"), _git("rev-list", "--max-count=1", "HEAD~1")
    monkeypatch.setenv("MHGRAPH_COMMIT", other)  # a variable left exported from another measurement
    with pytest.raises(SystemExit, match=f"MHGRAPH_COMMIT says commit {other}, but .* is a git checkout at {head}"):
        bench_pipeline._source_state()
    with pytest.raises(SystemExit, match="--commit says commit not-a-commit"):
        bench_pipeline._source_state("not-a-commit")
    monkeypatch.setenv("MHGRAPH_COMMIT", head[:7])
    state = bench_pipeline._source_state()
    assert state["commit"] == head and isinstance(state["mhgraph_changed_files"], list)


def test_the_er_benchmark_from_a_copy_without_git_records_the_commit_it_is_told(tmp_path):
    # One part that measures nothing stands in for the data sets: what is checked is the record.
    copy = _archive_copy(tmp_path)
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path; import bench_er; "
            "bench_er.PARTS = {'nothing': ('development', lambda: {'seconds': 0.0})}; "
            "bench_er.RESULTS = Path(sys.argv[2]); sys.argv = ['bench_er.py', '--only', 'nothing']; bench_er.main()")
    results = tmp_path / "er.json"
    done = subprocess.run([sys.executable, "-c", code, str(copy), str(results)], capture_output=True, text=True,
                          env=_without_git(copy, "4567def"), cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(results.read_text())["nothing"]["source"] == {"commit": "4567def", "mhgraph_changed_files": None}


def test_a_copy_measures_its_own_mhgraph_in_its_processes_and_their_children(tmp_path):
    copy = _archive_copy(tmp_path)
    # A spec only the copy has: listed only when the copy's mhgraph runs, not this checkout's.
    spec = (copy.parent / "mhgraph" / "specs" / "ind_referenten.toml").read_text()
    (copy.parent / "mhgraph" / "specs" / "copy_only.toml").write_text(spec.replace(
        'name = "ind_referenten"', 'name = "copy_only"').replace('"ind_referenten.csv"', '"copy_only.csv"'))
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import bench_er, bench_pipeline, mhgraph; "
            "print(json.dumps([bench_pipeline._source_state(), mhgraph.__file__, bench_er.mhgraph('specs')]))")
    done = subprocess.run([sys.executable, "-c", code, str(copy)], capture_output=True, text=True,
                          env=_without_git(copy, "4567def"), cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    state, imported, listed = json.loads(done.stdout.splitlines()[-1])
    assert state["commit"] == "4567def"
    assert Path(imported).parent == copy.parent / "mhgraph"
    assert "copy_only" in listed


def test_a_benchmark_whose_mhgraph_is_not_its_copys_stops(tmp_path):
    copy = _archive_copy(tmp_path)
    code = ("import sys; import mhgraph; sys.path.insert(0, sys.argv[1]); import bench_pipeline; "
            "bench_pipeline._source_state()")  # mhgraph imported first: this checkout's, not the copy's
    done = subprocess.run([sys.executable, "-c", code, str(copy)], capture_output=True, text=True,
                          env=_without_git(copy, "4567def"), cwd=tmp_path, timeout=300)
    assert done.returncode != 0
    assert f"mhgraph is imported from {BENCHMARKS.parent / 'mhgraph'}, not from {copy.parent}" in done.stderr


def test_the_synthetic_data_benchmark_from_a_copy_generates_with_the_copys_mhgraph(tmp_path):
    # The copy's mhgraph notes every process that imports it: the benchmark's and its child's.
    copy = _archive_copy(tmp_path)
    marks = tmp_path / "imported_from.txt"
    with (copy.parent / "mhgraph" / "__init__.py").open("a") as init:
        init.write("\nimport os as _os\nwith open(_os.environ['MARKS'], 'a') as _marks:\n    _marks.write(__file__ + '\\n')\n")
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path; import bench_synth; "
            "bench_synth.RESULTS = Path(sys.argv[2]); bench_synth.main(['--persons', '1000'])")
    results = tmp_path / "synth.json"
    env = {**_without_git(copy, "4567def"), "MARKS": str(marks)}
    done = subprocess.run([sys.executable, "-c", code, str(copy), str(results)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(results.read_text())["source"] == {"commit": "4567def", "mhgraph_changed_files": None}
    imported = marks.read_text().splitlines()
    assert len(imported) == 2 and {Path(path).parent for path in imported} == {copy.parent / "mhgraph"}


def test_the_ingest_and_privacy_benchmarks_from_a_copy_record_its_commit_and_measure_its_mhgraph(tmp_path):
    # The copy's mhgraph notes every process that imports it: each benchmark's and the two ingest children
    # (streamed and in memory).
    copy = _archive_copy(tmp_path)
    shutil.copytree(BENCHMARKS / "data", copy / "data")  # what the privacy attacker knows
    shutil.copytree(BENCHMARKS.parent / "data" / "sample", copy.parent / "data" / "sample")  # what it attacks
    marks = tmp_path / "imported_from.txt"
    with (copy.parent / "mhgraph" / "__init__.py").open("a") as init:
        init.write("\nimport os as _os\nwith open(_os.environ['MARKS'], 'a') as _marks:\n    _marks.write(__file__ + '\\n')\n")
    env = {**_without_git(copy, "4567def"), "MARKS": str(marks)}
    runs = {"bench_ingest": ["--rows", "1000"], "bench_privacy": ["--only", "sample"]}
    for script, args in runs.items():
        code = (f"import sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path; import {script}; "
                f"{script}.RESULTS = Path(sys.argv[2]); {script}.main({args!r})")
        done = subprocess.run([sys.executable, "-c", code, str(copy), str(tmp_path / f"{script}.json")],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    recorded = {"commit": "4567def", "mhgraph_changed_files": None}
    assert json.loads((tmp_path / "bench_ingest.json").read_text())["source"] == recorded
    assert json.loads((tmp_path / "bench_privacy.json").read_text())["sample"]["source"] == recorded
    imported = marks.read_text().splitlines()
    assert len(imported) == 4 and {Path(path).parent for path in imported} == {copy.parent / "mhgraph"}
