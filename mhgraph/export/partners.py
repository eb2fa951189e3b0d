"""``partners/<partner>.csv``: per partner, only its own records in the top clusters.

Re-identification happens only at the partner that owns a record: each file lists that
partner's own (source, record id, role) with the cluster, the entity and its case alias, and
nothing of any other partner. By default a list holds only the records that are evidence of an
indicator (data minimisation: what the case meeting needs); ``scope="all"`` lists every record
of the partner in the clusters shown.

>>> import polars as pl
>>> from mhgraph.export.dossier import build_dossiers
>>> mentions = pl.DataFrame({"mention_id": ["kvk/1/bedrijf", "ind/9/vreemdeling"], "entity_type": ["company", "person"],
...     "partner": ["kvk", "ind"], "source": ["kvk_inschrijvingen", "ind_verblijfsvergunningen"],
...     "purpose": ["company_register", "immigration_supervision"], "record_id": ["1", "9"],
...     "role": ["bedrijf", "vreemdeling"]})
>>> resolution = pl.DataFrame({"mention_id": ["kvk/1/bedrijf", "ind/9/vreemdeling"], "entity_id": ["C-1", "P-2"]})
>>> communities = pl.DataFrame({"entity_id": ["C-1", "P-2"], "cluster_id": ["C0001", "C0001"]})
>>> nodes = pl.DataFrame({"entity_id": ["C-1", "P-2"], "entity_type": ["company", "person"],
...     "partners": [["kvk"], ["ind"]], "sources": [["kvk_inschrijvingen"], ["ind_verblijfsvergunningen"]],
...     "purposes": [["company_register"], ["immigration_supervision"]]})
>>> edges = pl.DataFrame({"relation_id": ["ind/9/SPONSORED_BY"], "type": ["SPONSORED_BY"], "from_entity": ["P-2"],
...     "to_entity": ["C-1"], "source": ["ind_verblijfsvergunningen"], "partner": ["ind"],
...     "purpose": ["immigration_supervision"], "record_id": ["9"]})
>>> hits = pl.DataFrame({"indicator": ["sponsor_of_many_migrants"], "version": ["1"], "focus_entity": ["C-1"],
...     "cluster_id": ["C0001"], "reason": ["1 migrant"], "evidence": [["ind/9/SPONSORED_BY"]],
...     "partners": [["ind"]], "weight": [1.0]})
>>> clusters = pl.DataFrame({"cluster_id": ["C0001"], "rank": [1], "score": [1.5], "flagged": [True], "size": [2], "persons": [1],
...     "companies": [1], "addresses": [0], "permits": [0], "partners": [["ind"]], "puzzle_count": [1],
...     "indicators": [["sponsor_of_many_migrants"]], "reasons": [""]})
>>> dossiers = build_dossiers(clusters, communities, nodes, edges, hits, mentions, resolution, lang="en")
>>> lists = partner_record_lists(dossiers, ["ind", "kvk"])
>>> lists["ind"].rows(), lists["kvk"].height
([('ind_verblijfsvergunningen', '9', 'vreemdeling', 'C0001', 'P-2', 'Labour migrant 1')], 0)
>>> partner_record_lists(dossiers, ["ind", "kvk"], scope="all")["kvk"].rows()
[('kvk_inschrijvingen', '1', 'bedrijf', 'C0001', 'C-1', 'Sponsor A')]
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from mhgraph.export.dossier import ClusterDossier, safe_name
from mhgraph.safe_output import write_csv_safe

__all__ = ["PARTNER_LIST_COLUMNS", "PARTNER_LIST_SCOPES", "partner_record_lists", "partners_in", "write_partner_lists"]

log = logging.getLogger("mhgraph.export")

PARTNER_LIST_COLUMNS = ("source", "record_id", "role", "cluster_id", "entity_id", "alias")
PARTNER_LIST_SCOPES = ("evidence", "all")


def partner_record_lists(dossiers: list[ClusterDossier], partners: list[str],
                         scope: str = "evidence") -> dict[str, pl.DataFrame]:
    """partner -> its own records in the clusters of ``dossiers``; every partner in ``partners``
    gets a (possibly empty) list, so that "nothing for you" is said, not left to be guessed."""
    if scope not in PARTNER_LIST_SCOPES:
        raise ValueError(f"partner list scope must be one of {', '.join(PARTNER_LIST_SCOPES)}, not {scope!r}")
    frames = []
    for d in dossiers:
        records = d.mentions
        if scope == "evidence":
            keys = {(r.source, r.record_id) for f in d.findings for r in f.records if r.found}
            records = records.filter(pl.struct("source", "record_id").is_in(
                pl.Series([{"source": s, "record_id": r} for s, r in sorted(keys)],
                          dtype=pl.Struct({"source": pl.String, "record_id": pl.String})).implode()))
        frames.append(records.select("partner", "source", "record_id", "role", "cluster_id", "entity_id")
                      # an entity the picture does not show has no alias (its pseudonym is in entity_id)
                      .with_columns(alias=pl.col("entity_id").replace_strict(
                          {k: v.label for k, v in d.aliases.items()}, default=None, return_dtype=pl.String)))
    schema = {"partner": pl.String, **{c: pl.String for c in PARTNER_LIST_COLUMNS}}
    listed = (pl.concat(frames) if frames else pl.DataFrame(schema=schema)).unique().sort(
        "cluster_id", "source", "record_id", "role", "entity_id")
    return {partner: listed.filter(pl.col("partner") == partner).drop("partner") for partner in sorted(partners)}


def partners_in(mentions: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """The partners of ``mentions`` (or of the scan of it), each checked to be usable as a file name."""
    first_rows = (mentions.lazy().select("partner").with_row_index("_row", offset=1).group_by("partner")
                  .agg(pl.col("_row").min()).sort("partner").collect())
    for partner, row in first_rows.iter_rows():
        safe_name(partner, "mentions", "partner", row)
    return first_rows["partner"].to_list()


def write_partner_lists(out_dir: Path, lists: dict[str, pl.DataFrame]) -> dict[str, Path]:
    """Write each list of :func:`partner_record_lists` to ``partners/<partner>.csv``."""
    folder = Path(out_dir) / "partners"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for partner, records in lists.items():
        written[f"partner:{partner}"] = write_csv_safe(records, folder / f"{partner}.csv")
        log.info("partner list %s: %d records", partner, records.height)
    return written
