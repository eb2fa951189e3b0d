"""A benchmark run from a copy without git history (``git archive``) records the commit it is
told, and stops at once when it is told none."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _archive_copy(tmp_path: Path) -> Path:
    """The benchmark scripts in a folder no git repository holds, as ``git archive`` unpacks them."""
    copy = tmp_path / "copy" / "benchmarks"
    copy.mkdir(parents=True)
    for script in ("bench_pipeline.py", "bench_detection.py", "detection_protocol.toml"):
        shutil.copy(BENCHMARKS / script, copy / script)
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
                          env=_without_git(copy, commit_variable), timeout=300)


def test_a_copy_without_git_records_the_commit_given_by_option_or_variable(tmp_path):
    copy = _archive_copy(tmp_path)
    given = _source_state(copy, "0123abc")
    assert given.returncode == 0, given.stderr
    assert json.loads(given.stdout) == {"commit": "0123abc", "mhgraph_changed_files": None}
    from_variable = _source_state(copy, commit_variable="4567def")
    assert json.loads(from_variable.stdout)["commit"] == "4567def"


def test_a_copy_without_git_and_without_a_commit_stops_before_any_work(tmp_path):
    copy = _archive_copy(tmp_path)
    results = tmp_path / "detection.json"
    done = subprocess.run([sys.executable, str(copy / "bench_detection.py"), "--split", "development", "--limit", "1",
                           "--skip-ablation", "--results", str(results)], capture_output=True, text=True,
                          env=_without_git(copy), cwd=tmp_path, timeout=300)
    assert done.returncode != 0 and "--commit or $MHGRAPH_COMMIT" in done.stderr
    assert "development 1/" not in done.stderr and not results.exists()
    assert not (copy.parent / "benchmarks" / "work").exists()


def test_the_checkout_records_its_own_head(monkeypatch):
    monkeypatch.delenv("MHGRAPH_COMMIT", raising=False)
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_pipeline
    finally:
        sys.path.remove(str(BENCHMARKS))
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=BENCHMARKS, capture_output=True, text=True).stdout.strip()
    assert bench_pipeline._source_state()["commit"] == head and len(head) == 40
