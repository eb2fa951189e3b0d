"""Per-purpose delivery keys: pseudonyms made for one run purpose do not link to another's.

Partners hold one shared key and pseudonymise with the delivery key derived from it for the
run purpose they deliver for; the sidecar carries that purpose and the delivery key's
fingerprint. Ingest refuses mixed purposes and a delivery made for a narrower purpose than
the run's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from ingest_helpers import plain_payroll

from mhgraph.cli import main
from mhgraph.crypto import Key, load_key
from mhgraph.errors import InputError
from mhgraph.ingest import ingest
from mhgraph.pseudonymise import pseudonymise, read_meta
from mhgraph.resolve import resolve
from mhgraph.resolve.bits import decode_bloom, dice_pairs

PAYROLL = "belastingdienst_loonaangifte"
HASHED = ["werknemer_bsn", "werknemer_sleutel_1", "werknemer_sleutel_2", "werkgever_kvk_nummer",
          "werkgever_loonheffingennummer", "werknemer_adres_sleutel", "werknemer_adres_pand"]


@pytest.fixture
def shared_key(tmp_path) -> Path:
    path = tmp_path / "shared.key"
    path.write_text("the partners' shared key, kept apart from the data\n")
    return path


def _deliver(tmp_path: Path, shared_key: Path, purpose: str, plain: pl.DataFrame, folder: str) -> Path:
    source = tmp_path / f"{folder}.csv"
    plain.write_csv(source)
    return pseudonymise(source, PAYROLL, tmp_path / folder, key_file=shared_key, created="2025-02-01",
                        purpose=purpose)


def _entities_per_type(tmp_path: Path, folders: dict[str, str]) -> dict[str, int]:
    """Entities per type when the deliveries in ``folders`` (folder -> the purpose it was made for)
    are ingested each under its own purpose and resolved together."""
    parts = [ingest(tmp_path / folder, run_purpose=purpose) for folder, purpose in folders.items()]
    resolved = resolve(pl.concat([p.mentions for p in parts]), pl.concat([p.relations for p in parts]))
    return dict(resolved.resolution.group_by("entity_type").agg(pl.col("entity_id").n_unique()).iter_rows())


def test_the_same_records_delivered_for_two_purposes_share_no_pseudonym_and_resolve_apart(tmp_path, shared_key):
    plain = plain_payroll(30)
    again = plain.with_columns(regelnummer=pl.lit("B") + pl.col("regelnummer"))  # the same people under other record ids
    riec = _deliver(tmp_path, shared_key, "riec_integral_assessment", plain, "riec")
    labour = _deliver(tmp_path, shared_key, "labour_market_supervision", again, "labour")
    _deliver(tmp_path, shared_key, "riec_integral_assessment", again, "riec_again")
    a, b = (pl.read_csv(p, infer_schema=False) for p in (riec, labour))
    for column in HASHED:
        assert not set(a[column].drop_nulls()) & set(b[column].drop_nulls()), column
    # a name filter under the other purpose's key is no closer than a stranger's
    matrix, present = decode_bloom(a["werknemer_achternaam_bf"].to_list() + b["werknemer_achternaam_bf"].to_list())
    n = a.height
    same_person = dice_pairs(matrix, present, np.arange(n), np.arange(n) + n)
    strangers = dice_pairs(matrix, present, np.arange(n), (np.arange(n) + 1) % n)
    assert np.nanmean(same_person) < 0.5 and abs(np.nanmean(same_person) - np.nanmean(strangers)) < 0.1

    riec_purpose = {"riec": "riec_integral_assessment"}
    alone = _entities_per_type(tmp_path, riec_purpose)
    assert _entities_per_type(tmp_path, {**riec_purpose, "riec_again": "riec_integral_assessment"}) == alone
    apart = _entities_per_type(tmp_path, {**riec_purpose, "labour": "labour_market_supervision"})
    assert apart == {kind: 2 * count for kind, count in alone.items()}  # two purposes: nothing links


def test_ingest_refuses_extracts_delivered_for_different_purposes(tmp_path, shared_key):
    _deliver(tmp_path, shared_key, "riec_integral_assessment", plain_payroll(5), "riec")
    _deliver(tmp_path, shared_key, "labour_market_supervision", plain_payroll(5), "labour")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for folder, name in (("riec", "belastingdienst_loonaangifte.csv"), ("labour", "belastingdienst_loonaangifte_2.csv")):
        shutil.copy(tmp_path / folder / "belastingdienst_loonaangifte.csv", mixed / name)
        shutil.copy(tmp_path / folder / "belastingdienst_loonaangifte.csv.meta.json", mixed / f"{name}.meta.json")
    with pytest.raises(InputError, match="delivered for different purposes: .* for riec_integral_assessment, "
                                         ".* for labour_market_supervision"):
        ingest(mixed, specs=[_payroll_spec_matching_both()])


def _payroll_spec_matching_both():
    from dataclasses import replace

    from mhgraph.spec import SPEC_DIR, load_spec

    return replace(load_spec(SPEC_DIR / f"{PAYROLL}.toml"), file="belastingdienst_loonaangifte*.csv")


def test_a_run_reads_a_delivery_made_for_its_purpose_or_a_wider_one_never_a_narrower_one(tmp_path, shared_key):
    _deliver(tmp_path, shared_key, "labour_market_supervision", plain_payroll(5), "labour")
    assert ingest(tmp_path / "labour", run_purpose="labour_market_supervision").summary["sources"]
    with pytest.raises(InputError, match="delivered for run purpose labour_market_supervision, which does not "
                                         "permit administrative_supervision, bibob"):
        ingest(tmp_path / "labour", run_purpose="riec_integral_assessment")
    _deliver(tmp_path, shared_key, "riec_integral_assessment", plain_payroll(5), "riec")
    assert ingest(tmp_path / "riec", run_purpose="labour_market_supervision").summary["sources"]


def test_a_partner_does_not_deliver_for_a_purpose_that_may_not_use_its_data(tmp_path, shared_key):
    with pytest.raises(InputError, match="run purpose 'municipal_supervision' may not use belastingdienst_loonaangifte"):
        _deliver(tmp_path, shared_key, "municipal_supervision", plain_payroll(3), "municipal")
    assert not (tmp_path / "municipal").exists()


def test_keygen_publishes_the_fingerprint_of_each_purpose_key_that_sidecars_then_carry(tmp_path, capsys):
    key_file = tmp_path / "shared.key"
    assert main(["keygen", "--out", str(key_file)]) == 0
    printed = capsys.readouterr().out
    shared = load_key(key_file)
    for purpose in ("riec_integral_assessment", "municipal_supervision", "labour_market_supervision"):
        assert f"delivery key for {purpose}: fingerprint {shared.for_purpose(purpose).fingerprint}" in printed
    delivered = _deliver(tmp_path, key_file, "labour_market_supervision", plain_payroll(3), "out")
    meta = read_meta(delivered)
    assert meta["run_purpose"] == "labour_market_supervision"
    assert meta["key_fingerprint"] == shared.for_purpose("labour_market_supervision").fingerprint
    assert meta["key_fingerprint"] != shared.fingerprint
    assert isinstance(shared.for_purpose("x"), Key) and shared.for_purpose("x").fingerprint == shared.for_purpose("x").fingerprint


def test_ingest_refuses_extracts_whose_names_were_encoded_with_different_hardenings(tmp_path, shared_key):
    import json

    from mhgraph.pseudonymise import NAME_HARDENING

    source = tmp_path / "plain.csv"
    plain_payroll(5).write_csv(source)
    for hardening in ("none", "salt"):
        assert main(["--quiet", "pseudonymise", str(source), "--spec", PAYROLL, "--key-file", str(shared_key),
                     "--out", str(tmp_path / hardening), "--created", "2025-02-01",
                     "--name-hardening", hardening]) == 0
    assert main(["--quiet", "pseudonymise", str(source), "--spec", PAYROLL, "--key-file", str(shared_key),
                 "--out", str(tmp_path / "default"), "--created", "2025-02-01"]) == 0
    delivered = {h: pl.read_csv(tmp_path / h / f"{PAYROLL}.csv", infer_schema_length=0) for h in ("none", "salt")}
    metas = {h: read_meta(tmp_path / h / f"{PAYROLL}.csv") for h in ("none", "salt", "default")}
    assert {h: m["name_hardening"] for h, m in metas.items()} == {"none": "none", "salt": "salt",
                                                                    "default": NAME_HARDENING}
    for column in ("werknemer_achternaam_bf", "werknemer_voornaam_bf"):  # same names, other filters
        assert not set(delivered["none"][column]) & set(delivered["salt"][column])
    assert delivered["none"]["werknemer_bsn"].to_list() == delivered["salt"]["werknemer_bsn"].to_list()

    folder = tmp_path / "none"
    shutil.copy(tmp_path / "salt" / f"{PAYROLL}.csv", folder / f"{PAYROLL}_2.csv")
    shutil.copy(tmp_path / "salt" / f"{PAYROLL}.csv.meta.json", folder / f"{PAYROLL}_2.csv.meta.json")
    with pytest.raises(InputError, match="encode names differently: .* with name hardening none, .* with salt"):
        ingest(folder, specs=[_payroll_spec_matching_both()])
    # a sidecar from before the hardening was recorded counts as unhardened
    meta_path = folder / f"{PAYROLL}_2.csv.meta.json"
    meta = {k: v for k, v in json.loads(meta_path.read_text()).items() if k != "name_hardening"}
    meta_path.write_text(json.dumps(meta))
    shutil.copy(folder / f"{PAYROLL}.csv", folder / f"{PAYROLL}_2.csv")
    assert ingest(folder, specs=[_payroll_spec_matching_both()]).summary["sources"]
