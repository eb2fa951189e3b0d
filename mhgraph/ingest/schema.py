"""Column order and types of the three tables ingest produces (see ``docs/tables.md``).

Every table is built through :func:`conform`, so that tables from several sources and
several batches concatenate, and an empty table still has every column.

>>> conform(pl.DataFrame({"reason": ["bad_date"]}), QUARANTINE_SCHEMA).columns[:3]
['file', 'source', 'row_number']
"""

from __future__ import annotations

import polars as pl

from mhgraph.spec import PERSON_ATTRIBUTES

__all__ = ["MENTION_SCHEMA", "QUARANTINE_SCHEMA", "RELATION_SCHEMA", "conform", "empty"]

_S, _D, _F, _I = pl.String, pl.Date, pl.Float64, pl.Int64

MENTION_SCHEMA: dict[str, pl.DataType] = {
    "mention_id": _S,
    "entity_type": _S,
    "source": _S,
    "partner": _S,
    "purpose": _S,
    "record_id": _S,
    "row_number": _I,
    "role": _S,
    "bsn": _S,
    "v_number": _S,
    "kvk_number": _S,
    "wage_tax_number": _S,
    "given_name_bf": _S,
    "family_name_bf": _S,
    "names_bf": _S,
    "birth_date_bf": _S,
    "name_bf": _S,
    "match_key_1": _S,
    "match_key_2": _S,
    **{field: _S for field in PERSON_ATTRIBUTES.values()},
    "address_key": _S,
    "building_key": _S,
    "municipality": _S,
    "legal_form": _S,
    "sbi_code": _S,
    "registered_on": _D,
    "dissolved_on": _D,
    "sponsor_status": _S,
    "sponsor_status_on": _D,
    "permit_number": _S,
    "permit_type": _S,
    "permit_status": _S,
    "bibob_outcome": _S,
    "decided_on": _D,
}

RELATION_SCHEMA: dict[str, pl.DataType] = {
    "relation_id": _S,
    "type": _S,
    "from_mention": _S,
    "to_mention": _S,
    "valid_from": _D,
    "valid_to": _D,
    "source": _S,
    "partner": _S,
    "purpose": _S,
    "record_id": _S,
    "wage": _F,
    "hours": _F,
    "contract_type": _S,
    "role": _S,
    "permit_purpose": _S,
    "age_band": _S,
}

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "file": _S,
    "source": _S,
    "row_number": _I,
    "record_id": _S,
    "column": _S,
    "value": _S,
    "reason": _S,
    "message": _S,
}


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` with exactly the columns of ``schema``, in its order and types (nulls where absent)."""
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    )


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A table with no rows and every column of ``schema``."""
    return pl.DataFrame(schema=schema)
