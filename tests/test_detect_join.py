import datetime as dt

import numpy as np
import polars as pl
import pytest

from mhgraph.detect import (
    DEFAULT_JOIN_MAX_SIZE,
    DEFAULT_JOIN_MIN_PAIRS,
    community_edge_arrays,
    detect_communities,
    join_linked_communities,
    non_persons,
    number_clusters,
)
from mhgraph.planted import planted_cell_graph

EARLY_END = dt.date(2019, 6, 30)


def two_crews(links, crews=(("a", 7), ("b", 9))):
    """Crews of workers, each crew employed by one company and registered at one address (the
    company's seat too), plus ``links``: (type, from, to, valid_to) relations between the crews.
    Crew a holds 9 entities, crew b 11."""
    nodes, edges = [], []
    for crew, workers in crews:
        nodes += [(f"C-{crew}", "company"), (f"A-{crew}", "address")]
        for i in range(workers):
            nodes.append((f"P-{crew}{i}", "person"))
            edges += [("EMPLOYED_BY", f"P-{crew}{i}", f"C-{crew}", None),
                      ("REGISTERED_AT", f"P-{crew}{i}", f"A-{crew}", None)]
        edges.append(("LOCATED_AT", f"C-{crew}", f"A-{crew}", None))
    edges += links
    return (pl.DataFrame(nodes, schema=["entity_id", "entity_type"], orient="row"),
            pl.DataFrame([(f"r{i}", *edge) for i, edge in enumerate(edges)], orient="row",
                         schema={"relation_id": pl.String, "type": pl.String, "from_entity": pl.String,
                                 "to_entity": pl.String, "valid_to": pl.Date}))


def parts(labels) -> list[int]:
    """Labels renamed 0, 1, ... in order of first appearance: the partition, whatever the labels."""
    first = {}
    return [first.setdefault(label, len(first)) for label in np.asarray(labels).tolist()]


def sizes(communities: pl.DataFrame) -> list[int]:
    return sorted(communities.group_by("cluster_id").len().get_column("len").to_list(), reverse=True)


# two of crew a's workers also registered at crew b's address: 2 × 0.7 of ties across, under the
# γ × 9 × 11 = 1.98 that CPM asks to keep the 20 together, so Leiden cuts the two crews apart
TWO_WORKERS_ACROSS = [("REGISTERED_AT", "P-a0", "A-b", None), ("REGISTERED_AT", "P-a1", "A-b", None)]


def test_a_network_leiden_cuts_in_two_is_one_community_again():
    nodes, edges = two_crews(TWO_WORKERS_ACROSS)
    assert (DEFAULT_JOIN_MIN_PAIRS, DEFAULT_JOIN_MAX_SIZE) == (2, 40)
    assert sizes(detect_communities(nodes, edges, seed=0, join_min_pairs=None)) == [11, 9]
    joined = detect_communities(nodes, edges, seed=0)
    assert sizes(joined) == [20]
    assert joined.get_column("cluster_id").unique().to_list() == ["C0001"]
    assert joined.get_column("entity_id").sort().equals(nodes.get_column("entity_id").sort())


@pytest.mark.parametrize("links", [
    [("REGISTERED_AT", "P-a0", "A-b", None)],
    # one pair, twice (two periods at the address) and once more in the other direction: still one pair
    [("REGISTERED_AT", "P-a0", "A-b", None), ("REGISTERED_AT", "P-a0", "A-b", EARLY_END),
     ("REGISTERED_AT", "A-b", "P-a0", None)],
], ids=["one relation", "one pair in three relations"])
def test_communities_tied_by_one_pair_of_entities_stay_apart(links):
    nodes, edges = two_crews(links)
    assert sizes(detect_communities(nodes, edges, seed=0)) == [11, 9]


def test_a_worker_who_once_worked_and_lived_with_the_other_crew_does_not_join_it():
    # a job changer: two distinct pairs (worker-company, worker-address), but one person behind both
    job_changer = [("EMPLOYED_BY", "P-b0", "C-a", EARLY_END), ("REGISTERED_AT", "P-b0", "A-a", EARLY_END)]
    nodes, edges = two_crews(job_changer, crews=(("a", 8), ("b", 8)))
    assert sizes(detect_communities(nodes, edges, seed=0, join_min_pairs=None)) == [10, 10]
    assert sizes(detect_communities(nodes, edges, seed=0)) == [10, 10]
    # the same links through two persons (two workers of crew b, one at crew a's company, one at its address) join
    two_workers = [("EMPLOYED_BY", "P-b0", "C-a", EARLY_END), ("REGISTERED_AT", "P-b1", "A-a", EARLY_END)]
    nodes, edges = two_crews(two_workers, crews=(("a", 8), ("b", 8)))
    assert sizes(detect_communities(nodes, edges, seed=0, join_min_pairs=None)) == [10, 10]
    assert sizes(detect_communities(nodes, edges, seed=0)) == [20]


def test_no_union_grows_past_the_bound():
    nodes, edges = two_crews(TWO_WORKERS_ACROSS)
    assert sizes(detect_communities(nodes, edges, seed=0, join_max_size=19)) == [11, 9]
    assert sizes(detect_communities(nodes, edges, seed=0, join_max_size=20)) == [20]
    # four communities of three in a row, a-b and c-d tied by two pairs, b-c by three: only unions
    # of six fit, and the strongest tie makes the first; then neither a nor d fits beside b+c
    membership = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    pairs = [(0, 3), (1, 4), (3, 6), (4, 7), (5, 8), (6, 9), (7, 10)]
    assert parts(join_linked_communities(membership, pairs, max_size=6)) == [0] * 3 + [1] * 6 + [2] * 3
    assert parts(join_linked_communities(membership, pairs, max_size=12)) == [0] * 12
    assert parts(join_linked_communities(membership, pairs, min_pairs=3, max_size=12)) == [0] * 3 + [1] * 6 + [2] * 3
    # ties as strong as each other: the one of the community with the lowest entity first, whatever its label
    for labels in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
        three = np.repeat(labels, 3)
        joined = join_linked_communities(three, [(0, 3), (1, 4), (3, 6), (4, 7)], max_size=6)
        assert parts(joined) == [0] * 6 + [1] * 3


def test_on_a_planted_graph_every_community_is_leidens_own_or_a_union_within_the_bound():
    nodes, edges, _ = planted_cell_graph(n_background=3_000, n_cells=30, cell_size=(5, 15), seed=0)
    leiden = detect_communities(nodes, edges, seed=0, join_min_pairs=None)
    for bound in (25, 40):
        joined = detect_communities(nodes, edges, seed=0, join_max_size=bound)
        parts = (joined.join(leiden.select("entity_id", leiden_cluster="cluster_id"), on="entity_id")
                 .group_by("cluster_id").agg(pl.col("leiden_cluster").n_unique().alias("parts"), pl.len()))
        unions = parts.filter(pl.col("parts") > 1)
        assert unions.height > 0  # the bound is what this checks: there are unions to check it on
        assert unions.get_column("len").max() <= bound
        # a community Leiden left whole is never split
        assert (leiden.join(joined.select("entity_id", joined_cluster="cluster_id"), on="entity_id")
                .group_by("cluster_id").agg(pl.col("joined_cluster").n_unique()).get_column("joined_cluster").max()) == 1
    assert joined.get_column("cluster_id").n_unique() < leiden.get_column("cluster_id").n_unique()


def test_the_joined_communities_do_not_depend_on_labels_or_row_order():
    nodes, edges, _ = planted_cell_graph(n_background=3_000, n_cells=30, cell_size=(5, 15), seed=1)
    entity_ids, pairs, _ = community_edge_arrays(nodes, edges)
    leiden = detect_communities(nodes, edges, seed=3, join_min_pairs=None)
    membership = leiden.sort("entity_id").get_column("cluster_id").str.slice(1).cast(pl.Int64).to_numpy()
    persons = ~non_persons(nodes, entity_ids)
    # at this bound the order of the unions matters: without it, far more communities are joined
    expected = number_clusters(entity_ids, join_linked_communities(membership, pairs, max_size=40, persons=persons))
    unbounded = join_linked_communities(membership, pairs, max_size=len(entity_ids), persons=persons)
    assert len(np.unique(unbounded)) < expected.get_column("cluster_id").n_unique() < len(np.unique(membership))
    rng = np.random.default_rng(0)
    for _ in range(3):
        relabelled = rng.permutation(membership.max() + 1)[membership]
        assert number_clusters(entity_ids, join_linked_communities(relabelled, pairs, max_size=40, persons=persons)).equals(expected)
    assert detect_communities(nodes.sample(fraction=1.0, shuffle=True, seed=4),
                              edges.sample(fraction=1.0, shuffle=True, seed=5), seed=3).equals(expected)


def test_relations_that_ended_before_active_since_do_not_join_communities():
    ended = [(kind, a, b, EARLY_END) for kind, a, b, _ in TWO_WORKERS_ACROSS]
    nodes, edges = two_crews(ended)
    assert sizes(detect_communities(nodes, edges, seed=0)) == [20]
    assert sizes(detect_communities(nodes, edges, seed=0, active_since=dt.date(2023, 1, 1))) == [11, 9]


def test_links_are_counted_alike_among_millions_of_entities():
    # 7.3M entities in 1.2M communities, as at five million persons: a link's code times the
    # entity count would pass int64 here, and the joins of the higher communities would be lost
    entities = 7_300_000
    membership = np.arange(entities) // 6
    first = 6 * (1_150_000 + 2 * np.arange(999))  # 999 pairs of neighbouring communities, far up
    pairs = np.concatenate([np.column_stack([first, first + 6]), np.column_stack([first + 1, first + 7])])
    joined = join_linked_communities(membership, pairs)
    assert (joined[first] == joined[first + 6]).all()
    assert len(np.unique(joined)) == len(np.unique(membership)) - 999
