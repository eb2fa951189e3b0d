"""Record ids already taken per source, across files and batches: a later row with the same id is a duplicate.

>>> seen = SeenRecordIds()
>>> seen.repeated("loon", pl.DataFrame({"__row": [1, 2], "rid": ["a", "b"]})).height
0
>>> seen.repeated("loon", pl.DataFrame({"__row": [3, 4], "rid": ["b", "c"]})).select("__row", "first_row").rows()
[(3, 2)]
"""

from __future__ import annotations

import polars as pl

from mhgraph.ingest.readers import ROW

__all__ = ["SeenRecordIds"]


class SeenRecordIds:
    """Record ids already taken per source, with where they were first seen, across files and
    batches: a later row with the same id is a duplicate.

    The ids are kept as sorted runs, merged whenever a run is at least half the size of the
    one before it (a log-structured index), up to :attr:`MAX_MERGED_RUN` ids per run. Looking
    up a batch is then a binary search per run instead of a join against every id seen so
    far, which would make a file of ten million rows quadratic.
    """

    # Runs stop growing at this many ids: merging two huge runs would need memory for both
    # again, while a few more runs to search cost little.
    MAX_MERGED_RUN = 2_000_000

    def __init__(self):
        self.runs: dict[str, list[pl.DataFrame]] = {}

    def _lookup(self, source: str, ids: pl.DataFrame) -> pl.DataFrame:
        """The rows of ``ids`` (``__row``, ``rid``) already seen, with ``first_row`` and ``first_file``."""
        found = [ids.clear().with_columns(first_row=pl.lit(None, pl.Int64), first_file=pl.lit(None, pl.Int32))]
        for run in self.runs.get(source, []):
            position = run["rid"].search_sorted(ids["rid"], side="left").clip(upper_bound=run.height - 1)
            candidate = run[position]
            hit = (candidate["rid"] == ids["rid"]).fill_null(False)
            found.append(ids.filter(hit).hstack(candidate.filter(hit).select("first_row", "first_file")))
        return pl.concat(found)

    def _remember(self, source: str, firsts: pl.DataFrame) -> None:
        if firsts.is_empty():  # an empty run has no last position to clip a lookup to
            return
        runs = self.runs.setdefault(source, [])
        runs.append(firsts.sort("rid"))
        while (len(runs) > 1 and runs[-2].height <= 2 * runs[-1].height
               and runs[-2].height + runs[-1].height <= self.MAX_MERGED_RUN):
            newest, older = runs.pop(), runs.pop()
            runs.append(pl.concat([older, newest]).sort("rid"))

    def repeated(self, source: str, ids: pl.DataFrame, file_index: int = 0) -> pl.DataFrame:
        """The rows of ``ids`` (``__row``, ``rid``) whose id came before, in an earlier batch or
        earlier in this one, with ``first_row`` and ``first_file`` (``file_index`` for this one),
        in row order; remembers the ids seen for the first time."""
        earlier = self._lookup(source, ids)
        fresh = ids.filter(~pl.col(ROW).is_in(earlier[ROW].implode()))
        firsts = fresh.group_by("rid", maintain_order=True).agg(pl.col(ROW).min().alias("first_row")).with_columns(
            first_file=pl.lit(file_index, pl.Int32))
        within = fresh.join(firsts, on="rid").filter(pl.col(ROW) != pl.col("first_row"))
        self._remember(source, firsts)
        return pl.concat([within, earlier]).sort(ROW)
