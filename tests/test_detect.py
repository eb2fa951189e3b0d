import itertools

import numpy as np
import polars as pl
import pytest

from graph_fixtures import D, Registers
from mhgraph.detect import (
    DEFAULT_RESOLUTION,
    RELATION_WEIGHTS,
    cluster_subgraph,
    community_edge_arrays,
    detect_communities,
    igraph_of_pairs,
    leiden_membership,
    moved_vertices,
    number_clusters,
    numbered_ends,
)
from mhgraph.errors import InputError
from mhgraph.graph import EDGE_COLUMNS, build_graph_tables
from mhgraph.planted import planted_cell_graph, score_partition


@pytest.fixture(scope="module")
def planted():
    # 30 cells of 5-15 entities in a 3,000-entity background; cells this small sit far below the
    # modularity resolution limit of a graph this size, so the contrast with CPM is sharp.
    return planted_cell_graph(n_background=3_000, n_cells=30, cell_size=(5, 15), seed=0)


def _modularity_leiden(nodes, edges, seed=0):
    entity_ids, pairs, weights = community_edge_arrays(nodes, edges)
    return number_clusters(entity_ids, leiden_membership(len(entity_ids), pairs, weights,
                                                         objective="modularity", seed=seed))


def test_cpm_recovers_planted_cells_that_modularity_merges(planted):
    nodes, edges, truth = planted
    cpm = score_partition(truth, detect_communities(nodes, edges, seed=0))
    modularity = score_partition(truth, _modularity_leiden(nodes, edges))
    # Floors, with the values measured on this graph (seeds 0-3 of the generator gave CPM NMI
    # 0.986-1.0 and purity 0.84-0.98; modularity NMI 0.82-0.87 and purity 0.25-0.28):
    # CPM must keep cells whole and apart (NMI >= 0.95; a miss of one member of one cell costs
    # about 0.01) and mostly free of background (purity >= 0.8: small cells absorb a worker's
    # household or a former employer); modularity must show its resolution limit, merging
    # neighbouring cells (NMI <= 0.9) and burying cells in large communities (purity <= 0.4).
    assert cpm["nmi"] >= 0.95 and cpm["purity"] >= 0.8 and cpm["coverage"] >= 0.95
    assert modularity["nmi"] <= 0.9 and modularity["purity"] <= 0.4
    assert cpm["nmi"] - modularity["nmi"] >= 0.08


def test_same_seed_same_result_whatever_the_row_order(planted):
    nodes, edges, _ = planted
    first = detect_communities(nodes, edges, seed=5)
    again = detect_communities(nodes, edges, seed=5)
    shuffled = detect_communities(nodes.sample(fraction=1.0, shuffle=True, seed=1),
                                  edges.sample(fraction=1.0, shuffle=True, seed=2), seed=5)
    assert first.equals(again) and first.equals(shuffled)
    assert first.columns == ["entity_id", "cluster_id", "cluster_size"]
    assert sorted(first.get_column("entity_id").to_list()) == sorted(nodes.get_column("entity_id").to_list())


def test_a_hub_does_not_swallow_the_cells_around_it(planted):
    nodes, edges, truth = planted
    # one employer of 2,000 people, among them one worker of every cell
    hub_staff = [f"P-hubstaff{i:04d}" for i in range(2_000)]
    cell_workers = (truth.filter(pl.col("cell").is_not_null() & pl.col("entity_id").str.starts_with("P-"))
                    .group_by("cell").agg(pl.col("entity_id").min()).get_column("entity_id").to_list())
    employees = hub_staff + cell_workers
    extra_nodes = pl.DataFrame({"entity_id": ["C-hub", *hub_staff],
                                "entity_type": ["company"] + ["person"] * len(hub_staff)})
    extra_edges = pl.DataFrame({
        "relation_id": [f"hub/{i}/EMPLOYED_BY" for i in range(len(employees))],
        "type": ["EMPLOYED_BY"] * len(employees), "from_entity": employees,
        "to_entity": ["C-hub"] * len(employees)})
    nodes = pl.concat([nodes, extra_nodes], how="diagonal_relaxed")
    edges = pl.concat([edges, extra_edges], how="diagonal_relaxed").select(EDGE_COLUMNS)
    communities = detect_communities(nodes, edges, seed=0)
    # under CPM a member must bring more than γ × size of ties, so a star cannot grow past ~1/γ
    assert communities.get_column("cluster_size").max() <= 2 / DEFAULT_RESOLUTION
    hub_cluster = communities.filter(pl.col("entity_id") == "C-hub").get_column("cluster_id")[0]
    swallowed = truth.join(communities, on="entity_id").filter(
        pl.col("cell").is_not_null() & (pl.col("cluster_id") == hub_cluster))
    assert swallowed.get_column("cell").n_unique() <= 1
    assert score_partition(truth, communities)["nmi"] >= 0.95


def test_cluster_ids_are_numbered_by_size_then_lowest_entity():
    entity_ids = np.array([f"E{i:02d}" for i in range(12)])
    membership = np.array([5, 5, 9, 9, 9, 1, 1, 7, 7, 3, 2, 2])
    numbered = number_clusters(entity_ids, membership)
    by_entity = dict(numbered.select("entity_id", "cluster_id").iter_rows())
    assert by_entity["E02"] == "C0001"  # the only cluster of three
    assert [by_entity[e] for e in ("E00", "E05", "E07", "E10")] == ["C0002", "C0003", "C0004", "C0005"]
    assert by_entity["E09"] == "C0006"
    wide = number_clusters(np.array([f"E{i:05d}" for i in range(10_001)]), np.arange(10_001))
    assert wide.get_column("cluster_id").str.len_chars().unique().to_list() == [6]
    assert wide.sort("cluster_id").get_column("entity_id")[-1] == "E10000"


def test_relation_weights_and_their_checks(planted):
    nodes, edges, _ = planted
    assert set(RELATION_WEIGHTS) == {"OFFICER_OF", "HOLDS_PERMIT", "MANAGES", "EMPLOYED_BY", "SPONSORED_BY",
                                     "REGISTERED_AT", "LOCATED_AT"}
    _, pairs, weights = community_edge_arrays(nodes, edges)
    assert (pairs[:, 0] < pairs[:, 1]).all() and len(np.unique(pairs, axis=0)) == len(pairs)
    # different types between one pair add up (employed and sponsored: 1.25); twice employed (two
    # periods) still counts once
    sums = {round(sum(combination), 3) for n in range(1, 4)
            for combination in itertools.combinations(RELATION_WEIGHTS.values(), n)}
    assert set(np.round(np.unique(weights), 3)) <= sums
    only_jobs = {t: (1.0 if t == "EMPLOYED_BY" else 0.0) for t in RELATION_WEIGHTS}
    _, job_pairs, _ = community_edge_arrays(nodes, edges, only_jobs)
    jobs = edges.filter(pl.col("type") == "EMPLOYED_BY")
    assert len(job_pairs) == jobs.select(low=pl.min_horizontal("from_entity", "to_entity"),
                                         high=pl.max_horizontal("from_entity", "to_entity")).unique().height
    with pytest.raises(InputError, match="SPONSORED_BY"):
        community_edge_arrays(nodes, edges, {t: 1.0 for t in RELATION_WEIGHTS if t != "SPONSORED_BY"})
    with pytest.raises(ValueError, match="positive"):
        detect_communities(nodes, edges, resolution_parameter=0)


def test_pair_weights_are_the_same_bits_whatever_the_row_order():
    # weights whose sums depend on the order of addition (0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1): each
    # pair's sum is taken in one fixed order, so a shuffled table gives the very same floats
    weights = {"EMPLOYED_BY": 0.1, "REGISTERED_AT": 0.2, "OFFICER_OF": 0.3, "LOCATED_AT": 0.0}
    assert 0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1
    ends = [("P1", "C1"), ("C1", "P1"), ("P2", "C1"), ("P1", "P1")]
    types = ["EMPLOYED_BY", "REGISTERED_AT", "OFFICER_OF", "LOCATED_AT"]
    rows = [(f"r{i}", kind, a, b) for i, ((a, b), kind) in enumerate(itertools.product(ends, types))]
    edges = pl.DataFrame(rows, schema=["relation_id", "type", "from_entity", "to_entity"], orient="row")
    nodes = pl.DataFrame({"entity_id": ["C1", "P1", "P2"], "entity_type": ["company", "person", "person"]})
    ids, pairs, sums = community_edge_arrays(nodes, edges, weights)
    # the plain reading: per unordered pair of distinct ends, the distinct types, their weights in type order
    expected = {}
    for _, kind, a, b in rows:
        if a != b and weights[kind] > 0:
            expected.setdefault(tuple(sorted((a, b))), set()).add(kind)
    assert [(ids[low], ids[high]) for low, high in pairs.tolist()] == sorted(expected)
    assert sums.tolist() == pytest.approx([sum(weights[kind] for kind in kinds) for _, kinds in sorted(expected.items())])
    for seed in range(5):
        _, again, again_sums = community_edge_arrays(nodes.sample(fraction=1.0, shuffle=True, seed=seed),
                                                     edges.sample(fraction=1.0, shuffle=True, seed=seed), weights)
        assert np.array_equal(pairs, again) and again_sums.tobytes() == sums.tobytes()
    # a table large enough that sums taken in row order do come out differently after a shuffle
    rng = np.random.default_rng(7)
    many = pl.DataFrame({"relation_id": [f"r{i}" for i in range(200_000)],
                         "type": rng.choice(types, 200_000),
                         "from_entity": [f"P{i}" for i in rng.integers(0, 2_000, 200_000)],
                         "to_entity": [f"C{i}" for i in rng.integers(0, 50, 200_000)]})
    many_nodes = pl.DataFrame({"entity_id": [f"P{i}" for i in range(2_000)] + [f"C{i}" for i in range(50)],
                               "entity_type": ["person"] * 2_000 + ["company"] * 50})
    odd = {"EMPLOYED_BY": 0.1, "REGISTERED_AT": 0.2, "OFFICER_OF": 1 / 3, "LOCATED_AT": 0.7}
    _, many_pairs, many_sums = community_edge_arrays(many_nodes, many, odd)
    for seed in range(3):
        _, again, again_sums = community_edge_arrays(many_nodes, many.sample(fraction=1.0, shuffle=True, seed=seed), odd)
        assert np.array_equal(many_pairs, again) and again_sums.tobytes() == many_sums.tobytes()


def test_a_sponsor_of_unrelated_migrants_does_not_join_their_households():
    # Two host families, each with its au pair, sponsored by the same exchange agency: the agency
    # is all the families have in common, and each stays its own community.
    reg = Registers()
    for family in ("a", "b"):
        for member in ("host", "spouse", "child"):
            reg.residence(f"{family}-{member}", f"P-{family}{member}", None, f"A-home{family}", "gezin",
                          D(2015, 1, 1), None)
        reg.residence(f"{family}-aupair", f"P-{family}aupair", "C-aupairagency", f"A-home{family}", "uitwisseling",
                      D(2024, 1, 1), D(2024, 12, 31))
    nodes, edges = build_graph_tables(*reg.tables())

    def community(weights, entity):
        communities = detect_communities(nodes, edges, seed=0, weights=weights)
        return communities.filter(pl.col("entity_id") == entity).get_column("cluster_id").item()

    assert community(None, "A-homea") != community(None, "A-homeb")
    # were a sponsorship as strong a tie as a job, the agency would join both homes in one community
    joined = RELATION_WEIGHTS | {"SPONSORED_BY": 1.0}
    assert community(joined, "A-homea") == community(joined, "A-homeb")


def test_companies_in_a_front_mans_name_do_not_split_him_off_from_the_house_he_lives_in():
    # Four young men registered at one house, each the owner of three companies at addresses of
    # their own, and each with a former home where two relatives still live.
    reg = Registers()
    for k in range(4):
        reg.residence(f"stash{k}", f"P-front{k}", None, "A-stash", "gezinshereniging", D(2023, 1, 1), None)
        for member in ("mother", "sister"):
            reg.residence(f"fam{k}{member}", f"P-{member}{k}", None, f"A-family{k}", "gezinshereniging",
                          D(2015, 1, 1), None)
        reg.residence(f"old{k}", f"P-front{k}", None, f"A-family{k}", "gezinshereniging", D(2015, 1, 1),
                      D(2022, 12, 31))
        for c in range(3):
            reg.company(f"k{k}{c}", f"C-front{k}{c}", f"A-seat{k}{c}", D(2023, 3, 1), dissolved=D(2023, 9, 1))
            reg.officer(f"o{k}{c}", f"P-front{k}", f"C-front{k}{c}", "A-stash", D(2023, 3, 1), D(2023, 9, 1),
                        role="eigenaar")
    nodes, edges = build_graph_tables(*reg.tables())
    communities = detect_communities(nodes, edges, seed=0)
    house = communities.filter(pl.col("entity_id") == "A-stash").get_column("cluster_id").item()
    fronts = [f"P-front{k}" for k in range(4)] + [f"C-front{k}{c}" for k in range(4) for c in range(3)]
    assert communities.filter(pl.col("entity_id").is_in(fronts)).get_column("cluster_id").unique().to_list() == [house]
    # counted as members, each man's companies and their seats make him a group of seven that
    # one registration cannot hold: he goes with his companies, away from the house
    entity_ids, pairs, weights = community_edge_arrays(nodes, edges)
    plain = number_clusters(entity_ids, leiden_membership(len(entity_ids), pairs, weights,
                                                          resolution=DEFAULT_RESOLUTION, seed=0))
    assert plain.filter(pl.col("entity_id").is_in(fronts)).get_column("cluster_id").n_unique() > 1


def test_isolated_entities_are_their_own_cluster_and_unknown_ends_are_refused(planted):
    nodes, edges, _ = planted
    lonely = pl.concat([nodes, pl.DataFrame({"entity_id": ["P-lonely"], "entity_type": ["person"]})],
                       how="diagonal_relaxed")
    communities = detect_communities(lonely, edges, seed=0)
    assert communities.filter(pl.col("entity_id") == "P-lonely").get_column("cluster_size")[0] == 1
    with pytest.raises(InputError, match="nodes table lacks"):
        detect_communities(nodes.slice(1), edges, seed=0)


def test_cluster_subgraph_holds_one_cluster_and_its_inner_edges(planted):
    nodes, edges, _ = planted
    communities = detect_communities(nodes, edges, seed=0)
    cluster_id = communities.get_column("cluster_id")[0]
    members = set(communities.filter(pl.col("cluster_id") == cluster_id).get_column("entity_id").to_list())
    sub = cluster_subgraph(nodes, edges, communities, cluster_id)
    assert set(sub.nodes) == members
    inner = edges.filter(pl.col("from_entity").is_in(list(members)) & pl.col("to_entity").is_in(list(members)))
    assert sub.number_of_edges() == inner.height > 0
    assert all(data["partner"] for _, _, data in sub.edges(data=True))
    with pytest.raises(InputError, match="no cluster"):
        cluster_subgraph(nodes, edges, communities, "C9999")


def test_relations_that_ended_before_active_since_do_not_tie_communities():
    import datetime as dt

    nodes = pl.DataFrame({"entity_id": ["C-a", "C-b", "P-1", "P-2", "P-3"],
                          "entity_type": ["company"] * 2 + ["person"] * 3})
    edges = pl.DataFrame({
        "relation_id": ["j1", "j2", "j3", "j4"], "type": ["EMPLOYED_BY"] * 4,
        "from_entity": ["P-1", "P-1", "P-2", "P-3"], "to_entity": ["C-a", "C-b", "C-a", "C-b"],
        "valid_from": [dt.date(2018, 1, 1), dt.date(2024, 1, 1), dt.date(2018, 1, 1), dt.date(2024, 1, 1)],
        "valid_to": [dt.date(2019, 6, 30), None, dt.date(2019, 6, 30), None]})
    together = detect_communities(nodes, edges, resolution_parameter=0.1)
    assert together.get_column("cluster_id").n_unique() == 1
    recent = detect_communities(nodes, edges, resolution_parameter=0.1, active_since=dt.date(2023, 1, 1))
    cluster_of = dict(recent.select("entity_id", "cluster_id").iter_rows())
    assert cluster_of["C-b"] == cluster_of["P-1"] == cluster_of["P-3"] != cluster_of["C-a"]
    assert recent.height == nodes.height


def test_the_sample_graph_detection_sees_is_what_a_row_by_row_reading_of_its_edges_gives(sample_export):
    """On data/sample: the weighted pairs Leiden gets, and the communities table's order."""
    _, result = sample_export
    nodes, edges = result.tables["nodes"], result.tables["edges"]
    entity_ids, pairs, weights = community_edge_arrays(nodes.sample(fraction=1.0, shuffle=True, seed=1), edges)
    assert entity_ids.tolist() == sorted(nodes.get_column("entity_id").to_list())
    position = {entity: i for i, entity in enumerate(entity_ids.tolist())}
    types_of = {}
    for start, end, kind in edges.select("from_entity", "to_entity", "type").iter_rows():
        if start != end and RELATION_WEIGHTS[kind] > 0:
            types_of.setdefault(tuple(sorted((position[start], position[end]))), set()).add(kind)
    assert len(types_of) > 10_000
    assert pairs.tolist() == [list(pair) for pair in sorted(types_of)]
    assert weights.tolist() == pytest.approx([sum(RELATION_WEIGHTS[kind] for kind in types_of[pair])
                                              for pair in sorted(types_of)])
    # clusters by size, then lowest member; members by entity id
    communities = result.tables["communities"]
    first = communities.group_by("cluster_id").agg(pl.len(), pl.col("entity_id").min()).sort("cluster_id")
    assert first.rows() == sorted(first.rows(), key=lambda row: (-row[1], row[2]))
    assert communities.rows() == sorted(communities.rows(), key=lambda row: (row[1], row[0]))


def test_ids_with_nulls_are_not_taken_as_sorted():
    """A null between or after sorted ids, or alone, is no strictly increasing sequence."""
    from mhgraph.partition import strictly_increasing

    assert strictly_increasing(pl.Series(["a", "b", "c"]))
    assert strictly_increasing(pl.Series([], dtype=pl.String))
    for values in (["a", None, "b"], ["a", "b", None], [None, "a"], [None]):
        assert not strictly_increasing(pl.Series(values, dtype=pl.String)), values


@pytest.mark.parametrize("seed", range(4))
def test_igraph_of_pairs_adds_every_pair_in_row_order(seed):
    """The graph Leiden walks has the edges of the pairs one by one, in their order: repeated and
    reversed pairs too (Leiden's result depends on their order)."""
    import igraph as ig

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    pairs = rng.integers(0, n, size=(int(rng.integers(0, 400)), 2))
    one_by_one = ig.Graph(n=n, directed=False)
    for a, b in pairs.tolist():
        one_by_one.add_edge(a, b)
    graph = igraph_of_pairs(n, pairs)
    assert graph.vcount() == n and not graph.is_directed()
    assert graph.get_edgelist() == one_by_one.get_edgelist()


@pytest.mark.parametrize("seed", range(6))
def test_moved_vertices_counts_what_leaves_each_communitys_largest_part(seed):
    """Against the definition on random labels: per community of ``before``, every vertex outside
    the ``after`` community holding most of it has moved (labels need not be dense)."""
    from collections import Counter

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    before = rng.integers(0, int(rng.integers(1, 40)), n) * int(rng.integers(1, 4))
    after = np.where(rng.random(n) < 0.3, rng.integers(0, 50, n), before)
    parts = Counter(zip(before.tolist(), after.tolist()))
    largest = Counter()
    for (community, _), size in parts.items():
        largest[community] = max(largest[community], size)
    assert moved_vertices(before, after) == n - sum(largest.values())


def test_ends_read_as_numbers_give_the_arrays_and_communities_of_their_text(planted, tmp_path):
    """A detection process of its own reads the ends as an Enum of the nodes' ids (their numbers):
    the same arrays and communities as the ends' text; ids that are not sorted and distinct, or an
    end outside them, are left to the text reading (which names the row)."""
    nodes, edges, _ = planted
    nodes = nodes.sort("entity_id")
    edges.write_parquet(tmp_path / "edges.parquet")
    numbered = numbered_ends(nodes.get_column("entity_id"), pl.scan_parquet(tmp_path / "edges.parquet"))
    assert isinstance(numbered.schema["from_entity"], pl.Enum) and numbered.height == edges.height
    for got, want in zip(community_edge_arrays(nodes, numbered), community_edge_arrays(nodes, edges)):
        assert np.array_equal(got, want)
    assert detect_communities(nodes, numbered, seed=3).equals(detect_communities(nodes, edges, seed=3))
    assert numbered_ends(nodes.get_column("entity_id").reverse(), edges.lazy()) is None
    assert numbered_ends(nodes.get_column("entity_id").slice(1), edges.lazy()) is None


def test_a_null_end_read_as_a_number_is_the_input_error_its_text_gives():
    """A null end stays null in the Enum reading (:func:`numbered_ends`): the row is named, as the
    text reading names it, instead of the null being cast to some number."""
    nodes = pl.DataFrame({"entity_id": ["a", "b", "c", "z"], "entity_type": ["person"] * 4})
    edges = pl.DataFrame({"from_entity": ["b", None, "a", "z"], "to_entity": ["a", "c", "c", "b"],
                          "type": ["MANAGES"] * 4})
    numbered = numbered_ends(nodes.get_column("entity_id"), edges.lazy())
    raised = []
    for read in (edges, numbered):
        with pytest.raises(InputError, match=r"row 2, column 'from_entity'") as error:
            detect_communities(nodes, read)
        raised.append(str(error.value))
    assert raised[0] == raised[1]


def test_ends_of_an_enum_of_other_ids_are_numbered_by_their_text(planted):
    """An Enum whose categories are the nodes' ids in another order numbers them otherwise: its
    ends are read as text, not taken as the numbers of the sorted ids."""
    nodes, edges, _ = planted
    reordered = pl.Enum(nodes.get_column("entity_id").sort(descending=True))
    enum_edges = edges.with_columns(pl.col("from_entity", "to_entity").cast(reordered))
    for got, want in zip(community_edge_arrays(nodes, enum_edges), community_edge_arrays(nodes, edges)):
        assert np.array_equal(got, want)
    assert detect_communities(nodes, enum_edges, seed=3).equals(detect_communities(nodes, edges, seed=3))
