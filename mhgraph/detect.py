"""Community detection: Leiden with the Constant Potts Model (CPM), through igraph.

Exploitation networks are small groups (a handful to a few dozen people, companies and
addresses) in a huge sparse graph. Modularity-based methods (Louvain, modularity Leiden) have a
resolution limit there: groups with fewer internal ties than about the square root of the
graph's total are merged into their surroundings. CPM has no such limit: it keeps a set of
nodes together exactly when its internal tie weight beats ``resolution_parameter`` per pair of
members, whatever the size of the whole graph.

The igraph graph is built straight from the edge table's arrays (Polars -> numpy); networkx is
only used afterwards, per cluster (:func:`cluster_subgraph`).

>>> import polars as pl
>>> from mhgraph.planted import planted_cell_graph
>>> nodes, edges, truth = planted_cell_graph(n_background=2_000, n_cells=4, seed=3)
>>> communities = detect_communities(nodes, edges, resolution_parameter=0.02, seed=1)
>>> communities.columns
['entity_id', 'cluster_id', 'cluster_size']
>>> cell = truth.filter(pl.col("cell") == "cell0000").get_column("entity_id")
>>> communities.filter(pl.col("entity_id").is_in(cell.to_list())).get_column("cluster_id").n_unique()
1
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Mapping
from functools import partial

import igraph as ig
import networkx as nx
import numpy as np
import polars as pl
import scipy.sparse as sp

from mhgraph.errors import InputError
from mhgraph.executor import Executor, SerialExecutor
from mhgraph.graph import to_networkx
from mhgraph.partition import DEFAULT_UNIT_SIZE, component_units, numbers_of, strictly_increasing, task_groups, unit_pairs

__all__ = [
    "DEFAULT_RESOLUTION",
    "DEFAULT_TOLERANCE",
    "RELATION_WEIGHTS",
    "cluster_subgraph",
    "DEFAULT_JOIN_MAX_SIZE",
    "DEFAULT_JOIN_MIN_PAIRS",
    "community_edge_arrays",
    "component_leiden",
    "detect_communities",
    "join_linked_communities",
    "number_clusters",
    "numbered_ends",
]

log = logging.getLogger("mhgraph.detect")

DEFAULT_RESOLUTION = 0.02

# Leiden has converged when an iteration moves no more than this share of the vertices (see
# leiden_membership): a graph of fewer than 1,000 entities still iterates until nothing changes. Chosen
# on the development detection worlds, where 1e-4 and "until nothing changes" find the same
# networks at about twice the iterations (docs/scale.md, "What the iterations buy").
DEFAULT_TOLERANCE = 1e-3

# Communities that Leiden cut apart but that relations between at least this many distinct pairs of
# their entities, holding as many distinct persons, still tie together are joined, while the union holds at most DEFAULT_JOIN_MAX_SIZE
# entities (join_linked_communities). Chosen on the development detection worlds: a hidden
# construction chain split 8 / 10 is found whole, and no lawful look-alike joins a flagged cluster
# (docs/indicators.md, "Communities joined").
DEFAULT_JOIN_MIN_PAIRS = 2
DEFAULT_JOIN_MAX_SIZE = 40

# How strongly one relation says that its two ends belong to the same operation. Several
# relations of one type between the same two entities (e.g. consecutive payroll periods) count
# once; different types between the same pair add up.
RELATION_WEIGHTS: dict[str, float] = {
    # control: who runs the company or the permitted business
    "OFFICER_OF": 1.0,
    "HOLDS_PERMIT": 1.0,
    "MANAGES": 1.0,
    # dependence: whose wage
    "EMPLOYED_BY": 1.0,
    # whose residence permit: many sponsors are intermediaries (au-pair and exchange agencies,
    # universities) whose migrants have nothing else in common, so a sponsor of few migrants must
    # not pull unrelated households into one community; where the sponsor is also the employer,
    # the payroll tie joins them at full weight
    "SPONSORED_BY": 0.25,
    # place: where one lives; unrelated households share buildings, so a little weaker
    "REGISTERED_AT": 0.7,
    # place of business: accountants and business centres host many unrelated companies
    "LOCATED_AT": 0.5,
}


def community_edge_arrays(nodes: pl.DataFrame, edges: pl.DataFrame,
                          weights: Mapping[str, float] | None = None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(entity_ids, pairs, pair_weights)``: the undirected weighted graph community detection sees.

    ``entity_ids`` is sorted; ``pairs`` is an ``(m, 2)`` array of indices into it, one row per
    linked pair (lower index first, sorted); ``pair_weights`` is the sum over the distinct relation
    types between the pair of their weight. Self-loops and types weighted 0 are left out. The
    result depends only on the table contents, not on their row order.
    """
    weights = dict(RELATION_WEIGHTS if weights is None else weights)
    unknown = sorted(set(edges.get_column("type").unique().to_list()) - set(weights))
    if unknown:
        raise InputError(f"no community weight for relation type(s) {', '.join(unknown)}; "
                         f"give one in `weights`", file="edges", column="type")
    entity_ids = nodes.get_column("entity_id")
    if not strictly_increasing(entity_ids):  # the graph stage's nodes table already is
        entity_ids = entity_ids.unique().sort()
    numbered = entity_ids.to_frame("entity_id").with_row_index("_i")
    ends = [_positions(numbered, edges, end) for end in ("from_entity", "to_entity")]
    del numbered
    types = sorted(weights)
    type_code = edges.get_column("type").cast(pl.String).replace_strict(
        {name: code for code, name in enumerate(types)}, return_dtype=pl.Int64).to_numpy()
    type_weight = np.array([float(weights[name]) for name in types])
    low, high = np.minimum(*ends), np.maximum(*ends)
    kept = (low != high) & (type_weight[type_code] > 0)
    n = len(entity_ids)
    # one number per (pair, type), sorted and without repeats: the distinct types of each pair in
    # pair order, their weights then summed per pair (in type order, so the sum never depends on the
    # row order). A sort, not np.unique: that hashes, at 20 times the time of the sort here.
    linked = np.sort((low[kept] * n + high[kept]) * len(types) + type_code[kept])
    del low, high, kept, type_code, ends
    pair_of, type_of = np.divmod(linked[np.diff(linked, prepend=-1) != 0], len(types))
    firsts = np.flatnonzero(np.diff(pair_of, prepend=-1))  # the first row of each pair
    pair_weights = np.add.reduceat(type_weight[type_of], firsts) if len(firsts) else np.zeros(0)
    pairs = np.column_stack(np.divmod(pair_of[firsts], n)).astype(np.int64).reshape(-1, 2)
    return entity_ids.to_numpy(), pairs, pair_weights


def _positions(numbered: pl.DataFrame, edges: pl.DataFrame, end: str) -> np.ndarray:
    """The number of each edge's ``end`` (:func:`mhgraph.partition.numbers_of`); an end that
    ``numbered`` lacks, or a null end, is an input error naming its row. Ends read as an Enum of the
    numbered ids (:func:`numbered_ends`) are their numbers already: no table of their text is
    joined. Any other Enum or Categorical is read as its text: its own numbers are not these.

    >>> numbered = pl.DataFrame({"entity_id": ["a", "b"]}).with_row_index("_i")
    >>> ends = pl.DataFrame({"to_entity": ["b", "a"]})
    >>> [_positions(numbered, ends.select(pl.col("to_entity").cast(dtype)), "to_entity").tolist()
    ...  for dtype in (pl.String, pl.Enum(["a", "b"]), pl.Enum(["b", "a"]))]
    [[1, 0], [1, 0], [1, 0]]
    """
    values = edges.get_column(end)
    dtype = values.dtype  # read once: each read of an Enum's type rebuilds and checks its categories (a million ids)
    if isinstance(dtype, pl.Enum) and dtype.categories.equals(numbered.get_column("entity_id")):
        found = values.to_physical()
    else:
        found = numbers_of(numbered, edges.select(pl.col(end).cast(pl.String)), end)
    if found.null_count():  # a null end too: the Enum keeps it null, where a cast would make it a number
        row = int(found.is_null().arg_true()[0])
        raise InputError(f"edge points to entity {edges[row, end]!r}, which the nodes table lacks",
                         file="edges", row=row + 1, column=end)
    return found.to_numpy().astype(np.int64)


def numbered_ends(entity_ids: pl.Series, edges: pl.LazyFrame) -> pl.DataFrame | None:
    """The columns of ``edges`` detection reads, read with both ends as an Enum of ``entity_ids``
    (sorted and distinct: the graph stage's nodes), which :func:`community_edge_arrays` takes as
    the ends' numbers: the ids' text is never held for every edge, and no hash join is needed.
    ``None`` when the ids are not sorted and distinct or an end is not among them (read the ends
    as text then: :func:`detect_communities` names the row).

    >>> edges = pl.LazyFrame({"from_entity": ["b"], "to_entity": ["a"], "type": ["MANAGES"]})
    >>> numbered_ends(pl.Series(["a", "b"]), edges).select(pl.all().to_physical()).rows()
    [(1, 0, 'MANAGES')]
    >>> numbered_ends(pl.Series(["a"]), edges) is None
    True
    """
    if not strictly_increasing(entity_ids):
        return None
    ids = pl.Enum(entity_ids)
    try:  # read a part at a time: only the numbers are held whole
        return edges.select(pl.col("from_entity", "to_entity").cast(ids), "type").collect(engine="streaming")
    except pl.exceptions.InvalidOperationError:
        return None


def detect_communities(nodes: pl.DataFrame, edges: pl.DataFrame,
                       resolution_parameter: float = DEFAULT_RESOLUTION, seed: int = 0, *,
                       weights: Mapping[str, float] | None = None, n_iterations: int = -1,
                       tolerance: float = DEFAULT_TOLERANCE, active_since: dt.date | None = None, executor: Executor | None = None,
                       partitions: int | None = None, unit_size: int = DEFAULT_UNIT_SIZE,
                       join_min_pairs: int | None = DEFAULT_JOIN_MIN_PAIRS,
                       join_max_size: int = DEFAULT_JOIN_MAX_SIZE) -> pl.DataFrame:
    """Leiden-CPM communities: one row per entity with ``cluster_id`` and ``cluster_size``.

    **Choosing ``resolution_parameter`` (γ).** CPM scores a partition by the tie weight inside
    communities minus γ for every pair of members. So a set of ``n`` entities is kept together
    only if its weighted density ``w / (n (n - 1) / 2)`` is above γ, and a part of ``a`` members is
    split off from the other ``b`` members of its group when the ties between the two weigh less
    than ``γ × a × b``. The loosest cut inside the networks one wants to find sets the upper
    bound. Example: a network of 50 (an employer, its officer, 5 houses of about 9 workers each,
    every worker tied to the employer once): a house (a = 9) hangs on the rest (b = 41) by about
    9 employment ties, so γ must stay below 9 / (9 × 41) ≈ 0.024. A lower γ merges more: a
    tree-shaped background falls apart into pieces of up to about ``2 / γ`` entities, and
    networks linked by a single tie merge once γ < 1 / (n₁ × n₂). Check a choice with
    :func:`mhgraph.planted.planted_cell_graph` at the size of the data at hand
    (``benchmarks/bench_detect.py`` sweeps γ). The default 0.02 keeps networks of 5-50 members
    whole while still separating them from their surroundings.

    **Hubs.** A large employer or a business-centre address is tied to thousands of entities by
    one edge each. Under CPM a node joins a community only if its ties into it exceed γ times the
    community's size, so the employees of a hub cannot follow it into a community larger than
    about ``1 / γ``, and two networks that share only a hub stay apart (their one shared
    neighbour weighs less than γ × n₁ × n₂). No hub needs to be removed beforehand.

    **Edge weights** are :data:`RELATION_WEIGHTS` unless ``weights`` (relation type -> weight)
    is given; repeated relations of one type between the same pair count once.

    **Trees.** A company or an address that hangs on the rest of the graph by a single path — a
    front man's short-lived companies and their seats, a person's own home — cannot belong
    anywhere but with what it hangs on. Counted as a member in the γ per pair, such trees would
    make the person carrying them a heavy group that one tie cannot hold: four companies in a
    victim's name would split him off from the house he is registered at. So every entity other
    than a person (companies, addresses, permits) outside the graph's 2-core weighs nothing in
    the CPM penalty (igraph's ``node_weights``; :func:`leiden_membership` ``followers``) and
    follows its anchor; persons always count, so a community still holds at most about
    ``1 / γ`` persons beyond its core. The bound is on persons only: a tree without persons (an
    address with hundreds of officer-less companies) stays whole, however large.

    **Split networks joined.** Where Leiden leaves two communities that relations between at least
    ``join_min_pairs`` distinct pairs of their entities, through as many distinct persons, still
    tie together, they become one, as
    long as it holds at most ``join_max_size`` entities (:func:`join_linked_communities`; defaults
    :data:`DEFAULT_JOIN_MIN_PAIRS` and :data:`DEFAULT_JOIN_MAX_SIZE`): a network cut in two
    parts, each with under half its members, is one community again when the rules' hits are
    counted per cluster. ``join_min_pairs=None`` keeps Leiden's communities as they are.

    **Time.** ``active_since`` leaves out relations that ended before that day, so that a person
    who worked for two employers years apart does not tie them together; the entities stay, each
    in its own community if nothing else ties them. ``None`` (the default) uses every relation,
    for Leiden and for the joining alike.

    **Determinism.** Entities are indexed in ``entity_id`` order and pairs sorted, so the row
    order of the input does not matter; igraph's random number generator is seeded with
    ``seed`` for the call and reset to igraph's default (Python's :mod:`random`) afterwards.
    ``n_iterations=-1`` iterates Leiden until the partition has converged within ``tolerance``
    (:func:`leiden_membership`).

    **Partitions.** CPM never puts entities without a path between them in one community, so
    Leiden runs per unit of whole connected components of up to ``unit_size`` entities
    (:func:`component_leiden`); ``executor`` (default: this process) runs the units in
    ``partitions`` tasks (default: one per unit, or one in all when the largest unit holds most of
    the graph), on any number of workers with the same result.

    ``cluster_id`` is ``C`` plus a zero-padded number (at least four digits, so that text order
    equals number order), numbered by size, largest first, ties by lowest ``entity_id``.
    Entities without any edge are their own one-member cluster.
    """
    if not resolution_parameter > 0:
        raise ValueError(f"resolution_parameter must be positive, not {resolution_parameter!r}")
    if active_since is not None:
        edges = edges.filter(pl.col("valid_to").is_null() | (pl.col("valid_to") >= active_since))
    entity_ids, pairs, pair_weights = community_edge_arrays(nodes, edges, weights)
    followers = non_persons(nodes, entity_ids)
    # Leiden needs only the arrays: a caller that handed the tables over (detect_stored) has them let go here
    del nodes, edges
    membership = component_leiden(len(entity_ids), pairs, pair_weights, resolution=resolution_parameter, seed=seed,
                                  n_iterations=n_iterations, tolerance=tolerance, executor=executor,
                                  partitions=partitions, unit_size=unit_size, followers=followers)
    membership = join_linked_communities(membership, pairs, min_pairs=join_min_pairs, max_size=join_max_size,
                                         persons=~followers)
    communities = number_clusters(entity_ids, membership)
    log.info("detect: %d entities in %d communities (CPM, resolution %.4g, seed %d); largest %d",
             len(entity_ids), communities.get_column("cluster_id").n_unique(), resolution_parameter, seed,
             communities.get_column("cluster_size").max() or 0)
    return communities


def non_persons(nodes: pl.DataFrame, entity_ids: np.ndarray) -> np.ndarray:
    """One boolean per entity of ``entity_ids``: True where ``nodes`` does not call it a person.

    A Polars lookup: numpy's ``isin`` compares string arrays pair by pair (hours at a million).

    >>> nodes = pl.DataFrame({"entity_id": ["a", "p", "c"], "entity_type": ["address", "person", "company"]})
    >>> non_persons(nodes, np.array(["a", "c", "p"], dtype=object)).tolist()
    [True, True, False]
    """
    persons = nodes.filter(pl.col("entity_type") == "person").get_column("entity_id")
    return ~pl.Series(entity_ids, dtype=pl.String).is_in(persons.implode()).to_numpy()


def cpm_node_weights(graph: ig.Graph, followers) -> np.ndarray:
    """CPM node weights: 0 for a follower outside the graph's 2-core (a tree hanging on the rest), else 1.

    >>> star = ig.Graph(n=3, edges=[(0, 1), (0, 2)])
    >>> cpm_node_weights(star, [False, True, False]).tolist()
    [1.0, 0.0, 1.0]
    """
    outside_core = np.asarray(graph.coreness()) < 2
    return np.where(np.asarray(followers, dtype=bool) & outside_core, 0.0, 1.0)


def leiden_membership(n: int, pairs, pair_weights, *, objective: str = "CPM", resolution: float = 1.0,
                      seed: int = 0, n_iterations: int = -1, tolerance: float = DEFAULT_TOLERANCE,
                      followers=None) -> np.ndarray:
    """Leiden community membership of ``n`` vertices joined by ``pairs`` (igraph), seeded.

    ``objective`` is ``"CPM"`` (what mhgraph uses) or ``"modularity"`` (for comparison only:
    it merges small groups in a large sparse graph). igraph's random generator is swapped for
    a seeded one during the call and restored to igraph's default afterwards.

    ``n_iterations`` Leiden iterations are run, each one starting from the partition the last one
    left; ``-1`` iterates until the partition has converged: until an iteration moves no more than
    ``tolerance`` times ``n`` vertices to another community (:func:`moved_vertices`). With
    ``tolerance=0`` that is an iteration that changes nothing, igraph's own ``n_iterations=-1``.
    Why a tolerance: in a graph of many loosely joined regions some region still moves a vertex in
    almost every iteration, so "nothing changes" takes more iterations the larger the graph (22
    at 150 thousand entities), while a share of the vertices does not grow with it. A graph of
    fewer than ``1 / tolerance`` vertices still iterates until nothing changes.

    ``followers`` (booleans, one per vertex; CPM only): vertices that weigh nothing in the CPM
    penalty when they lie outside the graph's 2-core (trees hanging on the rest; see
    :func:`detect_communities`). A chain 0-1-2-3 splits in two at resolution 0.6; with 2 and 3
    following, it stays whole:

    >>> leiden_membership(4, [(0, 1), (2, 3)], [1.0, 1.0], resolution=0.5).tolist()
    [0, 0, 1, 1]
    >>> chain = [(0, 1), (1, 2), (2, 3)]
    >>> len(set(leiden_membership(4, chain, [1.0] * 3, resolution=0.6).tolist()))
    2
    >>> leiden_membership(4, chain, [1.0] * 3, resolution=0.6, followers=[False, False, True, True]).tolist()
    [0, 0, 0, 0]
    """
    graph = igraph_of_pairs(n, pairs)
    node_weights = None
    if followers is not None and objective == "CPM":
        node_weights = cpm_node_weights(graph, followers)
    ig.set_random_number_generator(random.Random(seed))
    try:
        membership, done = None, 0
        while n_iterations < 0 or done < n_iterations:
            # what Graph.community_leiden calls, without the clustering object it builds around the
            # result (a pass over every vertex in Python per iteration)
            found, _quality = ig.GraphBase.community_leiden(
                graph, edge_weights=pair_weights, node_weights=node_weights, resolution=resolution if objective == "CPM" else 1.0,
                normalize_resolution=objective == "modularity", beta=0.01, initial_membership=membership, n_iterations=1)
            done += 1
            converged = membership is not None and moved_vertices(membership, found) <= tolerance * n
            membership = found
            if converged and n_iterations < 0:
                break
    finally:
        ig.set_random_number_generator(random)  # igraph's default
    return np.asarray(membership if membership is not None else range(n))


def igraph_of_pairs(n: int, pairs) -> ig.Graph:
    """The undirected igraph graph of ``n`` vertices and one edge per row of ``pairs``, in row order.

    The pairs go to igraph as one array, in one call: each call of ``add_edges`` re-indexes every
    edge added so far, and a list of Python int pairs costs about 120 bytes a pair. At the 2.1
    million pairs of the giant unit at a million persons that is 0.8 CPU s, where lists of 262,144
    pairs at a time took 2.4 s and 45 MB more (igraph 1.0).

    >>> igraph_of_pairs(3, [(0, 1), (1, 2)]).get_edgelist()
    [(0, 1), (1, 2)]
    >>> igraph_of_pairs(2, []).ecount()
    0
    """
    graph = ig.Graph(n=n, directed=False)
    graph.add_edges(np.asarray(pairs, dtype=np.int64).reshape(-1, 2))
    return graph


def moved_vertices(before, after) -> int:
    """How many vertices ``after`` puts outside the community that keeps most of their community of
    ``before``: the vertices that moved, whatever the community labels are.

    >>> moved_vertices([0, 0, 1, 1], [5, 5, 7, 7]), moved_vertices([0, 0, 0, 1], [2, 2, 3, 3])
    (0, 1)
    """
    before, after = np.asarray(before, dtype=np.int64), np.asarray(after, dtype=np.int64)
    if not len(before):
        return 0
    # the vertices of each (before, after) pair of communities counted in a sparse matrix, whose
    # build sums repeats in linear time: np.unique sorted them, twice the CPU at every iteration
    shared = sp.csr_matrix((np.ones(len(before), dtype=np.int64), (before, after)))
    return len(before) - int(shared.max(axis=1).sum())


def component_leiden(n: int, pairs: np.ndarray, pair_weights: np.ndarray, *, resolution: float, seed: int = 0,
                     n_iterations: int = -1, tolerance: float = DEFAULT_TOLERANCE, executor: Executor | None = None,
                     partitions: int | None = None, unit_size: int = DEFAULT_UNIT_SIZE,
                     followers: np.ndarray | None = None) -> np.ndarray:
    """Leiden-CPM membership computed per unit of whole connected components (:mod:`mhgraph.partition`).

    ``followers`` (one boolean per vertex), ``n_iterations`` and ``tolerance`` are handed to
    :func:`leiden_membership` per unit.

    Each unit is seeded with ``seed``; what a unit holds depends only on the graph and
    ``unit_size``. The units go to ``executor`` in ``partitions`` tasks (default: one task per
    unit, or one task when the largest unit holds most of the graph: :func:`mhgraph.partition.task_groups`);
    neither the executor nor the number of partitions changes the result. A graph that fits one
    unit is handed to igraph exactly as a whole.

    >>> component_leiden(5, np.array([[0, 1], [3, 4]]), np.array([1.0, 1.0]), resolution=0.5, unit_size=2).tolist()
    [0, 0, 1, 2, 2]
    """
    units = component_units(n, pairs, unit_size)
    tasks = [(len(unit), local, pair_weights[rows], None if followers is None else followers[unit])
             for unit, (local, rows) in zip(units, unit_pairs(units, n, pairs))]
    groups = task_groups(len(tasks), partitions, sizes=[len(unit) for unit in units])
    labels = (executor or SerialExecutor()).map(
        partial(_units_membership, resolution=resolution, seed=seed, n_iterations=n_iterations,
                tolerance=tolerance),
        [[tasks[i] for i in group] for group in groups])
    membership, offset = np.empty(n, dtype=np.int64), 0
    for unit, unit_labels in zip(units, (one for group in labels for one in group)):
        membership[unit] = unit_labels + offset
        offset += int(unit_labels.max()) + 1
    return membership


def _units_membership(tasks: list[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]], *, resolution: float,
                      seed: int, n_iterations: int, tolerance: float) -> list[np.ndarray]:
    return [leiden_membership(n, pairs, pair_weights, objective="CPM", resolution=resolution, seed=seed,
                              n_iterations=n_iterations, tolerance=tolerance, followers=followers)
            for n, pairs, pair_weights, followers in tasks]


def join_linked_communities(membership, pairs, *, min_pairs: int | None = DEFAULT_JOIN_MIN_PAIRS,
                            max_size: int = DEFAULT_JOIN_MAX_SIZE, persons=None) -> np.ndarray:
    """``membership`` with the communities joined that ``pairs`` link by at least ``min_pairs``
    distinct pairs of entities through at least ``min_pairs`` distinct persons, as long as each
    union holds at most ``max_size`` entities. ``persons`` (one boolean per entity) says which
    entities are persons; ``None`` counts every entity as one.

    Why: CPM cuts a network in two where the ties between the parts weigh less than γ per pair of
    members across (:func:`detect_communities`), and the rules' hits are then counted per part, so
    neither part may hold half the network. Two separate ties between two small communities are
    rarely chance; one tie is (a shared address, one employer), so one pair never joins, nor do
    the pairs of one person (a worker who once worked for the other crew's company and lived at
    its address: two pairs, one job changer). Two workers of one crew at the other's address are
    two persons and join. The bound keeps a large employer's or address's community from taking
    in its neighbours.

    ``pairs`` holds each linked pair of entities once (:func:`community_edge_arrays`), so the
    count is of distinct entity pairs, not of relations. The links are counted between the
    communities as Leiden left them and taken strongest first (most pairs — a link's pairs or its
    persons, whichever are fewer —, then the community with the lowest entity first), each joined when the two groups it links hold at most ``max_size``
    entities together; so a community may join a group its link partner joined before, and the
    result depends only on the partition, not on its labels. ``min_pairs=None`` joins nothing.

    Two communities of three tied by two pairs are joined; tied by one pair, by the two pairs of one
    person (entity 0, tied to a company and an address, 3 and 4), or with a bound of 5, they are not:

    >>> membership = [0, 0, 0, 1, 1, 1]
    >>> join_linked_communities(membership, [(0, 1), (1, 2), (0, 3), (2, 4), (3, 4), (4, 5)]).tolist()
    [0, 0, 0, 0, 0, 0]
    >>> join_linked_communities(membership, [(0, 1), (1, 2), (0, 3), (3, 4), (4, 5)]).tolist()
    [0, 0, 0, 1, 1, 1]
    >>> join_linked_communities(membership, [(0, 1), (1, 2), (0, 3), (0, 4), (3, 4), (4, 5)],
    ...                         persons=[True, True, True, False, False, True]).tolist()
    [0, 0, 0, 1, 1, 1]
    >>> join_linked_communities(membership, [(0, 3), (2, 4)], max_size=5).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    membership = np.asarray(membership, dtype=np.int64)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    # communities numbered by their first entity: the order of the links below never depends on labels
    labels, first, community = np.unique(membership, return_index=True, return_inverse=True)
    by_first = np.empty(len(labels), dtype=np.int64)
    by_first[np.argsort(first)] = np.arange(len(labels))
    community = by_first[community.reshape(-1)]
    if min_pairs is None or not len(pairs):
        return community
    ends = community[pairs]
    across = ends[:, 0] != ends[:, 1]
    pairs, ends = pairs[across], ends[across]
    link = ends.min(axis=1) * len(labels) + ends.max(axis=1)
    linked, counts = np.unique(link, return_counts=True)
    # one person tied to two entities of the other community (a past job and a past address) is two
    # pairs but one tie: the pairs of a link must hold at least ``min_pairs`` distinct persons too
    # (keyed by the link's position in ``linked``, not its code: a code times the entity count
    # would pass int64 at a few million entities)
    link_index = np.searchsorted(linked, link)
    ends_link, ends_entity = np.concatenate([link_index, link_index]), np.concatenate([pairs[:, 0], pairs[:, 1]])
    if persons is not None:
        is_person = np.asarray(persons, dtype=bool)[ends_entity]
        ends_link, ends_entity = ends_link[is_person], ends_entity[is_person]
    person_link = np.unique(ends_link * len(membership) + ends_entity) // len(membership)
    counts = np.minimum(counts, np.bincount(person_link, minlength=len(linked)))
    strong = counts >= min_pairs
    linked, counts = linked[strong], counts[strong]
    order = np.lexsort((linked, -counts))  # most pairs (or persons) first, then by the lower community, then the higher
    size = np.bincount(community, minlength=len(labels))
    root = np.arange(len(labels))

    def find(c: int) -> int:
        while root[c] != c:
            root[c] = root[root[c]]
            c = int(root[c])
        return c

    joined = 0
    for a, b in zip(*np.divmod(linked[order], len(labels))):
        a, b = find(int(a)), find(int(b))
        if a != b and size[a] + size[b] <= max_size:
            a, b = min(a, b), max(a, b)  # the group keeps the label of its first entity
            root[b], size[a] = a, size[a] + size[b]
            joined += 1
    if not joined:
        return community
    log.info("join: %d communities joined into others (linked by %d+ entity pairs, at most %d entities)",
             joined, min_pairs, max_size)
    while not np.array_equal(root[root], root):  # every community straight to its group's label
        root = root[root]
    return root[community]


def number_clusters(entity_ids: np.ndarray, membership: np.ndarray) -> pl.DataFrame:
    """Rename arbitrary community labels to ``C0001``... by size (desc), then lowest entity id.

    ``entity_ids`` must be sorted; ``membership[i]`` is the label of ``entity_ids[i]`` from any
    algorithm (igraph, networkx, Neo4j GDS), so that all of them number clusters alike.

    >>> number_clusters(np.array(["A", "B", "C"]), np.array([7, 3, 3])).rows()
    [('B', 'C0001', 2), ('C', 'C0001', 2), ('A', 'C0002', 1)]
    """
    frame = pl.DataFrame({"entity_id": pl.Series(entity_ids, dtype=pl.String), "_label": membership,
                          "_i": np.arange(len(entity_ids))})  # typed, so that no entity at all is no error
    order = (
        frame.group_by("_label").agg(cluster_size=pl.len().cast(pl.Int64), _first=pl.col("_i").min())
        .sort(["cluster_size", "_first"], descending=[True, False])
        .with_row_index("_rank", offset=1)
    )
    width = max(4, len(str(order.height)))
    # sorted by numbers: with ``entity_ids`` sorted, (rank, position) is (cluster_id, entity_id) order
    return (
        frame.join(order, on="_label").sort("_rank", "_i")
        .select("entity_id", cluster_id=pl.concat_str(pl.lit("C"), pl.col("_rank").cast(pl.String).str.zfill(width)),
                cluster_size="cluster_size")
    )


def cluster_subgraph(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame,
                     cluster_id: str) -> nx.MultiDiGraph:
    """The networkx graph of one cluster: its entities and the edges between them.

    Built from the tables without a whole-graph networkx object, so it is cheap on large data.

    >>> from mhgraph.planted import planted_cell_graph
    >>> nodes, edges, _ = planted_cell_graph(n_background=1_000, n_cells=2, seed=0)
    >>> communities = detect_communities(nodes, edges, seed=0)
    >>> sub = cluster_subgraph(nodes, edges, communities, "C0001")
    >>> sub.number_of_nodes() == communities.filter(pl.col("cluster_id") == "C0001").height
    True
    """
    members = communities.filter(pl.col("cluster_id") == cluster_id).get_column("entity_id")
    if members.is_empty():
        raise InputError(f"no cluster {cluster_id!r} in the communities table", file="communities",
                         column="cluster_id")
    member_list = members.to_list()
    return to_networkx(
        nodes.filter(pl.col("entity_id").is_in(member_list)),
        edges.filter(pl.col("from_entity").is_in(member_list) & pl.col("to_entity").is_in(member_list)),
    )
