import polars as pl
import pytest

from graph_fixtures import population
from mhgraph.detect import detect_communities
from mhgraph.errors import InputError
from mhgraph.graph import build_graph_tables
from mhgraph.indicators import HIT_SCHEMA, RANKING, compute_indicators
from mhgraph.indicators.identity import identity_conflict
from mhgraph.rank import counted_hits, partners_needed, rank_clusters


def _hits(rows):
    """rows: (indicator, focus, partners, weight)."""
    return pl.DataFrame([
        {"indicator": name, "version": "1", "focus_entity": focus, "cluster_id": None,
         "reason": f"{name} on {focus}.", "evidence": [f"r/{i}"], "partners": partners, "weight": weight}
        for i, (name, focus, partners, weight) in enumerate(rows)
    ], schema=HIT_SCHEMA)


@pytest.fixture
def small():
    clusters = {"C0001": ["A1", "C1", "P1", "P2"], "C0002": ["A2", "C2", "P3"], "C0003": ["A3", "T1"],
                "C0004": ["C4"], "C0005": ["C5"]}
    communities = pl.DataFrame([(e, c, len(m)) for c, m in clusters.items() for e in m],
                               schema=["entity_id", "cluster_id", "cluster_size"], orient="row")
    kinds = {"A": "address", "C": "company", "P": "person", "T": "permit"}
    nodes = communities.select("entity_id", entity_type=pl.col("entity_id").str.slice(0, 1).replace_strict(kinds))
    return communities, nodes


def test_score_formula_by_hand(small):
    communities, nodes = small
    hits = _hits([
        ("crowded_address", "A1", ["ind"], 1.0),
        ("crowded_address", "A1", ["belastingdienst"], 1.0),   # a second hit of the same rule
        ("crowded_address", "P1", ["ind"], 1.0),               # and a third
        ("wage_below_minimum", "C1", ["belastingdienst"], 1.5),
        ("high_risk_sector", "C1", ["kvk"], 0.25),
        ("straw_director", "P3", ["kvk"], 1.0),
        ("high_risk_sector", "C4", ["kvk"], 0.25),             # context alone
        ("shared_company_address", "A3", ["kvk"], 0.5),
    ])
    clusters = rank_clusters(communities, nodes, None, hits, repeat_decay=0.5, corroboration_bonus=0.5)
    scores = dict(clusters.select("cluster_id", "score").iter_rows())
    # C0001: housing (three crowded hits) 1.0 × (1 + 0.5 + 0.25) + pay 1.5 + context 0.25 = 3.5;
    # two families of evidence -> × (1 + 0.5 × 1) = 5.25. Partners play no part.
    assert scores["C0001"] == 5.25
    assert scores["C0002"] == 1.0 and scores["C0003"] == 0.5
    assert scores["C0004"] == 0.0 and scores["C0005"] == 0.0
    assert clusters.get_column("cluster_id").to_list() == ["C0001", "C0002", "C0003", "C0004", "C0005"]
    assert clusters.get_column("rank").to_list() == [1, 2, 3, 4, 5]
    first = clusters.row(0, named=True)
    assert first["partners"] == ["belastingdienst", "ind"] and first["puzzle_count"] == 2
    assert first["families"] == ["housing", "pay"] and first["corroboration"] == 1.5 and first["flagged"]
    assert (first["evidence"], first["context"]) == (3.25, 0.25)
    assert first["score_text"] == ("housing 1.75 (crowded_address) + pay 1.5 (wage_below_minimum) + context 0.25 "
                                   "(high_risk_sector) = 3.5; × 1.5 for 2 families = 5.25")
    assert [(p["part"], p["kind"], p["value"]) for p in first["score_parts"]] == [
        ("housing", "add", 1.75), ("pay", "add", 1.5), ("context", "add", 0.25), ("corroboration", "multiply", 1.5)]
    assert [r["flagged"] for r in clusters.iter_rows(named=True)] == [True, False, False, False, False]
    assert first["indicators"] == ["wage_below_minimum", "crowded_address", "high_risk_sector"]
    counts = (first["size"], first["persons"], first["companies"], first["addresses"], first["permits"])
    assert counts == (4, 2, 1, 1, 0)
    assert clusters.filter(pl.col("cluster_id") == "C0003")["permits"][0] == 1
    assert first["reasons"].splitlines() == [
        "wage_below_minimum v1 [belastingdienst] on C1: wage_below_minimum on C1.",
        "crowded_address v1 [ind] on A1: crowded_address on A1.",
        "crowded_address v1 [belastingdienst] on A1: crowded_address on A1.",
        "crowded_address v1 [ind] on P1: crowded_address on P1.",
        "high_risk_sector v1 [kvk] on C1: high_risk_sector on C1.",
    ]
    context_only = clusters.filter(pl.col("cluster_id") == "C0004").row(0, named=True)
    assert context_only["puzzle_count"] == 0 and context_only["indicators"] == ["high_risk_sector"]
    assert context_only["reasons"].startswith("high_risk_sector v1 [kvk] on C4")


def test_ties_are_broken_by_cluster_id_and_row_order_does_not_matter(small):
    communities, nodes = small
    hits = _hits([("straw_director", "C5", ["kvk"], 1.0), ("straw_director", "P3", ["kvk"], 1.0),
                  ("straw_director", "C4", ["kvk"], 1.0)])
    clusters = rank_clusters(communities, nodes, None, hits)
    assert clusters.head(3).get_column("cluster_id").to_list() == ["C0002", "C0004", "C0005"]
    shuffled = rank_clusters(communities.sample(fraction=1.0, shuffle=True, seed=1),
                             nodes.sample(fraction=1.0, shuffle=True, seed=2),
                             None, hits.sample(fraction=1.0, shuffle=True, seed=3))
    assert shuffled.equals(clusters)


def test_decay_corroboration_and_flag_score_are_parameters(small):
    communities, nodes = small
    hits = _hits([("crowded_address", "A1", ["belastingdienst", "ind"], 1.0),
                  ("crowded_address", "P1", ["belastingdienst"], 1.0),
                  ("straw_director", "P2", ["kvk"], 1.0)])
    flat = rank_clusters(communities, nodes, None, hits, repeat_decay=1.0, corroboration_bonus=0.0, flag_score=4.0)
    assert flat.row(0, named=True)["score"] == 3.0 and not flat.row(0, named=True)["flagged"]
    default = rank_clusters(communities, nodes, None, hits)
    decay, bonus = RANKING["repeat_decay"], RANKING["corroboration_bonus"]
    assert default.row(0, named=True)["score"] == (1.0 + decay * 1.0 + 1.0) * (1 + bonus)


def test_who_registers_a_worker_does_not_lift_a_cluster(small):
    """The IND holds records only on non-EU nationals: the same crowding stated by the IND and the
    payroll, or by the payroll alone, must score the same; only a second family of evidence lifts."""
    communities, nodes = small
    eu = rank_clusters(communities, nodes, None, _hits([("crowded_address", "A1", ["belastingdienst"], 1.0),
                                                        ("wage_below_minimum", "C1", ["belastingdienst"], 1.5)]))
    non_eu = rank_clusters(communities, nodes, None, _hits([("crowded_address", "A1", ["belastingdienst", "ind"], 1.0),
                                                            ("wage_below_minimum", "C1", ["belastingdienst"], 1.5)]))
    assert eu.row(0, named=True)["score"] == non_eu.row(0, named=True)["score"] == 2.5 * 1.5
    assert (eu.row(0, named=True)["puzzle_count"], non_eu.row(0, named=True)["puzzle_count"]) == (1, 2)


def test_a_hit_outside_every_community_is_refused(small):
    communities, nodes = small
    with pytest.raises(InputError, match=r"file indicator_hits, row 2, column 'focus_entity'.*P9"):
        rank_clusters(communities, nodes, None, _hits([("straw_director", "P3", ["kvk"], 1.0),
                                                       ("straw_director", "P9", ["kvk"], 1.0)]))


@pytest.fixture(scope="module")
def planted():
    reg = population()
    mentions, relations, resolution = reg.tables()
    nodes, edges = build_graph_tables(mentions, relations, resolution)
    communities = detect_communities(nodes, edges, seed=0)
    hits = compute_indicators(nodes, edges, communities)
    return (mentions, relations, resolution), nodes, edges, communities, hits


def test_planted_patterns_rank_above_look_alikes_and_background(planted):
    _, nodes, edges, communities, hits = planted
    clusters = rank_clusters(communities, nodes, edges, hits)
    cluster_of = dict(communities.select("entity_id", "cluster_id").iter_rows())
    top = clusters.row(0, named=True)
    # the agency: underpaid, its staff crowded together and sponsored off the books: three families
    assert top["cluster_id"] == cluster_of["C-agency"] == cluster_of["A-crowd"]
    assert top["indicators"][:4] == ["wage_below_minimum", "sponsor_of_many_migrants", "staff_housed_together",
                                     "crowded_address"]
    assert top["families"] == ["pay", "housing", "dependence"]  # by points
    # the wage hit weighs twice the rule's 1.5: four and more underpaid past the threshold of two; the
    # crowded house adds a quarter of its weight to the staff housed there, the same family
    assert top["score"] == (3.0 + 1.0 + 1.0 + 0.25 * 0.75 + 0.25) * 2.0
    raised = set(clusters.filter(pl.col("score") > 0).get_column("cluster_id").to_list())
    counted = counted_hits(hits, communities)
    for focus in ("C-mushroom", "P-straw", "C-wash-new", "P-operator", "EMM-2024-0021", "C-newsponsor", "C-nails",
                  "C-hostrestaurant", "C-recruit", "EIN-2023-0077"):
        assert cluster_of[focus] in raised, focus
    for look_alike in ("C-asparagus", "C-bakery", "P-hotelboss", "A-accountant", "C-rival", "C-tenant",
                       "ARN-2024-0090", "P-bg0000", "C-icecream", "C-shop-bv", "P-chainmanager", "ARN-2023-0500",
                       "C-techco", "C-groupa", "C-consult"):
        if cluster_of[look_alike] in raised:  # a look-alike may share a community with a planted cell ...
            flagged_hits = counted.filter(pl.col("cluster_id") == cluster_of[look_alike])
            real = flagged_hits.filter(pl.col("indicator") != "high_risk_sector")
            assert look_alike not in real.get_column("focus_entity").to_list()  # ... but is never a focus
    assert clusters.height == communities.get_column("cluster_id").n_unique()
    lines = dict(clusters.select("cluster_id", n=pl.col("reasons").str.count_matches("\n") + 1).iter_rows())
    for cluster_id, n in counted.group_by("cluster_id").len().iter_rows():
        assert lines[cluster_id] == n  # one line per hit that counts


def test_partners_needed_scores_each_flagged_cluster_without_each_partner(planted):
    _, nodes, edges, communities, hits = planted
    ranked = rank_clusters(communities, nodes, edges, hits)
    clusters = partners_needed(ranked, communities, hits)
    cluster_of = dict(communities.select("entity_id", "cluster_id").iter_rows())
    agency = clusters.filter(pl.col("cluster_id") == cluster_of["C-agency"]).row(0, named=True)
    # without the payroll's pieces the wages and the crowding (stated by the payroll and the IND)
    # go, and the sponsoring (the IND's records alone) no longer stands beside a flag: 0; without
    # the IND's the crowding and the sponsoring go:
    # pay 3.0 (its magnitude) + context 0.25; without the KvK's only the sector context:
    # (3.0 + 1.0 + 1.0 + 0.25 × 0.75) × 2, the staff housed together and, a quarter, the crowded house
    assert agency["without_partner"] == [{"partner": "belastingdienst", "score": 0.0, "flagged": False},
                                         {"partner": "ind", "score": 3.25, "flagged": True},
                                         {"partner": "kvk", "score": 10.375, "flagged": True}]
    assert agency["needs_partners"] == ["belastingdienst"]
    # a cluster the ranking does not flag has nothing to say
    quiet = clusters.filter(~pl.col("flagged")).row(0, named=True)
    assert quiet["without_partner"] == [] and quiet["needs_partners"] == []
    # only the shown clusters are worked out
    shown = partners_needed(ranked, communities, hits, shown=1)
    assert shown.filter(pl.col("without_partner").list.len() > 0).get_column("cluster_id").to_list() == [
        ranked["cluster_id"][0]]


def test_the_inds_records_alone_never_make_a_flag(small):
    """The IND registers only non-EU nationals, so its pieces alone must not put a cluster in front
    of an analyst. The shape of a large lawful employer on the development worlds: a house known
    as crowded to the IND alone (or a sponsor's migrants missing from the payroll) beside a weak
    piece of the payroll (one worker paid under the minimum). Not flagged, and the
    stored hits leave both out; the same crowding stated by the payroll as well is flagged. Beside
    a flag of other records the IND's piece counts in full."""
    communities, nodes = small
    weak_pay = ("wage_below_minimum", "C1", ["belastingdienst"], 0.75)
    ind_alone = _hits([("crowded_address", "A1", ["ind"], 1.0), weak_pay]).with_columns(
        grade=pl.Series(["full", "weak"]))
    row = rank_clusters(communities, nodes, None, ind_alone).row(0, named=True)
    assert row["cluster_id"] == "C0001" and row["score"] == 0.0 and not row["flagged"]
    assert counted_hits(ind_alone, communities).height == 0
    also_payroll = ind_alone.with_columns(partners=pl.Series([["belastingdienst", "ind"], ["belastingdienst"]]))
    assert rank_clusters(communities, nodes, None, also_payroll).row(0, named=True)["score"] == (1.0 + 0.75) * 1.5
    # the rule is the ranking's parameter: without it the IND's piece lifted the weak one
    lifted = rank_clusters(communities, nodes, None, ind_alone, partner_never_lifts="").row(0, named=True)
    assert lifted["score"] == (1.0 + 0.75) * 1.5 and lifted["flagged"]
    beside_a_flag = _hits([("crowded_address", "A1", ["ind"], 1.0),
                           ("wage_below_minimum", "C1", ["belastingdienst"], 1.5)])
    row = rank_clusters(communities, nodes, None, beside_a_flag).row(0, named=True)
    assert row["score"] == (1.5 + 1.0) * 1.5 and row["families"] == ["pay", "housing"]
    assert counted_hits(beside_a_flag, communities).height == 2


def test_without_a_partner_a_weak_piece_needs_a_piece_of_another_family_again():
    """A weak hit counted beside another family's hit stops counting when that hit goes with its partner."""
    communities = pl.DataFrame({"entity_id": ["C1", "A1"], "cluster_id": ["C0001", "C0001"]})
    nodes = pl.DataFrame({"entity_id": ["C1", "A1"], "entity_type": ["company", "address"]})
    hits = pl.DataFrame({
        "indicator": ["wage_below_minimum", "crowded_address"], "version": ["2", "1"], "focus_entity": ["C1", "A1"],
        "cluster_id": [None, None], "reason": ["", ""], "evidence": [["r1"], ["r2"]],
        "partners": [["belastingdienst"], ["ind"]], "weight": [1.5, 0.375], "grade": ["full", "weak"]})
    clusters = partners_needed(rank_clusters(communities, nodes, None, hits), communities, hits)
    row = clusters.row(0, named=True)
    assert row["score"] == (1.5 + 0.375) * 1.5 and row["flagged"]
    assert row["without_partner"] == [{"partner": "belastingdienst", "score": 0.0, "flagged": False},
                                      {"partner": "ind", "score": 1.5, "flagged": True}]
    assert row["needs_partners"] == ["belastingdienst"]


def test_one_finding_named_from_each_of_its_entities_counts_once(small):
    """One identity number used by two persons is one finding, written as a hit on each person
    with the same records: in one cluster it counts once, so with the sector's context it stays
    under the flag score like any single piece of weight 1. A second conflict, on other records,
    is a repeat of the family and counts a quarter."""
    communities, nodes = small
    one = pl.DataFrame([
        {"indicator": "identity_conflict", "version": "1", "focus_entity": person, "cluster_id": None,
         "reason": f"shared bsn, on {person}.", "evidence": records, "partners": ["belastingdienst"], "weight": 1.0}
        for person, records in [("P1", ["loon/1", "loon/2"]), ("P2", ["loon/2", "loon/1"])]
    ] + [{"indicator": "high_risk_sector", "version": "1", "focus_entity": "C1", "cluster_id": None,
          "reason": "sector.", "evidence": ["kvk/1"], "partners": ["kvk"], "weight": 0.25}], schema=HIT_SCHEMA)
    row = rank_clusters(communities, nodes, None, one).filter(pl.col("cluster_id") == "C0001").row(0, named=True)
    assert row["score"] == 1.25 and not row["flagged"]
    assert row["reasons"].count("identity_conflict") == 2  # the analyst still reads both sides
    second = one.vstack(one.head(1).with_columns(focus_entity=pl.lit("A1"), evidence=pl.lit(["loon/3", "loon/4"])))
    row = rank_clusters(communities, nodes, None, second).filter(pl.col("cluster_id") == "C0001").row(0, named=True)
    assert row["score"] == 1.5 and row["flagged"]


def _finding(focus, records, weight=1.0, version="1", grade="full", indicator="officers_sharing_home"):
    return {"indicator": indicator, "version": version, "focus_entity": focus, "cluster_id": None,
            "reason": f"{indicator} on {focus}.", "evidence": records, "partners": ["kvk"], "weight": weight,
            "grade": grade}


def _score(small, rows, cluster="C0001"):
    communities, nodes = small
    hits = pl.DataFrame(rows, schema={**HIT_SCHEMA, "grade": pl.String()})
    return rank_clusters(communities, nodes, None, hits).filter(pl.col("cluster_id") == cluster)["score"][0]


def test_one_finding_counts_its_heaviest_hit_in_any_row_order(small):
    """The two sides of one finding at different weights: the heavier counts, however the rows
    are shuffled."""
    rows = [_finding("P1", ["kvk/1", "kvk/2"], 1.0), _finding("P2", ["kvk/2", "kvk/1"], 1.8),
            _finding("A1", ["kvk/2", "kvk/1", "kvk/1"], 1.2)]
    frame = pl.DataFrame(rows, schema={**HIT_SCHEMA, "grade": pl.String()})
    scores = {_score(small, frame.sample(fraction=1.0, shuffle=True, seed=seed).to_dicts()) for seed in range(8)}
    assert scores == {1.8}


def test_what_counts_once_is_one_rule_version_and_records_in_one_cluster(small):
    one = [_finding("P1", ["kvk/1", "kvk/2"]), _finding("P2", ["kvk/1", "kvk/2"])]
    assert _score(small, one) == 1.0
    # another version of the rule on the same records is another finding: a repeat, a quarter
    assert _score(small, [one[0], _finding("P2", ["kvk/1", "kvk/2"], version="2")]) == 1.25
    # the same records named from entities of two clusters count in each of them
    apart = [_finding("P1", ["kvk/1", "kvk/2"]), _finding("P3", ["kvk/1", "kvk/2"])]
    assert _score(small, apart, "C0001") == _score(small, apart, "C0002") == 1.0
    # hits without records are not known to be one finding: each counts
    assert _score(small, [_finding("P1", []), _finding("P2", [])]) == 1.25
    # a full and a weak side of one finding beside another family: the full one counts, once
    other = _finding("C1", ["loon/9"], indicator="wage_below_minimum")
    both = [_finding("P1", ["kvk/1", "kvk/2"]), _finding("P2", ["kvk/1", "kvk/2"], 0.5, grade="weak"), other]
    assert _score(small, both) == _score(small, [both[0], other])


def test_a_person_with_two_shared_identity_numbers_has_two_findings(small):
    """P1 shares a BSN with P2 and a V-number with P3: two findings, 1 + a quarter; each counted
    once although written on both of its persons."""
    communities, nodes = small
    edges = pl.DataFrame({"relation_id": ["loon/1", "loon/2", "ind/3", "ind/4"], "type": ["EMPLOYED_BY"] * 4,
                          "from_entity": ["P1", "P2", "P1", "P3"], "to_entity": ["C1"] * 4,
                          "from_mention": ["m1", "m2", "m1v", "m3"], "to_mention": ["c1", "c2", "c3", "c4"],
                          "partner": ["belastingdienst"] * 2 + ["ind"] * 2})
    conflicts = pl.DataFrame({"entity_type": ["person"] * 2, "key": ["bsn", "v_number"], "key_value": ["h1", "h2"],
                              "entity_a": ["P1", "P1"], "entity_b": ["P2", "P3"], "mention_a": ["m1", "m1v"],
                              "mention_b": ["m2", "m3"], "evidence": ["given_name_dice 0.20"] * 2})
    found = identity_conflict(nodes, edges, min_persons=2, identity_conflicts=conflicts)
    assert found.select("focus_entity", "evidence").rows() == [
        ("P1", ["loon/1", "loon/2"]), ("P1", ["ind/3", "ind/4"]), ("P2", ["loon/1", "loon/2"]),
        ("P3", ["ind/3", "ind/4"])]
    one_cluster = communities.with_columns(cluster_id=pl.lit("C0001"))
    hits = found.select(indicator=pl.lit("identity_conflict"), version=pl.lit("2"), focus_entity="focus_entity",
                        cluster_id=pl.lit(None, pl.String), reason=pl.lit("shared."), evidence="evidence",
                        partners=pl.lit(["belastingdienst"]), weight=pl.lit(1.0))
    assert rank_clusters(one_cluster, nodes, None, hits)["score"][0] == 1.25
