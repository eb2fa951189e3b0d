"""``partners/<partner>.csv``: per partner, only its own records in the top clusters.

Re-identification happens only at the partner that owns a record: each file lists that
partner's own (source, record id, role) with the cluster and entity they resolved into, and
nothing of any other partner.

>>> import polars as pl
>>> mentions = pl.DataFrame({"mention_id": ["kvk/1/bedrijf", "ind/9/vreemdeling"],
...     "partner": ["kvk", "ind"], "source": ["kvk_inschrijvingen", "ind_verblijfsvergunningen"],
...     "record_id": ["1", "9"], "role": ["bedrijf", "vreemdeling"]})
>>> resolution = pl.DataFrame({"mention_id": ["kvk/1/bedrijf", "ind/9/vreemdeling"], "entity_id": ["C-1", "P-2"]})
>>> communities = pl.DataFrame({"entity_id": ["C-1", "P-2"], "cluster_id": ["C0001", "C0001"]})
>>> partner_record_lists(mentions, resolution, communities, ["C0001"])["kvk"].rows()
[('kvk_inschrijvingen', '1', 'bedrijf', 'C0001', 'C-1')]
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from mhgraph.export.dossier import safe_name
from mhgraph.safe_output import write_csv_safe

__all__ = ["PARTNER_LIST_COLUMNS", "partner_record_lists", "write_partner_lists"]

log = logging.getLogger("mhgraph.export")

PARTNER_LIST_COLUMNS = ("source", "record_id", "role", "cluster_id", "entity_id")


def partner_record_lists(mentions: pl.DataFrame, resolution: pl.DataFrame, communities: pl.DataFrame,
                         cluster_ids: list[str]) -> dict[str, pl.DataFrame]:
    """partner -> its own records in ``cluster_ids``; every partner in ``mentions`` gets a
    (possibly empty) list, so that "nothing for you" is said, not left to be guessed."""
    partners = mentions.with_row_index("_row", offset=1).group_by("partner").agg(pl.col("_row").min()).sort("partner")
    for partner, row in partners.iter_rows():
        safe_name(partner, "mentions", "partner", row)
    wanted = pl.Series(cluster_ids, dtype=pl.String).implode()
    in_clusters = (
        mentions.join(resolution.select("mention_id", "entity_id"), on="mention_id", how="inner")
        .join(communities.select("entity_id", "cluster_id").filter(pl.col("cluster_id").is_in(wanted)), on="entity_id",
              how="inner")
        .select("partner", *PARTNER_LIST_COLUMNS)
        .unique()
        .sort("cluster_id", "source", "record_id", "role", "entity_id")
    )
    return {
        partner: in_clusters.filter(pl.col("partner") == partner).drop("partner")
        for partner in partners["partner"].to_list()
    }


def write_partner_lists(out_dir: Path, lists: dict[str, pl.DataFrame]) -> dict[str, Path]:
    """Write each list of :func:`partner_record_lists` to ``partners/<partner>.csv``."""
    folder = Path(out_dir) / "partners"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for partner, records in lists.items():
        written[f"partner:{partner}"] = write_csv_safe(records, folder / f"{partner}.csv")
        log.info("partner list %s: %d records", partner, records.height)
    return written
