"""Partitions fixed by the data: connected components packed into units of work.

Work that never crosses a connected component (community detection, clustering of matched
pairs) can be split into independent units. What a unit holds depends only on the data and
``unit_size``, never on how many workers there are: the units are formed by walking the
components in order of their smallest vertex and closing a unit once it holds ``unit_size``
vertices (a larger component is a unit of its own). An executor then runs the units in any
grouping, on any number of workers, with the same result.

>>> import numpy as np
>>> pairs = np.array([[0, 1], [2, 3], [3, 4]])
>>> component_labels(6, pairs).tolist()
[0, 0, 1, 1, 1, 2]
>>> [unit.tolist() for unit in component_units(6, pairs, unit_size=5)]
[[0, 1, 2, 3, 4], [5]]
"""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["DEFAULT_UNIT_SIZE", "LARGEST_UNIT_SHARE", "component_labels", "component_units", "numbers_of",
           "strictly_increasing", "task_groups", "unit_pairs"]

# Vertices per unit of work: large enough that tiny components do not each cost a task,
# small enough that a country's many small components spread over the workers.
DEFAULT_UNIT_SIZE = 200_000

# By default the units of a graph whose largest unit holds more than this share of its vertices
# form one task (task_groups).
LARGEST_UNIT_SHARE = 0.5


def strictly_increasing(values: pl.Series) -> bool:
    """Whether ``values`` are sorted and distinct, without nulls: one comparison per neighbour, no
    hash table (a null compares as null, which Polars' ``all`` would skip).

    >>> strictly_increasing(pl.Series(["a", "b"])), strictly_increasing(pl.Series(["a", "a"]))
    (True, False)
    >>> strictly_increasing(pl.Series(["a", None, "b"]))
    False
    """
    return values.null_count() == 0 and bool((values.slice(1) > values.slice(0, max(len(values) - 1, 0))).all())


def numbers_of(numbered: pl.DataFrame, table: pl.DataFrame, column: str) -> pl.Series:
    """The number (``_i``) that ``numbered`` (``entity_id``, ``_i``) gives each row's ``column`` of
    ``table``, in row order; null where it lacks the entity. One column at a time, and only the
    numbers kept: not a table of the text of both ends of every edge.

    >>> numbered = pl.DataFrame({"entity_id": ["a", "b"]}).with_row_index("_i")
    >>> numbers_of(numbered, pl.DataFrame({"to_entity": ["b", "x", "a"]}), "to_entity").to_list()
    [1, None, 0]
    """
    return (table.select(entity_id=column).join(numbered, on="entity_id", how="left", maintain_order="left")
            .get_column("_i"))


def component_labels(n: int, pairs: np.ndarray) -> np.ndarray:
    """The connected component of each of ``n`` vertices joined by ``pairs`` (an ``(m, 2)`` array),
    numbered 0, 1, … in order of each component's smallest vertex."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    graph = sp.coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # scipy numbers components in order of discovery from vertex 0 upwards, which is the order of
    # their smallest vertex; renumber anyway so the promise does not rest on that.
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[labels]


def component_units(n: int, pairs: np.ndarray, unit_size: int = DEFAULT_UNIT_SIZE) -> list[np.ndarray]:
    """Vertex indices (sorted) of each unit: whole components, packed in order up to ``unit_size``."""
    if n == 0:
        return []
    labels = component_labels(n, pairs)
    sizes = np.bincount(labels)
    # A unit closes when adding the next component would pass unit_size (a first component
    # larger than that makes a unit on its own).
    unit_of_component = np.empty(len(sizes), dtype=np.int64)
    unit, filled = 0, 0
    for component, size in enumerate(sizes.tolist()):
        if filled and filled + size > unit_size:
            unit, filled = unit + 1, 0
        unit_of_component[component] = unit
        filled += size
    vertex_unit = unit_of_component[labels]
    order = np.argsort(vertex_unit, kind="stable")  # stable: vertices stay sorted inside a unit
    bounds = np.cumsum(np.bincount(vertex_unit))
    return np.split(order, bounds[:-1])


def task_groups(n_units: int, partitions: int | None = None, sizes=None) -> list[np.ndarray]:
    """The units (by number) of each task: ``n_units`` spread in order over ``partitions``
    tasks, no task empty. Default: one task per unit; but given the units' ``sizes``, a single task
    when the largest unit holds more than :data:`LARGEST_UNIT_SHARE` of them (a country tied into
    one component): the work then lasts as long as that unit wherever the rest goes, and a single
    task runs in the caller's process (:class:`mhgraph.executor.ProcessExecutor`) without
    starting workers or copying the units to them.

    >>> [group.tolist() for group in task_groups(5, 2)]
    [[0, 1, 2], [3, 4]]
    >>> [group.tolist() for group in task_groups(3, sizes=[90, 5, 5])], len(task_groups(3, sizes=[40, 30, 30]))
    ([[0, 1, 2]], 3)
    """
    if partitions is None and sizes is not None and len(sizes) and max(sizes) > LARGEST_UNIT_SHARE * sum(sizes):
        partitions = 1
    return [group for group in np.array_split(np.arange(n_units), max(1, partitions or n_units)) if len(group)]


def unit_pairs(units: list[np.ndarray], n: int, pairs: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per unit: its pairs renumbered to positions in the unit, and their row numbers in ``pairs``.

    Rows keep their order, so with a single unit the pairs come back exactly as given.

    >>> [local.tolist() for local, _ in unit_pairs([np.array([0, 1]), np.array([2, 3, 4])], 5,
    ...                                            np.array([[0, 1], [2, 3], [3, 4]]))]
    [[[0, 1]], [[0, 1], [1, 2]]]
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    unit_of, position = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for number, unit in enumerate(units):
        unit_of[unit] = number
        position[unit] = np.arange(len(unit))
    pair_unit = unit_of[pairs[:, 0]]
    order = np.argsort(pair_unit, kind="stable")
    bounds = np.searchsorted(pair_unit[order], np.arange(len(units) + 1))
    return [(position[pairs[rows]], rows) for rows in (order[a:b] for a, b in zip(bounds[:-1], bounds[1:]))]
