"""End to end: the real `mhgraph` command on the committed data/sample, then `mhgraph evaluate`.

The floors below sit under the figures measured on data/sample (seed 20261127, medium noise)
with the shipped indicators and ranking, so that a real regression fails while harmless
changes in tie-breaking do not. The sample holds one network of each of the nine planted
typologies at four signal strengths and twelve lawful look-alikes (data/sample/README.md);
the whole network is the denominator (mhgraph.evaluate.match_networks):

    er.person.f1 0.998     er.company.f1 1.000     er.address.f1 0.977
    detection.recall_at_10 0.889 (8 of 9)   detection.average_precision 0.980   decoys_in_top_10 0

A better ranking raises these figures; raise the floors with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from mhgraph.safe_output import read_csv_safe

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"

# Detection on data/sample with the shipped ranking (rulesets 8 and 9 alike) reaches recall@10 0.889 and
# average precision 0.980 (8 of 9 planted networks, the hidden logistics network missed), with 2
# clusters of no planted network in the top 10 and no look-alike; the limits sit a little off
# that, so that losing a network or letting a look-alike in fails.
FLOORS = {
    "er.person.f1": 0.97,
    "er.company.f1": 0.97,
    "er.address.f1": 0.95,
    "detection.recall_at_10": 0.85,
    "detection.average_precision": 0.95,
}
MAX_DECOYS_IN_TOP_10 = 1
MAX_FALSE_POSITIVES_IN_TOP_10 = 3


def mhgraph(*args: str, cwd: Path, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "mhgraph.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    env = {"MHGRAPH_AUDIT_LOG": str(work / "audit.log")}
    run = mhgraph("run", str(SAMPLE), "--out", str(work / "run"), cwd=work, env_extra=env)
    assert run.returncode == 0, run.stderr
    return work, run


@pytest.mark.slow
def test_run_writes_every_output(sample_run):
    work, run = sample_run
    out = work / "run"
    for name in ("summary.md", "index.html", "clusters.csv", "clusters.parquet", "run_manifest.json",
                 "quarantine.csv", "resolve/model.json"):
        assert (out / name).is_file(), name
    for table in ("mentions", "relations", "quarantine", "resolution", "matches", "nodes", "edges",
                  "communities", "indicator_hits", "clusters"):
        assert (out / "tables" / f"{table}.parquet").is_file(), table
    pages = sorted((out / "clusters").glob("cluster_*.html"))
    clusters = pl.read_parquet(out / "clusters.parquet")
    flagged = clusters.filter(pl.col("flagged")).height
    assert len(pages) == min(10, flagged) > 0
    # progress went to stderr, the one-line result to stdout
    assert "ingest" in run.stderr and "rows quarantined" in run.stdout
    audit = (work / "audit.log").read_text().splitlines()
    assert json.loads(audit[-1])["run_purpose"] == "riec_integral_assessment"


@pytest.mark.slow
def test_evaluation_figures_stay_above_measured_floors(sample_run):
    work, _ = sample_run
    result = mhgraph("evaluate", str(work / "run"), "--truth", str(SAMPLE / "truth"), cwd=work)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures == json.loads((work / "run" / "evaluation.json").read_text())
    for key, floor in FLOORS.items():
        assert figures[key] >= floor, (key, figures[key])
    assert figures["detection.decoys_in_top_10"] <= MAX_DECOYS_IN_TOP_10
    assert figures["detection.false_positives_in_top_10"] <= MAX_FALSE_POSITIVES_IN_TOP_10


@pytest.mark.slow
def test_the_report_says_per_cluster_which_partners_its_flag_needs(sample_run):
    work, _ = sample_run
    out = work / "run"
    shown = pl.read_parquet(out / "clusters.parquet").filter("flagged").sort("rank").head(10)
    summary = (out / "summary.md").read_text(encoding="utf-8").replace("\\_", "_")  # Dutch; Markdown escapes "_"
    assert shown.height and shown.filter(pl.col("needs_partners").list.len() > 0).height
    for row in shown.iter_rows(named=True):
        assert row["without_partner"], row["cluster_id"]  # a flagged cluster has hits, so partners behind them
        assert set(row["needs_partners"]) == {e["partner"] for e in row["without_partner"] if not e["flagged"]}
        line = "; ".join(f"zonder {e['partner']}: score {e['score']:.2f}".replace(".", ",")
                         + (", nog gemarkeerd" if e["flagged"] else ", niet gemarkeerd") for e in row["without_partner"])
        assert line in summary, (row["cluster_id"], line)
        assert ("de markering steunt op: " + ", ".join(row["needs_partners"]) if row["needs_partners"]
                else "de markering blijft staan zonder elk van de partners afzonderlijk") in summary


@pytest.mark.slow
def test_manifest_pins_inputs_and_purpose(sample_run):
    work, _ = sample_run
    manifest = json.loads((work / "run" / "run_manifest.json").read_text())
    delivered = {p.name for p in SAMPLE.iterdir() if p.suffix in (".csv", ".xlsx")}
    assert delivered <= {entry["file"] for entry in manifest["inputs"]}
    assert all(len(entry["sha256"]) == 64 for entry in manifest["inputs"])
    assert manifest["sources_excluded"] == []
    assert manifest["counts"]["mentions"] == sum(s["mentions"] for s in manifest["ingest"]["sources"])


@pytest.mark.slow
def test_same_input_gives_same_clusters(sample_run, tmp_path):
    work, _ = sample_run
    again = mhgraph("--quiet", "run", str(SAMPLE), "--out", str(tmp_path / "again"), cwd=tmp_path,
                    env_extra={"MHGRAPH_AUDIT_LOG": str(tmp_path / "audit.log")})
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""  # --quiet prints no progress
    first = pl.read_parquet(work / "run" / "tables" / "communities.parquet").sort("entity_id")
    second = pl.read_parquet(tmp_path / "again" / "tables" / "communities.parquet").sort("entity_id")
    assert first.equals(second)
    ranked = [pl.read_parquet(d / "clusters.parquet").select("cluster_id", "score")
              for d in (work / "run", tmp_path / "again")]
    assert ranked[0].equals(ranked[1])


@pytest.mark.slow
def test_run_purpose_leaves_out_sources_it_does_not_permit(tmp_path):
    result = mhgraph("--quiet", "run", str(SAMPLE), "--out", str(tmp_path / "run"), "--purpose",
                     "municipal_supervision", cwd=tmp_path,
                     env_extra={"MHGRAPH_AUDIT_LOG": str(tmp_path / "audit.log")})
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "run" / "run_manifest.json").read_text())
    excluded = {entry["source"] for entry in manifest["sources_excluded"]}
    assert excluded == {"belastingdienst_loonaangifte", "ind_referenten", "ind_verblijfsvergunningen"}
    partners = pl.read_parquet(tmp_path / "run" / "tables" / "mentions.parquet")["partner"].unique().to_list()
    assert "belastingdienst" not in partners and "ind" not in partners


@pytest.mark.slow
def test_the_run_checks_its_own_resolution(sample_run):
    work, _ = sample_run
    out = work / "run"
    manifest = json.loads((out / "run_manifest.json").read_text())
    person = next(row for row in manifest["resolution"] if row["entity_type"] == "person")
    assert not person["collapsed"] and 0.5 < person["merge_ratio"] < 2.0
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "- entiteitsresolutie, personen: " in summary.split("## De run")[1]  # one line per type under the run
    assert "WAARSCHUWING" not in summary
    assert (out / "tables" / "identity_conflicts.parquet").is_file()


@pytest.mark.slow
def test_a_strict_run_on_a_layout_of_ones_own_fails_when_the_resolution_collapses(tmp_path):
    """`--specs` picks the partner layouts; settings that pair every payroll row with its
    neighbours, merge whatever is paired and ignore that BSNs differ glue the workers together:
    summary.md says so loudly and `--strict` fails, after writing the run."""
    env = {"MHGRAPH_AUDIT_LOG": str(tmp_path / "audit.log")}
    assert mhgraph("--quiet", "synth", "--persons", "300", "--seed", "5", "--out", str(tmp_path / "extracts"),
                   cwd=tmp_path).returncode == 0
    specs = tmp_path / "specs"
    specs.mkdir()
    shipped = ROOT / "mhgraph" / "specs"
    for name in ("belastingdienst_loonaangifte", "kvk_inschrijvingen"):
        (specs / f"{name}.toml").write_text((shipped / f"{name}.toml").read_text(encoding="utf-8"), encoding="utf-8")
    settings = (ROOT / "mhgraph" / "resolve" / "settings.toml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(settings.replace('method = "auto"\nthreshold = 0.5', 'method = "auto"\nthreshold = 0.0')
                      .replace("min_mean_score = 0.4\n# Candidate", "min_mean_score = 0.0\n# Candidate")
                      .replace('conflict_keys = ["bsn", "v_number"]', "conflict_keys = []")
                      + '\n[[types.person.blocking]]\nname = "everyone"\ncolumns = ["partner"]\n', encoding="utf-8")
    result = mhgraph("--quiet", "run", str(tmp_path / "extracts"), "--out", str(tmp_path / "run"), "--specs", str(specs),
                     "--settings", str(broken), "--strict", cwd=tmp_path, env_extra=env)
    assert result.returncode == 2
    assert "person resolution looks collapsed" in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    manifest = json.loads((tmp_path / "run" / "run_manifest.json").read_text())
    assert manifest["sources_used"] == ["belastingdienst_loonaangifte", "kvk_inschrijvingen"]
    assert next(r for r in manifest["resolution"] if r["entity_type"] == "person")["collapsed"]
    assert "**WAARSCHUWING — de resolutie van personen lijkt ingestort" in (tmp_path / "run" / "summary.md").read_text()


def test_failure_is_one_line_with_non_zero_exit(tmp_path):
    result = mhgraph("run", str(tmp_path / "missing"), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mhgraph: error:") and "missing" in lines[0]


def test_unknown_run_purpose_is_refused(tmp_path):
    result = mhgraph("run", str(SAMPLE), "--out", str(tmp_path / "out"), "--purpose", "curiosity", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown run purpose 'curiosity'" in result.stderr


@pytest.mark.slow
def test_full_resolution_beats_exact_keys_on_persons(sample_run, tmp_path):
    """The first pipeline linked mentions on exact keyed identifiers only; the full entity
    resolution must find more of the true person pairs without losing precision.
    Measured on data/sample: exact keys person F1 0.9943, full 0.9981."""
    work, _ = sample_run
    env = {"MHGRAPH_AUDIT_LOG": str(tmp_path / "audit.log")}
    exact = mhgraph("--quiet", "run", str(SAMPLE), "--out", str(tmp_path / "exact"), "--resolver", "exact",
                    cwd=tmp_path, env_extra=env)
    assert exact.returncode == 0, exact.stderr
    figures = {}
    for name, run_dir in (("exact", tmp_path / "exact"), ("full", work / "run")):
        result = mhgraph("evaluate", str(run_dir), "--truth", str(SAMPLE / "truth"), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        figures[name] = json.loads(result.stdout)
    assert figures["full"]["er.person.recall"] > figures["exact"]["er.person.recall"]
    assert figures["full"]["er.person.f1"] > figures["exact"]["er.person.f1"]
    assert figures["full"]["er.person.precision"] >= figures["exact"]["er.person.precision"] - 0.002
    assert not (tmp_path / "exact" / "resolve" / "model.json").exists()  # no model in exact mode


@pytest.mark.slow
def test_quarantined_rows_are_counted_per_reason_in_the_run_summary(tmp_path):
    """Two payroll rows with an impossible date (one of them also with non-number hours) and one
    with a non-number wage: the run goes on, and the command's output, summary.md and the
    manifest all count 3 rows quarantined (the quarantine table has 4 problems)."""
    extracts = tmp_path / "extracts"
    extracts.mkdir()
    for path in SAMPLE.iterdir():
        if path.is_file():
            (extracts / path.name).write_bytes(path.read_bytes())
    payroll = extracts / "belastingdienst_loonaangifte.csv"
    frame = pl.read_csv(payroll, infer_schema_length=0)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()).is_in([3, 7])).then(pl.lit("31-02-2024")).otherwise(pl.col("datum_aanvang"))
        .alias("datum_aanvang"),
        pl.when(pl.int_range(pl.len()) == 11).then(pl.lit("veel")).otherwise(pl.col("brutoloon")).alias("brutoloon"),
        pl.when(pl.int_range(pl.len()) == 7).then(pl.lit("veel")).otherwise(pl.col("uren")).alias("uren"),
    )
    frame.write_csv(payroll)
    result = mhgraph("run", str(extracts), "--out", str(tmp_path / "run"), cwd=tmp_path,
                     env_extra={"MHGRAPH_AUDIT_LOG": str(tmp_path / "audit.log")})
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "run" / "run_manifest.json").read_text())
    assert manifest["ingest"]["rows_quarantined"] == 3
    assert f"; 3 of {manifest['ingest']['rows_read']} rows quarantined" in result.stdout
    assert "quarantined, bad_date: 2 row(s)" in result.stdout
    assert "quarantined, not_a_number: 2 row(s)" in result.stdout
    quarantine = read_csv_safe(tmp_path / "run" / "quarantine.csv")
    assert sorted(quarantine["row_number"].to_list()) == [4, 8, 8, 12]
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert "in quarantaine: 3" in summary and "(bad\\_date): 2" in summary  # Dutch, the default language


@pytest.mark.slow
def test_a_finished_run_is_not_ingested_into_and_its_changed_tables_are_not_reported(sample_run, tmp_path):
    import shutil

    from mhgraph.errors import InputError
    from mhgraph.export import report
    from mhgraph.ingest import ingest

    work, _ = sample_run
    before = (work / "run" / "tables" / "mentions.parquet").read_bytes()
    with pytest.raises(InputError, match="holds a finished run"):
        ingest(SAMPLE, out_dir=work / "run")
    assert (work / "run" / "tables" / "mentions.parquet").read_bytes() == before
    copy = tmp_path / "copy"
    shutil.copytree(work / "run", copy)
    mentions = copy / "tables" / "mentions.parquet"
    pl.read_parquet(mentions).head(5).write_parquet(mentions)
    with pytest.raises(InputError, match="not a complete run"):
        report(copy)


def test_no_housing_or_minimum_pay_piece_rests_on_an_officers_household(sample_run):
    """The family businesses of data/sample: their children and spouses, living with the owner,
    give no staff-housing piece and no minimum-pay piece."""
    from mhgraph.indicators.housing import SharedTables

    work, _ = sample_run
    tables = work / "run" / "tables"
    shared = SharedTables(pl.read_parquet(tables / "nodes.parquet"), pl.read_parquet(tables / "edges.parquet"))
    household = set(shared.household_jobs["job"])
    hits = pl.read_parquet(tables / "indicator_hits.parquet")
    assert household, "the sample holds employees living with an officer of their employer"
    for indicator in ("staff_housed_together", "minimum_pay_for_few_hours"):
        found = hits.filter(pl.col("indicator") == indicator)
        assert found.height, indicator
        assert not set(found["evidence"].explode()) & household, indicator
