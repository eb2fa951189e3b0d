"""Partitions fixed by the data: connected components packed into units, and community
detection over them through every executor, with the same result however the work is split."""

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mhgraph.detect import DEFAULT_RESOLUTION, community_edge_arrays, component_leiden, detect_communities, \
    leiden_membership
from mhgraph.executor import DaskExecutor, ProcessExecutor, SerialExecutor
from mhgraph.partition import component_labels, component_units, unit_pairs
from mhgraph.planted import planted_cell_graph


@pytest.fixture(scope="module")
def regions():
    """Three planted-cell graphs side by side (ids prefixed per region): many components, some large."""
    nodes, edges = [], []
    for region, seed in enumerate((1, 2, 3)):
        n, e, _ = planted_cell_graph(n_background=600, n_cells=4, seed=seed)
        prefix = pl.lit(f"R{region}-")
        nodes.append(n.with_columns(entity_id=prefix + pl.col("entity_id")))
        edges.append(e.with_columns(*((prefix + pl.col(c)).alias(c) for c in ("relation_id", "from_entity", "to_entity"))))
    return pl.concat(nodes), pl.concat(edges)


def test_units_hold_whole_components_once(regions):
    ids, pairs, _ = community_edge_arrays(*regions)
    labels = component_labels(len(ids), pairs)
    units = component_units(len(ids), pairs, unit_size=300)
    assert len(units) > 3
    flat = np.concatenate(units)
    assert sorted(flat.tolist()) == list(range(len(ids)))  # every vertex in exactly one unit
    for unit in units:
        assert (np.diff(unit) > 0).all()  # sorted inside a unit
        component_sizes = np.bincount(labels)
        members = np.bincount(labels[unit], minlength=len(component_sizes))
        touched = members > 0
        assert (members[touched] == component_sizes[touched]).all()  # no component is split
        assert len(unit) <= 300 or touched.sum() == 1  # only a single large component passes the size
    pieces = unit_pairs(units, len(ids), pairs)
    assert sum(len(rows) for _, rows in pieces) == len(pairs)
    for unit, (local, rows) in zip(units, pieces):
        assert (unit[local] == pairs[rows]).all()


def test_one_unit_is_the_whole_graph_as_before(regions):
    ids, pairs, weights = community_edge_arrays(*regions)
    whole = leiden_membership(len(ids), pairs, weights, resolution=DEFAULT_RESOLUTION, seed=5)
    assert (component_leiden(len(ids), pairs, weights, resolution=DEFAULT_RESOLUTION, seed=5) == whole).all()


def test_any_partitioning_gives_the_result_of_one_partition(regions):
    ids, pairs, weights = community_edge_arrays(*regions)
    labels = component_labels(len(ids), pairs)

    def run(partitions, executor=None):
        return component_leiden(len(ids), pairs, weights, resolution=DEFAULT_RESOLUTION, seed=3,
                                unit_size=250, partitions=partitions, executor=executor)

    one = run(1)
    for partitions in (None, 2, 5):
        assert (run(partitions) == one).all()
    assert (run(3, ProcessExecutor(2)) == one).all()
    # no community reaches across components
    communities = pl.DataFrame({"community": one, "component": labels})
    assert communities.group_by("community").agg(pl.col("component").n_unique()).get_column("component").max() == 1


def test_detect_communities_is_the_same_on_every_executor(regions):
    nodes, edges = regions
    serial = detect_communities(nodes, edges, seed=7, executor=SerialExecutor())
    assert_frame_equal(detect_communities(nodes, edges, seed=7), serial)
    assert_frame_equal(detect_communities(nodes, edges, seed=7, executor=ProcessExecutor(2)), serial)


def test_dask_executor_in_local_mode(regions):
    """The scale-out executor: a local Dask cluster of two worker processes runs the same units."""
    nodes, edges = regions
    ids, pairs, weights = community_edge_arrays(nodes, edges)
    with DaskExecutor(workers=2) as dask:
        assert dask.map(len, [[1], [1, 2], []]) == [1, 2, 0]
        assert dask.map(len, []) == []
        membership = component_leiden(len(ids), pairs, weights, resolution=DEFAULT_RESOLUTION, seed=3,
                                      unit_size=250, executor=dask)
        communities = detect_communities(nodes, edges, seed=7, executor=dask)
    assert (membership == component_leiden(len(ids), pairs, weights, resolution=DEFAULT_RESOLUTION, seed=3,
                                           unit_size=250)).all()
    assert_frame_equal(communities, detect_communities(nodes, edges, seed=7))


def test_any_partitioning_of_the_sample_gives_the_clusters_and_scores_of_one_partition(sample_export):
    """End to end on data/sample: resolve, graph, detect, indicators and rank with the sample's
    components spread over several units, run as one task in this process, one task per unit in
    local processes and three tasks on a local Dask cluster: the same clusters, hits and scores.
    Serially detection runs before the rules; otherwise beside them, in a worker of its own:
    the seconds of both together are at least those of each, and with the serial executor their sum."""
    from mhgraph.pipeline import DETECT_AND_INDICATORS, analyse
    from mhgraph.purpose import DEFAULT_RUN_PURPOSE, allowed_source_purposes

    _, result = sample_export
    mentions, relations = result.tables["mentions"], result.tables["relations"]
    ids, pairs, _ = community_edge_arrays(result.tables["nodes"], result.tables["edges"])
    units = len(component_units(len(ids), pairs, unit_size=40))
    assert units >= 3

    def run(executor, partitions):
        timings = {}
        tables, _ = analyse(mentions, relations, allowed_purposes=allowed_source_purposes(DEFAULT_RUN_PURPOSE),
                            seed=42, executor=executor, partitions=partitions, unit_size=40, timings=timings)
        both = timings[DETECT_AND_INDICATORS]
        assert both >= max(timings["detect"], timings["indicators"]) > 0
        return tables, both - timings["detect"] - timings["indicators"]

    one, unaccounted = run(SerialExecutor(), 1)
    assert unaccounted >= 0
    assert one["clusters"].filter(pl.col("score") > 0).height > 0
    with DaskExecutor(workers=2) as dask:
        for other, _ in (run(ProcessExecutor(2), units), run(dask, 3)):
            for name in ("communities", "indicator_hits", "clusters"):
                assert_frame_equal(other[name], one[name])


def test_a_failing_rule_ends_the_detection_running_beside_it(sample_export, monkeypatch):
    """When the rules fail while detection runs in a worker of its own, that worker is ended:
    the run stops with the rules' error and does not wait at exit for a detection nobody reads."""
    from pathlib import Path

    import mhgraph.pipeline
    from mhgraph.pipeline import analyse

    class Beside(ProcessExecutor):
        def submit(self, function, *args, **kwargs):
            self.detecting = super().submit(function, *args, **kwargs)
            return self.detecting

    def failing_rules(*args, **kwargs):
        raise ArithmeticError("a rule failed")

    monkeypatch.setattr(mhgraph.pipeline, "compute_indicators", failing_rules)
    _, result = sample_export
    executor = Beside(2)
    with pytest.raises(ArithmeticError, match="a rule failed"):
        analyse(result.tables["mentions"], result.tables["relations"], allowed_purposes=None, executor=executor)
    assert executor.detecting.done()
    assert not Path(f"/proc/{executor.detecting.pid}").exists()


def test_leiden_converges_as_igraph_does_below_one_over_the_tolerance(regions):
    """Iteration by iteration with a tolerance of 0 is igraph's own "until nothing changes"; a
    graph of fewer than 1 / tolerance entities gets exactly that with a tolerance above 0."""
    import random

    import igraph as ig

    from mhgraph.detect import number_clusters

    ids, pairs, weights = community_edge_arrays(*regions)
    below = 1 / (len(ids) + 1)  # the largest tolerance that still means "nothing moves" here
    ig.set_random_number_generator(random.Random(11))
    try:
        igraph_own = ig.Graph(n=len(ids), edges=pairs).community_leiden(
            objective_function="CPM", weights=weights, resolution=DEFAULT_RESOLUTION, n_iterations=-1).membership
    finally:
        ig.set_random_number_generator(random)
    exact = leiden_membership(len(ids), pairs, weights, resolution=DEFAULT_RESOLUTION, seed=11, tolerance=0)
    assert_frame_equal(number_clusters(ids, exact), number_clusters(ids, np.asarray(igraph_own)))
    assert (leiden_membership(len(ids), pairs, weights, resolution=DEFAULT_RESOLUTION, seed=11,
                              tolerance=below) == exact).all()


def test_a_graph_without_entities_has_no_communities():
    assert component_leiden(0, np.empty((0, 2), dtype=np.int64), np.empty(0), resolution=DEFAULT_RESOLUTION).size == 0
    assert component_leiden(0, np.empty((0, 2), dtype=np.int64), np.empty(0), resolution=DEFAULT_RESOLUTION,
                            partitions=3).size == 0


def test_a_graph_held_by_one_unit_is_one_task_unless_partitions_are_asked_for():
    class Tasks(SerialExecutor):
        def map(self, function, partitions):
            partitions = list(partitions)
            self.tasks = len(partitions)
            return super().map(function, partitions)

    def run(pairs, partitions=None):
        executor = Tasks()
        membership = component_leiden(int(pairs.max()) + 1, pairs, np.ones(len(pairs)), resolution=0.3, seed=3,
                                      unit_size=10, partitions=partitions, executor=executor)
        return membership, executor.tasks

    pairs = np.array([(i, i + 1) for i in range(0, 24, 2)])  # twelve pairs in units of 10, 10 and 4 vertices
    assert run(pairs)[1] == 3
    chain = np.vstack([np.array([(i, i + 1) for i in range(99)]), pairs + 100])  # and 100 vertices in one component
    assert len(component_units(124, chain, unit_size=10)) == 4
    (one, tasks), (split, three) = run(chain), run(chain, partitions=3)
    assert (tasks, three) == (1, 3)
    assert (one == split).all() and len(set(one[:100].tolist())) > 1
