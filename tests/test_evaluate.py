"""Evaluation on a case small enough to check by hand.

Truth: person:1 = mentions m1 m2 m3, person:2 = m4 m5, person:3 = m6 m7 (m7 was quarantined, so
the run never saw it), company:1 = c1 c2, company:2 = c3, company:3 = c4, address:1 = a1 a2,
address:2 = a3. Networks: N01 planted {person:1, person:2, company:1}; N02 planted {person:3,
address:1}; N03 planted {person:99}, which never appears in the run; N04 decoy {company:3,
address:2}.
"""

import json

import polars as pl
import pytest

from mhgraph.cli import main
from mhgraph.errors import InputError
from mhgraph.evaluate import evaluate
from mhgraph.indicators import RANKING
from mhgraph.manifest import file_digest
from mhgraph.run_folder import MANIFEST_NAME, file_digests
from mhgraph.spec import load_specs

SPEC_PARTNER = {spec.name: spec.partner for spec in load_specs()}

TRUTH_MENTIONS = {
    "m1": "person:1", "m2": "person:1", "m3": "person:1", "m4": "person:2", "m5": "person:2",
    "m6": "person:3", "m7": "person:3", "c1": "company:1", "c2": "company:1", "c3": "company:2",
    "c4": "company:3", "a1": "address:1", "a2": "address:1", "a3": "address:2",
}
NETWORKS = [
    ("N01", "planted", "labour_exploitation", ["person:1", "person:2", "company:1"]),
    ("N02", "planted", "crowded_housing", ["person:3", "address:1"]),
    ("N03", "planted", "phoenix_straw_director", ["person:99"]),
    ("N04", "decoy", "hotel_chain", ["company:3", "address:2"]),
]


def _write_truth(folder, networks=NETWORKS):
    folder.mkdir(parents=True)
    pl.DataFrame({
        "mention_id": list(TRUTH_MENTIONS), "source": "s", "record_id": list(TRUTH_MENTIONS), "role": "r",
        "entity_type": [e.split(":")[0] for e in TRUTH_MENTIONS.values()], "entity_id": list(TRUTH_MENTIONS.values()),
    }).write_parquet(folder / "mentions.parquet")
    pl.DataFrame([(n, kind, typology, e.split(":")[0], e) for n, kind, typology, members in networks for e in members],
                 schema=["network_id", "kind", "typology", "entity_type", "entity_id"], orient="row",
                 ).write_parquet(folder / "networks.parquet")


def _write_run(folder, resolution: dict, communities: dict, scores: dict, extracts=None):
    """A complete run (its manifest lists its files) that read one extract in ``extracts``."""
    extracts = extracts or folder.parent
    extracts.mkdir(parents=True, exist_ok=True)
    (extracts / "extract.csv").write_text("id\n1\n")
    tables = folder / "tables"
    tables.mkdir(parents=True)
    kinds = {"P": "person", "C": "company", "A": "address"}
    pl.DataFrame({"mention_id": list(resolution), "entity_id": list(resolution.values()),
                  "entity_type": [kinds[e[0].upper()] for e in resolution.values()]},
                 ).write_parquet(tables / "resolution.parquet")
    pl.DataFrame([(e, c) for c, members in communities.items() for e in members],
                 schema=["entity_id", "cluster_id"], orient="row").write_parquet(tables / "communities.parquet")
    ranked = sorted(scores, key=lambda c: (-scores[c], c))
    pl.DataFrame({"cluster_id": ranked, "rank": list(range(1, len(ranked) + 1)),
                  "score": [float(scores[c]) for c in ranked],
                  "flagged": [scores[c] >= RANKING["flag_score"] for c in ranked]}).write_parquet(tables / "clusters.parquet")
    manifest = {"inputs": [{"file": "extract.csv", "sha256": file_digest(extracts / "extract.csv")}],
                "files": file_digests(folder)}
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))


@pytest.fixture
def imperfect(tmp_path):
    _write_truth(tmp_path / "data" / "truth")
    resolution = {"m1": "P-a", "m2": "P-a", "m3": "P-b", "m4": "P-b", "m5": "P-b", "m6": "P-c",
                  "c1": "C-x", "c2": "C-x", "c3": "C-x", "c4": "C-z", "a1": "A-1", "a2": "A-2", "a3": "A-3",
                  "extra": "P-d"}  # a mention the truth does not know is ignored
    communities = {"K1": ["P-a", "C-x"], "K2": ["P-b"], "K3": ["P-c", "A-2"], "K4": ["C-z", "A-3"], "K5": ["A-1"],
                   "K6": ["P-d"]}
    _write_run(tmp_path / "run", resolution, communities, {"K4": 5, "K2": 4, "K5": 3, "K1": 2, "K3": 1, "K6": 0},
               extracts=tmp_path / "data")
    return tmp_path


def test_a_perfect_run_scores_one(tmp_path):
    _write_truth(tmp_path / "truth", NETWORKS[:2] + NETWORKS[3:])
    resolution = {m: e.replace(":", "-") for m, e in TRUTH_MENTIONS.items() if m != "m7"}
    communities = {"K1": ["person-1", "person-2", "company-1"], "K2": ["person-3", "address-1"],
                   "K3": ["company-3", "address-2"], "K4": ["company-2"]}
    _write_run(tmp_path / "run", resolution, communities, {"K1": 3.0, "K2": 2.5, "K3": 0.0, "K4": 0.0})
    result = evaluate(tmp_path / "run", tmp_path / "truth")
    for entity_type in ("person", "company", "address"):
        for figure in ("precision", "recall", "f1"):
            assert result[f"er.{entity_type}.{figure}"] == 1.0, (entity_type, figure)
    assert result["detection.recall_at_10"] == 1.0
    assert result["detection.average_precision"] == 1.0
    assert result["detection.decoys_in_top_10"] == 0


def test_a_known_imperfect_run_scores_what_we_compute_by_hand(imperfect):
    result = evaluate(imperfect / "run", imperfect / "data" / "truth")
    # persons: predicted pairs m1m2, m3m4, m3m5, m4m5; true pairs m1m2, m1m3, m2m3, m4m5
    # (m7 is not in the run, so person:3 has no pair); both: m1m2, m4m5
    assert (result["er.person.precision"], result["er.person.recall"], result["er.person.f1"]) == (0.5, 0.5, 0.5)
    assert (result["er.person.predicted_pairs"], result["er.person.true_pairs"]) == (4, 4)
    # companies: c1 c2 c3 merged: 3 predicted pairs, 1 true (c1c2) and found
    assert (result["er.company.precision"], result["er.company.recall"], result["er.company.f1"]) == (
        0.333333, 1.0, 0.5)
    # addresses: a1 and a2 split: no predicted pair (precision undefined), 1 true pair missed
    assert (result["er.address.precision"], result["er.address.recall"], result["er.address.f1"]) == (None, 0.0, None)
    assert result["er.permit.true_pairs"] == 0 and result["er.permit.precision"] is None
    assert (result["er.mentions.truth"], result["er.mentions.run"], result["er.mentions.common"]) == (14, 14, 13)
    # detection. Flagged clusters in rank order: K4 (finds decoy N04), K2 (holds 1 of N01's 3:
    # does not find it, but is made of it), K5 (holds address:1, half of N02: finds it), K1 (2 of
    # N01's 3: finds it). K3 also holds half of N02 but scores 1, under the flag score, so it is not flagged. N03
    # never appears in the run. Only K4 belongs to no planted network.
    assert result["detection.first_rank.N01"] == 4 and result["detection.first_rank.N02"] == 3
    assert result["detection.first_rank.N03"] is None
    assert result["detection.recall_at_10"] == round(2 / 3, 6) and result["detection.recall"] == round(2 / 3, 6)
    # AP = (P@3 + P@4) / 3 planted networks = (1/3 + 2/4) / 3
    assert result["detection.average_precision"] == round((1 / 3 + 2 / 4) / 3, 6) == 0.277778
    assert result["detection.decoys_in_top_10"] == 1 and result["detection.false_positives_in_top_10"] == 1
    assert (result["detection.planted_networks"], result["detection.decoy_networks"],
            result["detection.flagged_clusters"]) == (3, 1, 4)
    assert json.loads((imperfect / "run" / "evaluation.json").read_text()) == result
    smaller_k = evaluate(imperfect / "run", imperfect / "data", k=3, write=False)  # the folder holding truth/
    assert smaller_k["detection.recall_at_3"] == round(1 / 3, 6) and smaller_k["detection.decoys_in_top_3"] == 1


def test_cli_prints_one_json_object_with_dotted_keys(imperfect, capsys):
    assert main(["--quiet", "evaluate", str(imperfect / "run"), "--truth", str(imperfect / "data" / "truth")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["er.person.f1"] == 0.5 and printed["detection.average_precision"] == 0.277778
    assert all("." in key for key in printed)


def test_cli_names_a_missing_table(imperfect, capsys):
    (imperfect / "run" / "tables" / "clusters.parquet").unlink()
    assert main(["--quiet", "evaluate", str(imperfect / "run"), "--truth", str(imperfect / "data" / "truth")]) == 2
    assert "not a complete run: 1 file(s) its manifest lists are missing (tables/clusters.parquet)" in (
        capsys.readouterr().err)


def test_a_run_without_its_manifest_is_refused(imperfect, capsys):
    (imperfect / "run" / MANIFEST_NAME).unlink()
    assert main(["--quiet", "evaluate", str(imperfect / "run"), "--truth", str(imperfect / "data" / "truth")]) == 2
    assert "not a complete run: there is no run_manifest.json" in capsys.readouterr().err


def test_a_truth_beside_other_extracts_is_refused(imperfect, capsys):
    (imperfect / "data" / "extract.csv").write_text("id\n2\n")  # another delivery, another seed
    assert main(["--quiet", "evaluate", str(imperfect / "run"), "--truth", str(imperfect / "data" / "truth")]) == 2
    err = capsys.readouterr().err
    assert "does not belong to this run: extract.csv beside it is not the file the run read" in err
    assert f"file {imperfect / 'data' / 'extract.csv'}: " in err  # the file, not the folder holding it
    (imperfect / "data" / "extract.csv").unlink()
    with pytest.raises(InputError, match="the run read extract.csv, which is not beside it") as error:
        evaluate(imperfect / "run", imperfect / "data" / "truth")
    assert error.value.file == str(imperfect / "data" / "extract.csv")


def test_a_truth_table_without_its_columns_is_named(imperfect):
    pl.DataFrame({"network_id": ["N01"]}).write_parquet(imperfect / "data" / "truth" / "networks.parquet")
    with pytest.raises(InputError, match=r"networks.parquet.*column 'kind'"):
        evaluate(imperfect / "run", imperfect / "data" / "truth")


def test_the_whole_network_is_the_denominator(tmp_path):
    """N02's person:3 and company:2 are in the delivered extracts but not in the run (as if
    their partner had been left out): a cluster holding only address:2 holds one of three."""
    networks = [("N01", "planted", "agency_phoenix", ["person:1", "person:2", "company:1"]),
                ("N02", "planted", "logistics", ["person:3", "company:2", "address:2"])]
    _write_truth(tmp_path / "truth", networks)
    resolution = {m: e.replace(":", "-") for m, e in TRUTH_MENTIONS.items() if m not in ("m4", "m5", "m6", "m7", "c3")}
    communities = {"K1": ["person-1", "company-1"], "K2": ["address-2"], "K3": ["company-3", "address-1"]}
    _write_run(tmp_path / "run", resolution, communities, {"K1": 3.0, "K2": 2.0, "K3": 0.0})
    result = evaluate(tmp_path / "run", tmp_path / "truth", write=False)
    # N01: person:2 was never taken in, K1 still holds 2 of 3; N02: K2 holds 1 of 3
    assert result["detection.first_rank.N01"] == 1 and result["detection.first_rank.N02"] is None
    assert result["detection.coverage.N01"] == round(2 / 3, 6) and result["detection.coverage.N02"] == round(1 / 3, 6)
    assert result["detection.recall_at_10"] == 0.5
    # K2 does not find N02, but it is made of N02 (a fragment of a planted network): no false positive
    assert result["detection.false_positives_in_top_10"] == 0 and result["detection.decoys_in_top_10"] == 0


def test_figures_per_strength_and_origin(tmp_path):
    _write_truth(tmp_path / "truth", NETWORKS)
    frame = pl.read_parquet(tmp_path / "truth" / "networks.parquet")
    variants = {"N01": ("strong", "eu"), "N02": ("strong", "non_eu"), "N03": ("hidden", "eu"), "N04": (None, None)}
    frame.with_columns(strength=pl.col("network_id").replace_strict({k: v[0] for k, v in variants.items()}),
                       origin=pl.col("network_id").replace_strict({k: v[1] for k, v in variants.items()}),
                       lookalike_of=pl.when(pl.col("kind") == "decoy").then(pl.lit("agency_phoenix")),
                       ).write_parquet(tmp_path / "truth" / "networks.parquet")
    resolution = {m: e.replace(":", "-") for m, e in TRUTH_MENTIONS.items()}
    communities = {"K1": ["person-1", "person-2", "company-1"], "K2": ["person-3", "address-1"]}
    _write_run(tmp_path / "run", resolution, communities, {"K1": 2.0, "K2": 0.0})
    result = evaluate(tmp_path / "run", tmp_path / "truth", write=False)
    assert result["detection.by_strength.strong.recall_at_10"] == 0.5
    assert result["detection.by_strength.hidden.recall_at_10"] == 0.0
    assert result["detection.by_typology_strength.labour_exploitation.strong.networks"] == 1
    # labour_exploitation occurs with one origin only: no fairness pair to compare
    assert not [key for key in result if key.startswith("fairness.")]


@pytest.mark.slow
def test_partner_ablation_reruns_each_configuration_with_the_whole_network_as_denominator(tmp_path, capsys):
    from mhgraph.evaluate import partner_ablation, partner_group
    from mhgraph.pipeline import run_pipeline
    from synth_helpers import synthetic_set

    folder, _ = synthetic_set(800, 3)  # the small set the synth tests use as well
    run_pipeline(folder, tmp_path / "run")
    configurations = partner_ablation(tmp_path / "run", folder / "truth")
    groups = ["belastingdienst", "ind", "kvk", "municipalities"]
    assert set(configurations) == {"all", *(f"only_{g}" for g in groups), *(f"without_{g}" for g in groups)}
    assert configurations["only_ind"]["partners"] == ["ind"] and configurations["all"]["partners"] == groups
    full = evaluate(tmp_path / "run", folder / "truth", write=False)
    assert configurations["all"]["recall_at_10"] == full["detection.recall_at_10"]
    # A configuration finds a network only where its partners mention at least half of it.
    mentions = pl.read_parquet(folder / "truth" / "mentions.parquet").with_columns(
        group=pl.col("source").map_elements(lambda s: partner_group(SPEC_PARTNER[s]), return_dtype=pl.String))
    members = pl.read_parquet(folder / "truth" / "networks.parquet").select("network_id", "entity_id")
    for name, result in configurations.items():
        seen = mentions.filter(pl.col("group").is_in(result["partners"])).select("entity_id").unique()
        share = (members.join(mentions.select("entity_id").unique(), on="entity_id", how="semi")
                 .with_columns(kept=pl.col("entity_id").is_in(seen["entity_id"].implode()))
                 .group_by("network_id").agg(pl.col("kept").mean()))
        found = result["outcomes"].filter(pl.col("rank").is_not_null()).join(share, on="network_id")
        assert (found["kept"] >= 0.5).all(), name
    assert main(["--quiet", "evaluate", str(tmp_path / "run"), "--truth", str(folder / "truth"),
                 "--ablate-partners"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["ablation.only_kvk.partners"] == "kvk"
    assert printed["ablation.without_ind.recall_at_10"] == configurations["without_ind"]["recall_at_10"]
