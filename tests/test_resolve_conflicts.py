"""Identity conflicts (several people on one BSN) and the run's check on its own resolution."""

import dataclasses

import numpy as np
import polars as pl
import pytest
from resolve_helpers import common_name_trap, frame, person_row, population

from mhgraph.graph import build_graph_tables
from mhgraph.indicators import compute_indicators
from mhgraph.export.content import resolution_blocks
from mhgraph.export.document import to_markdown
from mhgraph.resolve import (Resolved, default_settings, identity_resolution, resolution_diagnostics, resolve,
                             resolve_baseline)
from mhgraph.resolve.cluster import cluster_type
from mhgraph.resolve.conflicts import find_identity_conflicts
from mhgraph.resolve.diagnostics import expected_pairs

BSN = "123456782"


def _payroll_rows() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Payroll rows under one BSN: Jan Bakker three times (once as initials, once with a
    mistyped date), and twice a Piotr Nowak born fifteen years later; each row ties its worker
    to the employer."""
    people = [("jan", "bakker", "1980-01-01"), ("jan", "bakker", "1980-01-01"), ("j.", "bakker", "1980-01-01"),
              ("jan", "bakker", "1980-01-04"), ("piotr", "nowak", "1995-12-24"), ("piotr", "nowak", "1995-12-24")]
    rows = [person_row(f"loon/{i}/werknemer", g, f, d, bsn=BSN, source="loon") for i, (g, f, d) in enumerate(people)]
    rows.append(person_row("loon/9/werknemer", "anna", "smit", "1990-05-05", bsn="111222333", source="loon"))
    for i in [*range(len(people)), 9]:
        rows.append({"mention_id": f"loon/{i}/werkgever", "entity_type": "company", "source": "loon", "partner": "loon",
                     "kvk_number": "k" * 32})
    mentions = frame(rows).with_columns(pl.lit("fiscal_supervision").alias("purpose"),
                                        pl.col("mention_id").str.split("/").list.get(1).alias("record_id"))
    relations = pl.DataFrame({
        "relation_id": [f"loon/{i}/EMPLOYED_BY/werknemer/werkgever" for i in [*range(len(people)), 9]],
        "type": "EMPLOYED_BY", "from_mention": [f"loon/{i}/werknemer" for i in [*range(len(people)), 9]],
        "to_mention": [f"loon/{i}/werkgever" for i in [*range(len(people)), 9]],
        "source": "loon", "partner": "loon", "purpose": "fiscal_supervision",
        "record_id": [str(i) for i in [*range(len(people)), 9]]})
    return mentions, relations


@pytest.fixture(scope="module")
def payroll():
    mentions, relations = _payroll_rows()
    return mentions, relations, resolve(mentions, relations)


def test_two_people_on_one_bsn_are_kept_apart_and_listed(payroll):
    _, _, resolved = payroll
    entity = dict(zip(resolved.resolution["mention_id"], resolved.resolution["entity_id"]))
    jan = {entity[f"loon/{i}/werknemer"] for i in range(4)}
    piotr = {entity[f"loon/{i}/werknemer"] for i in (4, 5)}
    assert len(jan) == 1 and len(piotr) == 1 and jan != piotr  # initials and a typo are no conflict
    conflicts = resolved.identity_conflicts
    assert conflicts.height == 1
    row = conflicts.row(0, named=True)
    assert row["key"] == "bsn" and {row["entity_a"], row["entity_b"]} == jan | piotr
    assert {row["mentions_a"], row["mentions_b"]} == {4, 2}
    assert "given_name_dice" in row["evidence"] and "birth_date_dice" in row["evidence"]
    refused = resolved.matches.filter(pl.col("decision") == "identity_conflict")
    assert refused.height >= 1 and refused["reason"].str.contains("identity conflict").all()


def test_an_identity_conflict_becomes_an_indicator_hit_with_its_evidence(payroll):
    mentions, relations, resolved = payroll
    nodes, edges = build_graph_tables(mentions.with_columns(pl.lit(None, dtype=pl.Int64).alias("row_number")),
                                      relations, resolved.resolution)
    hits = compute_indicators(nodes, edges, identity_conflicts=resolved.identity_conflicts,
                              indicators=["identity_conflict"])
    row = resolved.identity_conflicts.row(0, named=True)
    assert sorted(hits["focus_entity"].to_list()) == sorted([row["entity_a"], row["entity_b"]])
    reason = hits["reason"][0]
    assert "bsn (pseudonymised) is used by 2 persons" in reason and "similarity from 0 to 1 of given names 0." in reason
    assert all(len(evidence) >= 2 for evidence in hits["evidence"].to_list())  # both sides' payroll rows
    assert hits["partners"].to_list()[0] == ["loon"]
    assert compute_indicators(nodes, edges, indicators=["identity_conflict"]).height == 0  # nothing to go on


@pytest.fixture(scope="module")
def trap():
    mentions, _ = common_name_trap(2000, seed=5, namesakes=70)
    return mentions, resolve(mentions, None)


def test_a_sound_resolution_does_not_look_collapsed(trap):
    mentions, resolved = trap
    table = resolution_diagnostics(resolved, mentions)
    person = table.row(0, named=True)
    assert not person["collapsed"] and person["reasons"] == ""
    assert 0.7 < person["merge_ratio"] < 1.5 and person["prior"] > 0
    assert person["largest_entity"] <= 3 and person["large_entities"] == 0  # seventy Jan Jansens stay seventy
    assert resolution_blocks(table.to_dicts(), "en") == []


def test_a_deliberately_broken_model_is_reported_as_collapsed(trap):
    """Every compared pair a match, clustered without the average-linkage guard: the seventy
    Jan Jansens become one person, as common names did under the old label-free model."""
    mentions, resolved = trap
    healthy = resolved.scorers["person"]
    broken = type(healthy).__new__(type(healthy))
    broken.__dict__.update(vars(healthy), prior_weight_=25.0)
    person = resolved.settings.types["person"]
    unguarded = dataclasses.replace(person, clustering=dataclasses.replace(person.clustering, min_mean_score=0.0))
    scored = resolved.matches.with_columns(pl.Series("score", broken.predict_proba(resolved.matches)[:, 1]))
    clusters = cluster_type(scored, mentions.sort("mention_id"), unguarded)
    collapsed = Resolved(clusters.resolution, scored, resolved.settings, {"person": broken})
    table = resolution_diagnostics(collapsed, mentions)
    row = table.row(0, named=True)
    assert row["collapsed"] and row["largest_entity_groups"] >= 70 and row["large_entities"] >= 1
    assert "one entity spans" in row["reasons"] and "times what the model expects" in row["reasons"]
    assert row["merge_ratio"] > 3
    assert row["too_many_merges"] and row["entity_too_large"]
    warning = to_markdown(resolution_blocks(table.to_dicts(), "en"))
    assert "**WARNING — the person resolution looks collapsed" in warning and "times what the model expects" in warning


def test_a_scan_gives_the_same_conflicts_baseline_and_diagnostics_as_the_table(tmp_path):
    # each entity type is read from the scan when its turn comes. Anna's row renumbered 10: her
    # cannot-link with row 0 sorts among the blocked pairs, so the matches table reorders its rows
    mentions, relations = _payroll_rows()
    mentions = mentions.with_columns(pl.col("mention_id").replace("loon/9/werknemer", "loon/10/werknemer"))
    relations = relations.with_columns(pl.col("from_mention").replace("loon/9/werknemer", "loon/10/werknemer"))
    mentions.write_parquet(tmp_path / "mentions.parquet")
    scan = pl.scan_parquet(tmp_path / "mentions.parquet")
    overrides = [{"mention_a": "loon/0/werknemer", "mention_b": "loon/10/werknemer", "decision": "cannot_link",
                  "reason": "analyst"}]
    by_table, by_scan = resolve(mentions, relations, overrides=overrides), resolve(scan, relations, overrides=overrides)
    assert by_table.identity_conflicts.height == 1
    for name in ("resolution", "matches", "identity_conflicts"):
        assert getattr(by_scan, name).equals(getattr(by_table, name)), name
    pairs = by_scan.matches.select("mention_a", "mention_b")
    assert pairs.equals(pairs.sort("mention_a", "mention_b")) and "override" in by_scan.matches["blocked_by"].to_list()
    assert resolution_diagnostics(by_scan, scan).equals(resolution_diagnostics(by_table, mentions))
    assert resolution_diagnostics(by_table, mentions)["identity_conflicts"].sum() == 1
    settings = by_table.settings
    assert resolve_baseline(scan, settings).equals(resolve_baseline(mentions, settings))
    assert identity_resolution(scan, settings).equals(identity_resolution(mentions, settings))
    # one BSN for six rows: the baseline joins Jan Bakker and Piotr Nowak, the resolver keeps them apart
    assert resolve_baseline(mentions, settings).filter(pl.col("entity_type") == "person")["entity_id"].n_unique() == 2


def test_expected_pairs_do_not_depend_on_the_order_of_the_matches():
    # a float sum follows the order of its terms: the diagnostics sum in a fixed order
    mentions, _ = population(400, copies=3, seed=5)
    resolved = resolve(mentions, None)
    # without the figures counted while resolving: the diagnostics count them from the matches
    # (which leave out the pairs between two BSNs that the resolver counts: never_merged)
    expected = resolution_diagnostics(dataclasses.replace(resolved, expected_pairs=None), mentions)["expected_pairs"].to_list()
    assert expected[0] > 0
    for seed in range(8):
        shuffled = dataclasses.replace(resolved, matches=resolved.matches.sample(fraction=1.0, shuffle=True, seed=seed),
                                       expected_pairs=None)
        assert resolution_diagnostics(shuffled, mentions)["expected_pairs"].to_list() == expected


def test_expected_pairs_of_four_byte_group_numbers_are_those_of_eight_byte_ones():
    # the resolver hands the groups as int32 (half the memory at tens of millions of pairs); their
    # pair codes pass the int32 range and must be worked out in int64 all the same: in int32
    # groups 0 and 4, each with group 2**30 - 1, would wrap to one code and count once
    top = 2**30 - 1
    a, b, score = np.array([0, 4, top]), np.array([top, top, 0]), np.array([0.5, 0.25, 0.125])
    for dtype in (np.int64, np.int32):
        assert expected_pairs(a.astype(dtype), b.astype(dtype), score) == 0.75
    rng = np.random.default_rng(3)
    one, other = rng.integers(0, 2_000_000_000, 2500), rng.integers(0, 2_000_000_000, 2500)
    a, b = np.concatenate([one, other]), np.concatenate([other, one])  # every two groups twice, once each way
    score = rng.random(5000)
    wide = expected_pairs(a, b, score)
    assert wide == expected_pairs(a.astype(np.int32), b.astype(np.int32), score)
    assert wide == pytest.approx(np.maximum(score[:2500], score[2500:]).sum(), rel=1e-12)


def test_the_conflict_check_counts_no_commonness_it_never_reads():
    # its judgement reads given name and date from narrowed settings, never the date's
    # commonness: only the evidence (full settings, shared with the comparison of the pairs)
    # counts it, once
    mentions, relations = _payroll_rows()
    people = mentions.filter(pl.col("entity_type") == "person").sort("mention_id")
    cache = {}
    conflicts = find_identity_conflicts(people, default_settings().types["person"], relations, None, cache)
    assert conflicts.table.height == 1
    assert len([key for key in cache if isinstance(key, tuple) and key[0] == "commonness"]) == 1
