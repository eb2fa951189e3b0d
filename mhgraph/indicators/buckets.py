"""A rule run per hash bucket of its join key: the same findings with a part of the working set at once.

A rule whose rows meet only rows of the same key (the employees of one employer, the residents
of one address) and whose findings are grouped by that key can take the rows of one bucket of
that key at a time: every row of a key lands in the same bucket, so each finding is made whole
in one bucket and the findings of all buckets together are those of the whole table. The joins
of a bucket hold that bucket's share of the pairs instead of all of them; the tables a bucket
joins with are made once, before the buckets.

>>> rows = pl.DataFrame({"company": ["C1", "C2", "C1", "C3"], "wage": [1, 2, 3, 4]})
>>> def totals(part):
...     return part.group_by("company").agg(pl.col("wage").sum())
>>> per_bucket(rows, "company", totals, buckets=3).sort("company").rows()
[('C1', 4), ('C2', 2), ('C3', 4)]
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

__all__ = ["BUCKET_ROWS", "bucket_count", "per_bucket"]

# Rows of the driving table per bucket when a rule is not told how many buckets to use: at a
# million persons (about 2 million employments) 8 buckets; a smaller world stays in one.
BUCKET_ROWS = 250_000


def bucket_count(rows: int, bucket_rows: int = BUCKET_ROWS) -> int:
    """How many buckets ``rows`` rows take at ``bucket_rows`` rows a bucket (at least one).

    >>> bucket_count(1_900_000), bucket_count(40_000)
    (8, 1)
    """
    return max(1, -(-rows // bucket_rows))


def per_bucket(rows: pl.DataFrame, key: str, find: Callable[[pl.DataFrame], pl.DataFrame], *,
               buckets: int | None = None) -> pl.DataFrame:
    """``find`` applied to the rows of each hash bucket of ``key`` in turn, the results
    concatenated in the order of the buckets; ``buckets``: how many (default: from the row
    count, :func:`bucket_count`). With one bucket, ``find(rows)``.

    ``find`` must judge each value of ``key`` on that value's rows alone (group its findings by
    the key, or by finer keys within one value of it, such as an employer and an address; the
    tables it joins with are whole); then the concatenation holds the same rows as
    ``find(rows)``, in another order. Only ``rows`` is split, so a key of any type will do (String, Enum,
    Categorical, integers): the rows of one value share a hash, and so a bucket.
    """
    buckets = bucket_count(rows.height) if buckets is None else buckets
    if buckets <= 1:
        return find(rows)
    bucket = rows.get_column(key).hash(seed=0) % buckets
    return pl.concat([find(rows.filter(bucket == number)) for number in range(buckets)])
