"""`mhgraph report` on a finished run: it writes as many clusters as the run was asked for, and
leaves a manifest that still describes every file of the run."""

from __future__ import annotations

import json
import shutil

import pytest

from mhgraph.cli import main
from mhgraph.export.content import run_blocks
from mhgraph.export.document import to_markdown
from mhgraph.run_folder import check_complete_run, file_digests

pytestmark = pytest.mark.slow


def pages(run) -> int:
    return len(list((run / "clusters").glob("cluster_*.html")))


def test_report_takes_the_runs_top_and_keeps_the_manifest_true(sample_export, tmp_path):
    out, result = sample_export
    run = tmp_path / "run"
    shutil.copytree(out, run)
    asked = result.manifest["top"]
    shown = min(asked, result.manifest["clusters_flagged"])
    assert asked == 10 and pages(run) == shown

    assert main(["--quiet", "report", str(run), "--top", "4", "--lang", "en"]) == 0
    assert pages(run) == 4
    manifest = check_complete_run(run)  # every listed file present and unchanged
    listed = manifest["files"]
    assert listed == {name: digest for name, digest in file_digests(run).items() if name != "run_manifest.json"}
    assert sum(name.startswith("clusters/cluster_") for name in listed) == 4  # the removed pages are gone
    assert "the top 4 shown (asked for 4)" in (run / "summary.md").read_text(encoding="utf-8")

    assert main(["--quiet", "report", str(run)]) == 0  # no --top: the run's own, not the 4 pages on disk
    assert pages(run) == shown
    check_complete_run(run)
    assert f"de hoogste {shown} getoond (gevraagd: 10)" in (run / "summary.md").read_text(encoding="utf-8")
    assert json.loads((run / "run_manifest.json").read_text(encoding="utf-8"))["audit"] == result.manifest["audit"]


def test_a_file_added_after_the_run_stays_out_of_the_manifest(sample_export, tmp_path):
    out, _ = sample_export
    run = tmp_path / "run"
    shutil.copytree(out, run)
    (run / "evaluation.json").write_text("{}", encoding="utf-8")
    assert main(["--quiet", "report", str(run), "--lang", "en"]) == 0
    (run / "evaluation.json").write_text('{"again": true}', encoding="utf-8")  # evaluate may write it again
    assert "evaluation.json" not in check_complete_run(run)["files"]


def test_fewer_flagged_clusters_than_asked_for_say_what_was_asked():
    counts = dict(clusters=400, entities=12, relations=30, mentions=40, partners=1, hits=1)
    text = to_markdown(run_blocks({"top": 10, "clusters_flagged": 1}, counts, 1, 1, "nl"))
    assert "deze export: 400 clusters gerangschikt, de hoogste 1 getoond (gevraagd: 10)" in text
    assert "12 entiteiten, 30 relaties en 40 partnerregistraties (mentions) van 1 partner; 1 indicatortreffer" in text
