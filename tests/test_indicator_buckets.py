"""The rules run per hash bucket of their join key find what they find on the whole table: every
row lands in exactly one bucket, all rows of a key in the same one, and each bucketed rule's hits
are those of one bucket, on data/sample and on a generated world."""

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mhgraph.indicators import INDICATORS, graded_hits, readable_edges
from mhgraph.indicators.buckets import bucket_count, per_bucket
from mhgraph.indicators.housing import SharedTables
from mhgraph.purpose import DEFAULT_RUN_PURPOSE, allowed_source_purposes

BUCKETED = ("worker_lives_at_workplace", "staff_housed_together", "wage_below_minimum", "minimum_pay_for_few_hours")


@pytest.fixture(scope="module")
def sample(sample_export):
    _, result = sample_export
    return result.tables["nodes"], result.tables["edges"]


@pytest.fixture(scope="module")
def world():
    """The graph tables of a generated population (the small set the synthetic-data tests use)."""
    from synth_helpers import synthetic_set
    from mhgraph.graph import build_graph_tables
    from mhgraph.ingest import ingest
    from mhgraph.resolve import resolve_baseline

    folder, _ = synthetic_set(800, 3)
    ingested = ingest(folder)
    return build_graph_tables(ingested.mentions, ingested.relations, resolve_baseline(ingested.mentions))


@pytest.mark.parametrize("dtype", [pl.String, pl.Enum([f"C{i}" for i in range(40)]), pl.Categorical])
def test_every_row_lands_in_one_bucket_with_all_rows_of_its_key(dtype):
    rows = pl.DataFrame({"company": [f"C{i % 40}" for i in range(1000)], "row": range(1000)},
                        schema_overrides={"company": dtype})
    parts = []

    def keep(part: pl.DataFrame) -> pl.DataFrame:
        parts.append(part)
        return part

    together = per_bucket(rows, "company", keep, buckets=7)
    assert len(parts) == 7 and sum(part.height > 0 for part in parts) > 1
    assert_frame_equal(together.sort("row"), rows)  # none lost, none twice
    keys = [set(part.get_column("company").cast(pl.String)) for part in parts]
    assert sum(map(len, keys)) == len(set().union(*keys)) == 40  # a key's rows share one bucket


def test_one_bucket_is_the_whole_table_and_the_default_follows_the_row_count():
    rows = pl.DataFrame({"company": ["C1", "C2"]})
    assert per_bucket(rows, "company", lambda part: part.with_columns(rows=pl.lit(part.height))).get_column(
        "rows").to_list() == [2, 2]
    assert [bucket_count(n, 100) for n in (0, 1, 100, 101, 1000)] == [1, 1, 1, 2, 10]


@pytest.mark.parametrize("tables", ["sample", "world"])
@pytest.mark.parametrize("name", BUCKETED)
def test_a_rule_finds_the_same_hits_in_one_bucket_and_in_several(request, tables, name):
    nodes, edges = request.getfixturevalue(tables)
    edges = readable_edges(edges, allowed_source_purposes(DEFAULT_RUN_PURPOSE))
    spec = INDICATORS[name]

    def hits(buckets: int) -> pl.DataFrame:
        shared = SharedTables(nodes, edges, buckets)
        return graded_hits(name, nodes, edges, settings={"shared": shared, "buckets": buckets},
                           weak=spec.weak_thresholds)

    whole = hits(1)
    assert whole.height > 0  # something to lose
    for buckets in (2, 7):
        assert_frame_equal(hits(buckets), whole)


@pytest.mark.parametrize("tables", ["sample", "world"])
def test_the_home_stays_at_officers_homes_are_the_same_in_one_bucket_and_in_several(request, tables):
    nodes, edges = request.getfixturevalue(tables)
    whole = SharedTables(nodes, edges, 1).officer_home_stays
    assert whole.height > 0
    for buckets in (2, 7):
        parts = SharedTables(nodes, edges, buckets).officer_home_stays
        assert_frame_equal(parts.sort(parts.columns), whole.sort(whole.columns))
