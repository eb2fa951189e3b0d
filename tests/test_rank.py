import polars as pl
import pytest

from graph_fixtures import population
from mhgraph.detect import detect_communities
from mhgraph.errors import InputError
from mhgraph.graph import build_graph_tables
from mhgraph.indicators import HIT_SCHEMA, compute_indicators
from mhgraph.rank import rank_clusters


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
    clusters = rank_clusters(communities, nodes, None, hits)
    scores = dict(clusters.select("cluster_id", "score").iter_rows())
    # C0001: crowded 1.0 × (1 + 0.5 + 0.25) + wage 1.5 + context 0.25 = 3.5; partners
    # belastingdienst and ind (kvk only behind the context hit) -> × (1 + 0.5 × 1) = 5.25
    assert scores["C0001"] == 5.25
    assert scores["C0002"] == 1.0 and scores["C0003"] == 0.5
    assert scores["C0004"] == 0.0 and scores["C0005"] == 0.0
    assert clusters.get_column("cluster_id").to_list() == ["C0001", "C0002", "C0003", "C0004", "C0005"]
    assert clusters.get_column("rank").to_list() == [1, 2, 3, 4, 5]
    first = clusters.row(0, named=True)
    assert first["partners"] == ["belastingdienst", "ind"] and first["puzzle_count"] == 2
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


def test_decay_and_partner_bonus_are_parameters(small):
    communities, nodes = small
    hits = _hits([("crowded_address", "A1", ["ind"], 1.0), ("crowded_address", "P1", ["belastingdienst"], 1.0)])
    flat = rank_clusters(communities, nodes, None, hits, repeat_decay=1.0, partner_bonus=0.0)
    assert flat.row(0, named=True)["score"] == 2.0
    default = rank_clusters(communities, nodes, None, hits)
    assert default.row(0, named=True)["score"] == 1.5 * 1.5


def test_a_hit_outside_every_community_is_refused(small):
    communities, nodes = small
    with pytest.raises(InputError, match=r"file indicator_hits, row 2, column 'focus_entity'.*P9"):
        rank_clusters(communities, nodes, None, _hits([("straw_director", "P3", ["kvk"], 1.0),
                                                       ("straw_director", "P9", ["kvk"], 1.0)]))


def test_planted_patterns_rank_above_look_alikes_and_background():
    nodes, edges = build_graph_tables(*population().tables())
    communities = detect_communities(nodes, edges, seed=0)
    hits = compute_indicators(nodes, edges, communities)
    clusters = rank_clusters(communities, nodes, edges, hits)
    cluster_of = dict(communities.select("entity_id", "cluster_id").iter_rows())
    top = clusters.row(0, named=True)
    # the agency: underpaid, crowded and sponsored, seen by the payroll and the IND
    assert top["cluster_id"] == cluster_of["C-agency"] == cluster_of["A-crowd"]
    assert top["indicators"][:3] == ["wage_below_minimum", "crowded_address", "sponsor_of_many_migrants"]
    assert top["score"] == (1.5 + 1.0 + 1.0 + 0.25) * 1.5
    flagged = set(clusters.filter(pl.col("score") > 0).get_column("cluster_id").to_list())
    for focus in ("C-mushroom", "P-straw", "C-wash-new", "P-operator", "EMM-2024-0021", "C-newsponsor"):
        assert cluster_of[focus] in flagged, focus
    for look_alike in ("C-asparagus", "C-bakery", "P-hotelboss", "A-accountant", "C-rival", "C-tenant",
                       "ARN-2024-0090", "P-bg0000"):
        if cluster_of[look_alike] in flagged:  # a look-alike may share a community with a planted cell ...
            flagged_hits = hits.filter(pl.col("cluster_id") == cluster_of[look_alike])
            assert look_alike not in flagged_hits.get_column("focus_entity").to_list()  # ... but is never a focus
    assert clusters.height == communities.get_column("cluster_id").n_unique()
    lines = dict(clusters.select("cluster_id", n=pl.col("reasons").str.count_matches("\n") + 1).iter_rows())
    for cluster_id, n in hits.group_by("cluster_id").len().iter_rows():
        assert lines[cluster_id] == n  # one line per hit
