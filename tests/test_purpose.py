"""Purpose limitation in every entry point: ingest, resolve, explain-match and run take a purpose,
leave out what it does not permit, and write a manifest and an audit line that say so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from mhgraph.purpose import ATTRIBUTE_PURPOSES, RUN_PURPOSES, permitted_specs, restrict_spec, restrict_tables
from mhgraph.spec import load_specs

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
PAYROLL = "belastingdienst_loonaangifte"


def mhgraph(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MHGRAPH_AUDIT_LOG"}  # the log next to the output
    return subprocess.run([sys.executable, "-m", "mhgraph.cli", "--quiet", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def audit_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "audit.log").read_text().splitlines()]


def test_every_run_purpose_keeps_or_drops_each_attribute_purpose_explicitly():
    for purpose, (_, allowed) in RUN_PURPOSES.items():
        kept, left_out = permitted_specs(load_specs(), purpose)
        assert {s.purpose for s in kept} <= allowed
        assert all(entry["purpose"] not in allowed for entry in left_out)
        mapped = {field for spec in kept for block in spec.entities for field in block.fields}
        for attribute, needed in ATTRIBUTE_PURPOSES.items():
            if needed not in allowed:
                assert attribute not in mapped, (purpose, attribute)


def test_restricted_spec_no_longer_reads_the_attribute_column():
    spec = next(s for s in load_specs() if s.name == "gemeente_emmen_vergunningen")
    assert restrict_spec(spec, "riec_integral_assessment") is spec
    cut = restrict_spec(spec, "permit_supervision")
    assert "bibob" in spec.delivered_columns and "bibob" not in cut.delivered_columns
    assert set(spec.delivered_columns) - set(cut.delivered_columns) == {"bibob"}


@pytest.fixture(scope="module")
def municipal_ingest(tmp_path_factory):
    work = tmp_path_factory.mktemp("ingest")
    result = mhgraph("ingest", str(SAMPLE), "--out", str(work / "out"), "--purpose", "municipal_supervision", cwd=work)
    assert result.returncode == 0, result.stderr
    return work, result


def test_a_restricted_scan_reads_as_the_restricted_table(tmp_path):
    mentions = pl.DataFrame({"mention_id": ["a", "b", "c"], "source": ["loon", "vergunning", "vergunning"],
                             "purpose": ["fiscal_supervision", "administrative_supervision", "administrative_supervision"],
                             "bibob_outcome": [None, "ernstige mate", "geen"]})
    mentions.write_parquet(tmp_path / "mentions.parquet")
    table, _, left_table = restrict_tables(mentions, None, "permit_supervision")
    scan, _, left_scan = restrict_tables(pl.scan_parquet(tmp_path / "mentions.parquet"), None, "permit_supervision")
    assert isinstance(scan, pl.LazyFrame) and left_scan == left_table == {"loon": 1}
    assert scan.collect().equals(table) and table["mention_id"].to_list() == ["b", "c"]
    # a column the purpose withholds is empty in the scan too, also when only that column is read
    assert scan.select("bibob_outcome").collect()["bibob_outcome"].null_count() == 2


def test_ingest_for_municipal_supervision_takes_in_no_payroll_record_and_says_why(municipal_ingest):
    work, result = municipal_ingest
    mentions = pl.read_parquet(work / "out" / "tables" / "mentions.parquet")
    relations = pl.read_parquet(work / "out" / "tables" / "relations.parquet")
    assert mentions.height > 0
    assert PAYROLL not in mentions["source"].to_list() and "belastingdienst" not in relations["partner"].to_list()
    assert set(mentions["purpose"].unique()) <= {"company_register", "administrative_supervision", "bibob"}
    manifest = json.loads((work / "out" / "ingest_manifest.json").read_text())
    assert manifest["command"] == "ingest" and manifest["run_purpose"] == "municipal_supervision"
    why = {entry["source"]: entry["why"] for entry in manifest["sources_excluded"]}
    assert why[PAYROLL] == "run purpose 'municipal_supervision' does not permit purpose 'fiscal_supervision'"
    left_out = {Path(entry["file"]).name: entry for entry in manifest["ingest"]["files_left_out"]}
    assert left_out[f"{PAYROLL}.csv"]["why"] == why[PAYROLL]
    assert PAYROLL not in manifest["sources_used"]
    assert f"{PAYROLL}.csv" not in {entry["file"] for entry in manifest["inputs"]}
    assert f"left out (not read): {SAMPLE / PAYROLL}.csv" in result.stdout
    line = audit_lines(work)[-1]
    assert line["command"] == "ingest" and line["run_purpose"] == "municipal_supervision"
    assert manifest["audit"]["line"] == line["seq"] and manifest["audit"]["sha256"] == line["hash"]


def test_resolve_takes_the_folder_purpose_and_narrows_it_on_request(municipal_ingest, tmp_path):
    work, _ = municipal_ingest
    folder = work / "out"
    result = mhgraph("resolve", str(folder), cwd=work)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((folder / "resolve_manifest.json").read_text())
    assert manifest["run_purpose"] == "municipal_supervision" and manifest["sources_excluded"] == []
    narrowed = mhgraph("resolve", str(folder), "--purpose", "labour_market_supervision", cwd=work)
    assert narrowed.returncode == 0, narrowed.stderr
    manifest = json.loads((folder / "resolve_manifest.json").read_text())
    resolution = pl.read_parquet(folder / "tables" / "resolution.parquet")
    # labour market supervision may use the KvK register, not the municipal permit registers
    assert resolution["mention_id"].str.starts_with("gemeente_").sum() == 0
    assert resolution["mention_id"].str.starts_with("kvk_").sum() > 0
    excluded = {entry["source"] for entry in manifest["sources_excluded"]}
    assert excluded == {"gemeente_arnhem_vergunningen", "gemeente_eindhoven_vergunningen",
                        "gemeente_emmen_vergunningen"}
    assert all(entry["mentions_left_out"] > 0 for entry in manifest["sources_excluded"])
    assert [line["command"] for line in audit_lines(work)][-2:] == ["resolve", "resolve"]
    assert audit_lines(work)[-1]["run_purpose"] == "labour_market_supervision"


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("run")
    result = mhgraph("run", str(SAMPLE), "--out", str(work / "run"), cwd=work)
    assert result.returncode == 0, result.stderr
    return work


def pair(run: Path, prefix_a: str, prefix_b: str) -> tuple[str, str]:
    matches = pl.read_parquet(run / "tables" / "matches.parquet").filter(
        (pl.col("decision") == "match") & pl.col("mention_a").str.starts_with(prefix_a)
        & pl.col("mention_b").str.starts_with(prefix_b))
    return matches.row(0)[:2]


@pytest.mark.slow
def test_explain_match_refuses_a_mention_the_purpose_does_not_permit(full_run):
    run = full_run / "run"
    payroll, kvk = pair(run, "belastingdienst", "kvk")
    refused = mhgraph("explain-match", str(run), payroll, kvk, "--purpose", "municipal_supervision", cwd=full_run)
    assert refused.returncode == 2
    assert "collected for purpose 'fiscal_supervision'" in refused.stderr and "municipal_supervision" in refused.stderr
    allowed = mhgraph("explain-match", str(run), payroll, kvk, cwd=full_run)
    assert allowed.returncode == 0 and "same entity: yes" in allowed.stdout
    manifest = json.loads((run / "explain_match_manifest.json").read_text())
    assert manifest["subject"] == {"mentions": sorted([payroll, kvk])}
    line = audit_lines(full_run)[-1]
    assert line["command"] == "explain-match" and line["subject"] == manifest["subject"]


@pytest.mark.slow
def test_run_without_bibob_purpose_shows_no_bibob_outcome_anywhere(full_run, tmp_path):
    def pages(out: Path) -> list[Path]:
        return [out / "summary.md", out / "index.html", *sorted((out / "clusters").glob("*.html")),
                *sorted((out / "partners").glob("*.csv"))]

    bibob_values = ("geen gevaar", "mindere mate", "ernstige mate")
    with_bibob = full_run / "run"
    for table in ("mentions", "nodes"):  # kept where the purpose permits it
        assert pl.read_parquet(with_bibob / "tables" / f"{table}.parquet")["bibob_outcome"].drop_nulls().len() > 0
    result = mhgraph("run", str(SAMPLE), "--out", str(tmp_path / "run"), "--purpose", "permit_supervision", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "run"
    for table in ("mentions", "nodes"):
        assert pl.read_parquet(out / "tables" / f"{table}.parquet")["bibob_outcome"].drop_nulls().len() == 0
    assert len(pages(out)) > 2
    for page in pages(out):
        text = page.read_text()
        assert "bibob_outcome:" not in text and not any(value in text for value in bibob_values), page
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert [entry["attribute"] for entry in manifest["attributes_withheld"]] == ["bibob_outcome"]
    assert audit_lines(tmp_path)[-1]["attributes_withheld"] == manifest["attributes_withheld"]
