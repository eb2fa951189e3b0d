"""From accepted rows to mentions and relations, as the spec's entity blocks and relations say.

Each entity block of a row gives one mention, unless every identifying field of the block
(``IDENTIFYING_FIELDS`` in :mod:`mhgraph.spec`) is empty. Each relation of a row needs a
mention at both ends. Ids follow ``docs/tables.md``:
``mention_id = "{source}/{record_id}/{role}"`` and
``relation_id = "{source}/{record_id}/{type}/{from_role}/{to_role}"``.

>>> from mhgraph.spec import load_spec, SPEC_DIR
>>> spec = load_spec(SPEC_DIR / "kvk_functionarissen.toml")
>>> rows = pl.DataFrame({"__row": [1], "functie_id": ["F1"], "functionaris_bsn": ["a" * 32],
...     "bedrijf_kvk_nummer": ["b" * 32], "functie": ["bestuurder"]})
>>> mentions, relations = build_mentions(rows, spec), build_relations(rows, spec)
>>> mentions["mention_id"].to_list()
['kvk_functionarissen/F1/functionaris', 'kvk_functionarissen/F1/bedrijf']
>>> relations.select("relation_id", "role").row(0)
('kvk_functionarissen/F1/OFFICER_OF/functionaris/bedrijf', 'bestuurder')
"""

from __future__ import annotations

import polars as pl

from mhgraph.ingest.readers import ROW
from mhgraph.ingest.schema import MENTION_SCHEMA, RELATION_SCHEMA, conform, empty
from mhgraph.spec import IDENTIFYING_FIELDS, EntityBlock, SourceSpec

__all__ = ["build_mentions", "build_relations"]


def _column(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A column of ``frame``, or null where the batch lacks it."""
    return pl.col(name) if name in frame.columns else pl.lit(None)


def _present(frame: pl.DataFrame, block: EntityBlock) -> pl.Expr:
    """True where the block gives a mention: at least one identifying field has a value."""
    identifying = [block.fields[f] for f in IDENTIFYING_FIELDS[block.type] if f in block.fields]
    if not identifying:
        return pl.lit(False)
    return pl.any_horizontal(_column(frame, c).is_not_null() for c in identifying)


def _mention_id(spec: SourceSpec, role: str) -> pl.Expr:
    return pl.concat_str(pl.lit(f"{spec.name}/"), pl.col(spec.record_id), pl.lit(f"/{role}"))


def _provenance(spec: SourceSpec) -> list[pl.Expr]:
    return [
        pl.lit(spec.name).alias("source"),
        pl.lit(spec.partner).alias("partner"),
        pl.lit(spec.purpose).alias("purpose"),
        pl.col(spec.record_id).alias("record_id"),
    ]


def build_mentions(rows: pl.DataFrame, spec: SourceSpec) -> pl.DataFrame:
    """Mentions of the accepted, normalised ``rows`` (``__row`` plus the spec's columns)."""
    parts = [
        conform(
            rows.filter(_present(rows, block)).select(
                _mention_id(spec, block.role).alias("mention_id"),
                pl.lit(block.type).alias("entity_type"),
                *_provenance(spec),
                pl.col(ROW).alias("row_number"),
                pl.lit(block.role).alias("role"),
                *(_column(rows, column).alias(canonical) for canonical, column in block.fields.items()),
            ),
            MENTION_SCHEMA,
        )
        for block in spec.entities
    ]
    # Blocks in spec order within each row, rows in file order.
    return pl.concat(parts).sort("row_number", maintain_order=True) if parts else empty(MENTION_SCHEMA)


def build_relations(rows: pl.DataFrame, spec: SourceSpec) -> pl.DataFrame:
    """Relations the accepted ``rows`` state; each needs a mention at both ends."""
    parts = []
    for relation in spec.relations:
        both_ends = _present(rows, spec.entity(relation.from_role)) & _present(rows, spec.entity(relation.to_role))
        parts.append(conform(
            rows.filter(both_ends).select(
                pl.concat_str(pl.lit(f"{spec.name}/"), pl.col(spec.record_id),
                              pl.lit(f"/{relation.type}/{relation.from_role}/{relation.to_role}")).alias("relation_id"),
                pl.lit(relation.type).alias("type"),
                _mention_id(spec, relation.from_role).alias("from_mention"),
                _mention_id(spec, relation.to_role).alias("to_mention"),
                (_column(rows, relation.valid_from) if relation.valid_from else pl.lit(None)).alias("valid_from"),
                (_column(rows, relation.valid_to) if relation.valid_to else pl.lit(None)).alias("valid_to"),
                *_provenance(spec),
                *(_column(rows, column).alias(prop) for prop, column in relation.properties.items()),
                pl.col(ROW).alias("__row"),
            ),
            {**RELATION_SCHEMA, ROW: pl.Int64},
        ))
    if not parts:
        return empty(RELATION_SCHEMA)
    return pl.concat(parts).sort(ROW, maintain_order=True).drop(ROW)
