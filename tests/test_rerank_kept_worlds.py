"""``rerank_kept_worlds.py`` reranks with the mhgraph of ``--source`` or stops: never with the
installed one, which would report that no rank moved."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import rerank_kept_worlds  # noqa: E402


def test_a_source_without_mhgraph_stops_before_any_world(tmp_path):
    results = tmp_path / "rerank.json"
    with pytest.raises(SystemExit, match="holds no mhgraph package"):
        rerank_kept_worlds.main(["--source", str(tmp_path / "no-such-checkout"), "--worlds", str(tmp_path),
                                 "--results", str(results)])
    assert not results.exists()


def test_the_rerank_process_stops_when_its_mhgraph_is_not_the_sources(tmp_path):
    source = tmp_path / "other"
    (source / "mhgraph").mkdir(parents=True)
    (source / "mhgraph" / "__init__.py").write_text("")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # so the installed mhgraph is imported
    child = subprocess.run([sys.executable, str(BENCHMARKS / "rerank_kept_worlds.py"), "--source", str(source),
                            "--worlds", str(tmp_path), "--results", os.devnull,
                            "--rerank", str(tmp_path / "run"), str(tmp_path / "rerank")],
                           env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode != 0
    assert f"not from --source {source.resolve()}" in child.stderr
    assert not (tmp_path / "rerank").exists()
