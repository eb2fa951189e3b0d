"""No plaintext value of the data, no key and no identifier in a partner's file name reaches the
logs, the printed output, the documents, summaries, manifests or tables of ``mhgraph pseudonymise``,
``mhgraph ingest``, ``mhgraph run`` and ``mhgraph evaluate``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from ingest_helpers import KEY, OTHER_KEY, deliver, plain_payroll, plain_referenten, spec_with_file_pattern, valid_bsn

from mhgraph.errors import InputError
from mhgraph.file_names import shown_path
from mhgraph.ingest import ingest
from mhgraph.manifest import file_digest
from mhgraph.pseudonymise import META_SUFFIX, NAME_HARDENING
from mhgraph.safe_output import read_csv_safe
from mhgraph.spec import SPEC_DIR

SURNAME = "Zyborgski"  # a name in the data and in a partner's file name
FILE_BSN = valid_bsn(4242)  # a BSN in a partner's file name
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _mhgraph(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mhgraph.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "MHGRAPH_AUDIT_LOG": str(cwd / "audit.log")}, timeout=600)


def test_pseudonymise_and_run_show_no_plaintext_value_key_or_identifying_file_name(tmp_path):
    specs = tmp_path / "specs"
    for spec in SPEC_DIR.glob("*.toml"):
        (specs / spec.name).parent.mkdir(exist_ok=True)
        (specs / spec.name).write_text(spec.read_text(encoding="utf-8"), encoding="utf-8")
    spec_with_file_pattern(specs, "belastingdienst_loonaangifte", "belastingdienst_loonaangifte*.csv")
    key_file = tmp_path / "shared.key"
    assert _mhgraph("keygen", "--out", str(key_file), cwd=tmp_path).returncode == 0
    part_a = plain_payroll(40, seed=3).with_columns(
        werknemer_achternaam=pl.when(pl.int_range(pl.len()) < 5).then(pl.lit(SURNAME)).otherwise("werknemer_achternaam"))
    part_b = plain_payroll(10, seed=4).with_columns(  # its first record id repeats one of part a's: quarantined
        regelnummer=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("L000001")).otherwise(
            pl.format("L9{}", pl.int_range(pl.len()))))
    plaintext = {f"belastingdienst_loonaangifte_{SURNAME}_{FILE_BSN}_plaintext.csv": part_a,
                 "belastingdienst_loonaangifte_deel2_plaintext.csv": part_b}
    delivery, outputs = tmp_path / "delivery", []
    for name, frame in plaintext.items():
        frame.write_csv(tmp_path / name)
        done = _mhgraph("pseudonymise", str(tmp_path / name), "--spec", str(specs / "belastingdienst_loonaangifte.toml"),
                        "--key-file", str(key_file), "--out", str(delivery), "--created", "2025-02-01", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        outputs += [done.stdout, done.stderr]
    names = {p.name for p in delivery.glob("*.csv")}
    (hashed,) = names - {"belastingdienst_loonaangifte_deel2.csv"}  # the BSN's name is delivered under a keyed hash
    assert len(names) == 2 and re.fullmatch(r"belastingdienst_loonaangifte[a-p]{16}\.csv", hashed)
    run = _mhgraph("run", str(delivery), "--out", str(tmp_path / "run"), "--specs", str(specs), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    shown = Path(shown_path(hashed)).name
    # read after deel2, the hashed name holds the repeated record id
    assert f"{shown}: 40 rows read, 39 accepted, 1 quarantined" in run.stderr and "deel2.csv: 10 rows read" in run.stderr
    outputs += [run.stdout, run.stderr]
    # the documents, the partner lists and the quarantine; the manifests name the files read (with their hash)
    documents = [p for p in (tmp_path / "run").rglob("*") if p.is_file() and p.suffix in (".md", ".html", ".csv")]
    assert {"summary.md", "index.html", "quarantine.csv"} <= {p.name for p in documents}
    outputs += [p.read_text(encoding="utf-8", errors="replace") for p in documents]
    quarantine = read_csv_safe(tmp_path / "run" / "quarantine.csv")
    assert quarantine["reason"].to_list() == ["duplicate_record_id"]
    assert "deel2.csv" in quarantine["message"][0] and shown in (tmp_path / "run" / "summary.md").read_text()
    secret = key_file.read_text().strip()
    planted = {SURNAME, FILE_BSN, secret, *part_a["werknemer_bsn"], *part_b["werknemer_bsn"]}
    assert [(value, i) for value in planted for i, text in enumerate(outputs) if value in text] == []


@pytest.mark.parametrize(("identifier", "name"), [
    (FILE_BSN, f"loon_{FILE_BSN[:3]}.{FILE_BSN[3:6]}.{FILE_BSN[6:]}.csv"),
    (FILE_BSN, f"loon_bsn{FILE_BSN}.csv"),
    ("27312345", "loon_kvk2731 2345.csv"),
    ("5611-ab", "loon_5611-ab.csv"),
], ids=["bsn-with-dots", "bsn-after-letters", "kvk-split", "postcode"])
def test_a_refused_ingest_names_the_file_without_the_identifier_in_its_name(tmp_path, identifier, name):
    specs = tmp_path / "specs"
    spec_with_file_pattern(specs, "belastingdienst_loonaangifte", "loon_*.csv")
    delivered = deliver(tmp_path / "in", "belastingdienst_loonaangifte", plain_payroll(5))
    delivered.rename(delivered.with_name(name))  # its sidecar keeps the old name: the file has none
    done = _mhgraph("ingest", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--specs", str(specs), cwd=tmp_path)
    assert done.returncode == 2
    assert f"file {shown_path(Path('in') / name)}: no sidecar beside it" in done.stderr.replace(str(tmp_path) + os.sep, "")
    assert identifier not in done.stdout + done.stderr and name not in done.stdout + done.stderr


# Sidecar fields two extracts of one run must agree on: the values written into the two sidecars
# (None: as delivered; the keys differ) and how the refusal words the disagreement.
DISAGREEMENTS = {
    "key_fingerprint": (None, "were pseudonymised with different keys"),
    "run_purpose": (("riec_integral_assessment", "municipal_supervision"), "were delivered for different purposes"),
    "name_hardening": ((NAME_HARDENING, "none"), "encode names differently"),
}


@pytest.mark.parametrize("field", list(DISAGREEMENTS))
def test_a_refusal_of_extracts_that_disagree_names_them_without_the_identifier_in_a_name(tmp_path, field):
    # the refusal names both extracts (the usual one and the odd one out): one is named after a BSN
    values, refusal = DISAGREEMENTS[field]
    delivery, name = tmp_path / "in", f"ind_referenten_{FILE_BSN}.csv"  # matched to its spec by its sidecar
    usual = deliver(delivery, "belastingdienst_loonaangifte", plain_payroll(5))
    odd = deliver(delivery, "ind_referenten", plain_referenten(3), key=OTHER_KEY if values is None else KEY)
    odd.rename(delivery / name)
    Path(f"{odd}{META_SUFFIX}").rename(delivery / f"{name}{META_SUFFIX}")
    sidecars = [Path(f"{usual}{META_SUFFIX}"), delivery / f"{name}{META_SUFFIX}"]
    for sidecar, value in zip(sidecars, values or ()):
        sidecar.write_text(json.dumps({**json.loads(sidecar.read_text(encoding="utf-8")), field: value}),
                           encoding="utf-8")
    usual_value, odd_value = (json.loads(sidecar.read_text(encoding="utf-8"))[field] for sidecar in sidecars)
    assert usual_value != odd_value
    done = _mhgraph("ingest", str(delivery), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2 and refusal in done.stderr, done.stderr
    assert shown_path(name) in done.stderr and usual.name in done.stderr
    audit = tmp_path / "audit.log"
    texts = [done.stdout, done.stderr, audit.read_text(encoding="utf-8") if audit.exists() else ""]
    texts += [p.read_bytes().decode("utf-8", errors="replace") for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert [i for i, text in enumerate(texts) if FILE_BSN in text] == []


@pytest.mark.parametrize("disagreement", ["key", "name_hardening"])
def test_extracts_that_disagree_are_named_without_the_identifier_in_a_file_name(tmp_path, disagreement):
    # The message names both files (the odd one and one that agrees), not only the file it is about.
    folder, name = tmp_path / "in", f"loon_{FILE_BSN}.csv"
    deliver(folder, "ind_referenten", plain_referenten())
    delivered = deliver(folder, "belastingdienst_loonaangifte", plain_payroll(5),
                        **({"key": OTHER_KEY} if disagreement == "key" else {}))
    sidecar = folder / (delivered.name + META_SUFFIX)
    if disagreement == "name_hardening":
        sidecar.write_text(json.dumps(json.loads(sidecar.read_text()) | {"name_hardening": "salt"}))
    sidecar.rename(folder / (name + META_SUFFIX))  # matched to its spec by the sidecar's source
    delivered.rename(folder / name)
    with pytest.raises(InputError, match="different keys|encode names differently") as error:
        ingest(folder)
    message = str(error.value)
    assert f"{shown_path(name)} has" in message or f"{shown_path(name)} with" in message
    assert FILE_BSN not in message and "ind_referenten.csv" in message


def test_a_file_of_an_unknown_type_is_refused_without_the_digits_its_extension_holds(tmp_path):
    folder, name = tmp_path / "in", f"loon_{FILE_BSN[:3]}.{FILE_BSN[3:]}"  # a BSN split by a dot: no extension
    delivered = deliver(folder, "belastingdienst_loonaangifte", plain_payroll(5))
    (folder / (delivered.name + META_SUFFIX)).rename(folder / (name + META_SUFFIX))
    delivered.rename(folder / name)
    with pytest.raises(InputError, match="unsupported file type") as error:
        ingest(folder)
    assert str(error.value).startswith(f"file {shown_path(folder / name)}: ") and FILE_BSN[3:] not in str(error.value)


def _text_in_parquet(path: Path) -> str:
    """Every string a Parquet file holds where a reader would see it: its key-value metadata and
    the values of its text columns (the file's bytes are compressed, so a grep sees neither)."""
    frame = pl.read_parquet(path)
    texts = [repr(pq.read_metadata(path).metadata)] + [
        str(value) for name, dtype in frame.schema.items() if dtype in (pl.String, pl.List(pl.String))
        for value in frame[name].to_list()]
    return "\n".join(texts)


@pytest.mark.slow
def test_no_output_of_ingest_run_or_evaluate_holds_an_identifier_from_a_partner_file_name(tmp_path):
    # data/sample (and its truth) with the payroll extract named after a BSN, and a file no spec
    # matches named after a postcode: matched by its sidecar, read, summed up, checksummed
    delivery = tmp_path / "in"
    shutil.copytree(SAMPLE, delivery)
    payroll = f"belastingdienst_loonaangifte_{FILE_BSN}.csv"
    (delivery / "belastingdienst_loonaangifte.csv").rename(delivery / payroll)
    (delivery / f"belastingdienst_loonaangifte.csv{META_SUFFIX}").rename(delivery / f"{payroll}{META_SUFFIX}")
    (delivery / "notities_5611AB.txt").write_text("no extract\n", encoding="utf-8")
    outputs = [_mhgraph("ingest", str(delivery), "--out", str(tmp_path / "ingest"), cwd=tmp_path),
               _mhgraph("run", str(delivery), "--out", str(tmp_path / "run"), cwd=tmp_path)]
    outputs.append(_mhgraph("evaluate", str(tmp_path / "run"), "--truth", str(delivery / "truth"), cwd=tmp_path))
    assert [done.returncode for done in outputs] == [0, 0, 0], [done.stderr[-2000:] for done in outputs]
    summary = json.loads((tmp_path / "ingest" / "ingest_summary.json").read_text(encoding="utf-8"))
    shown = shown_path(delivery / payroll)
    assert shown in [source["file"] for source in summary["sources"]]  # still told apart, and found by its hash
    assert shown_path(delivery / "notities_5611AB.txt") in summary["unmatched_files"]
    manifest = json.loads((tmp_path / "run" / "run_manifest.json").read_text(encoding="utf-8"))
    assert {"file": Path(shown).name, "sha256": file_digest(delivery / payroll)} in manifest["inputs"]
    written = [p for folder in ("ingest", "run") for p in (tmp_path / folder).rglob("*") if p.is_file()]
    assert {"ingest_summary.json", "ingest_manifest.json", "run_manifest.json", "index.html", "quarantine.parquet"} <= {
        p.name for p in written}
    texts = [done.stdout + done.stderr for done in outputs] + [(tmp_path / "audit.log").read_text(encoding="utf-8")]
    texts += [p.read_bytes().decode("utf-8", errors="replace") for p in written]
    texts += [_text_in_parquet(p) for p in written if p.suffix == ".parquet"]
    for identifier in (FILE_BSN, "5611AB", payroll):
        assert [i for i, text in enumerate(texts) if identifier in text] == [], identifier
