"""Purpose limitation: what a run with a given purpose reads and keeps.

A run declares its purpose (:data:`RUN_PURPOSES`: its legal ground and the source purposes it
may use; art. 3:3 Awb keeps purposes apart). Two levels:

* **sources**: a source spec is read only when the run purpose permits the purpose its
  partner collected it for (:func:`permitted_specs`); the others are left out, with the reason;
* **attributes**: an attribute with a purpose of its own (``bibob_outcome`` needs ``bibob``)
  is not even read when the run purpose does not permit that purpose: the spec a run reads
  with no longer maps its column (:func:`restrict_spec`), so the value is absent from every
  table, page and picture, not only from the indicators.

Tables an earlier command wrote (``mhgraph resolve`` and ``mhgraph explain-match`` read a run
folder) are cut the same way by :func:`restrict_tables`.

>>> sorted(allowed_source_purposes("municipal_supervision"))
['administrative_supervision', 'bibob', 'company_register']
>>> from mhgraph.spec import SPEC_DIR, load_spec
>>> spec = load_spec(SPEC_DIR / "gemeente_arnhem_vergunningen.toml")
>>> "bibob_outcome" in restrict_spec(spec, "permit_supervision").entity("vergunning").fields
False
>>> restrict_spec(spec, "labour_market_supervision") is None
True
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from mhgraph.errors import MhgraphError
from mhgraph.spec import SourceSpec

__all__ = [
    "ATTRIBUTE_PURPOSES",
    "DEFAULT_RUN_PURPOSE",
    "RUN_PURPOSES",
    "allowed_source_purposes",
    "excluded_source",
    "permitted_specs",
    "restrict_spec",
    "restrict_tables",
    "withheld_attributes",
]

# Run purpose -> (legal ground, source purposes it may use).
RUN_PURPOSES: dict[str, tuple[str, frozenset[str]]] = {
    "riec_integral_assessment": (
        "RIEC covenant and Wet gegevensverwerking door samenwerkingsverbanden (WGS): integral "
        "assessment of signals of human trafficking by the partners together",
        frozenset({"fiscal_supervision", "company_register", "immigration_supervision",
                   "administrative_supervision", "bibob"}),
    ),
    "municipal_supervision": (
        "Municipal permit supervision (APV, Wet regulering sekswerk) and Bibob screening",
        frozenset({"company_register", "administrative_supervision", "bibob"}),
    ),
    "permit_supervision": (
        "Municipal permit supervision (APV, Wet regulering sekswerk) without Bibob screening: "
        "Bibob information serves only Bibob decisions (Wet Bibob art. 28)",
        frozenset({"company_register", "administrative_supervision"}),
    ),
    "labour_market_supervision": (
        "Labour inspection (Wet arbeid vreemdelingen, Wet minimumloon) with fiscal and immigration data",
        frozenset({"fiscal_supervision", "company_register", "immigration_supervision"}),
    ),
}
DEFAULT_RUN_PURPOSE = "riec_integral_assessment"

# Attributes whose use needs a purpose of their own besides their source's: a municipality
# records the outcome of a Bibob screening in its permit register, but that outcome may only be
# used where Bibob is a purpose of the run.
ATTRIBUTE_PURPOSES: dict[str, str] = {
    "bibob_outcome": "bibob",
}


def allowed_source_purposes(run_purpose: str) -> frozenset[str]:
    """The source purposes a run with ``run_purpose`` may use."""
    try:
        return RUN_PURPOSES[run_purpose][1]
    except KeyError:
        raise MhgraphError(
            f"unknown run purpose {run_purpose!r}; choose one of {', '.join(sorted(RUN_PURPOSES))}"
        ) from None


def withheld_attributes(run_purpose: str) -> list[dict]:
    """The attributes a run with ``run_purpose`` may not use, each with the reason."""
    allowed = allowed_source_purposes(run_purpose)
    return [
        {"attribute": attribute, "purpose": purpose,
         "why": f"run purpose {run_purpose!r} does not permit purpose {purpose!r}"}
        for attribute, purpose in sorted(ATTRIBUTE_PURPOSES.items()) if purpose not in allowed
    ]


def _withheld(run_purpose: str) -> set[str]:
    allowed = allowed_source_purposes(run_purpose)
    return {attribute for attribute, purpose in ATTRIBUTE_PURPOSES.items() if purpose not in allowed}


def restrict_spec(spec: SourceSpec, run_purpose: str) -> SourceSpec | None:
    """``spec`` as a run with ``run_purpose`` may read it: ``None`` when the run may not use the
    source at all, else without the attributes the run may not use (and without their columns,
    unless something else reads them)."""
    if spec.purpose not in allowed_source_purposes(run_purpose):
        return None
    withheld = _withheld(run_purpose)
    if not withheld:
        return spec
    entities = tuple(replace(block, fields={f: c for f, c in block.fields.items() if f not in withheld})
                     for block in spec.entities)
    relations = tuple(replace(rel, properties={p: c for p, c in rel.properties.items() if p not in withheld})
                      for rel in spec.relations)
    dropped = ({c for block in spec.entities for f, c in block.fields.items() if f in withheld}
               | {c for rel in spec.relations for p, c in rel.properties.items() if p in withheld})
    still_read = ({spec.record_id} | {c for block in entities for c in block.fields.values()}
                  | {c for rel in relations for c in (*rel.properties.values(), rel.valid_from, rel.valid_to)})
    columns = {name: column for name, column in spec.columns.items() if name not in dropped - still_read}
    return replace(spec, entities=entities, relations=relations, columns=columns)


def excluded_source(spec: SourceSpec, run_purpose: str) -> dict:
    """Why a run with ``run_purpose`` leaves ``spec``'s source out, as the manifest records it."""
    return {"source": spec.name, "partner": spec.partner, "purpose": spec.purpose,
            "why": f"run purpose {run_purpose!r} does not permit purpose {spec.purpose!r}"}


def permitted_specs(specs: list[SourceSpec], run_purpose: str) -> tuple[list[SourceSpec], list[dict]]:
    """``(specs the run reads, restricted by attribute; sources left out, each with why)``.

    >>> from mhgraph.spec import load_specs
    >>> kept, left_out = permitted_specs(load_specs(), "municipal_supervision")
    >>> sorted(entry["source"] for entry in left_out)
    ['belastingdienst_loonaangifte', 'ind_referenten', 'ind_verblijfsvergunningen']
    """
    restricted = [(spec, restrict_spec(spec, run_purpose)) for spec in specs]
    return ([kept for _, kept in restricted if kept is not None],
            [excluded_source(spec, run_purpose) for spec, kept in restricted if kept is None])


def restrict_tables(mentions: pl.DataFrame | pl.LazyFrame, relations: pl.DataFrame | None, run_purpose: str
                    ) -> tuple[pl.DataFrame | pl.LazyFrame, pl.DataFrame | None, dict[str, int]]:
    """Rows of an earlier run's ``mentions`` and ``relations`` a run with ``run_purpose`` may
    use, with the attributes it may not use emptied; plus the number of mentions left out per
    source. ``mentions`` may be a scan (``pl.scan_parquet``): it comes back as a scan with the
    restriction in its query, so that whoever reads it reads only the columns it needs.

    >>> mentions = pl.DataFrame({"mention_id": ["a", "b"], "source": ["loon", "vergunning"],
    ...     "purpose": ["fiscal_supervision", "administrative_supervision"], "bibob_outcome": [None, "ernstige mate"]})
    >>> kept, _, left_out = restrict_tables(mentions, None, "permit_supervision")
    >>> kept.rows(), left_out
    ([('b', 'vergunning', 'administrative_supervision', None)], {'loon': 1})
    """
    allowed = sorted(allowed_source_purposes(run_purpose))
    withheld = _withheld(run_purpose)

    def restrict(table):
        schema = table.collect_schema()
        empty = [pl.lit(None, schema[name]).alias(name) for name in sorted(withheld & set(schema.names()))]
        permitted = pl.col("purpose").is_in(allowed)
        # filtering a table copies it even when every row stays; a scan is filtered as it is read
        if isinstance(table, pl.LazyFrame) or not table.select(permitted.all()).item():
            table = table.filter(permitted)
        return table.with_columns(empty)

    left_out = dict(mentions.lazy().filter(~pl.col("purpose").is_in(allowed)).group_by("source").len()
                    .sort("source").collect().iter_rows())
    return restrict(mentions), None if relations is None else restrict(relations), left_out
