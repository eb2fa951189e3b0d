"""Identity: one identity number used by different people.

Entity resolution keeps mentions that share a pseudonymised BSN (or V-number) but disagree on
given name and date of birth apart, and lists every such pair in its ``identity_conflicts``
table (:mod:`mhgraph.resolve.conflicts`); this rule turns that table into hits.

>>> import polars as pl
>>> nodes = pl.DataFrame({"entity_id": ["P1", "P2"], "entity_type": ["person"] * 2})
>>> edges = pl.DataFrame({"relation_id": ["loon/1", "loon/2"], "type": ["EMPLOYED_BY"] * 2,
...     "from_entity": ["P1", "P2"], "to_entity": ["C1", "C1"], "from_mention": ["m1", "m2"],
...     "to_mention": ["c1", "c2"], "partner": ["belastingdienst"] * 2})
>>> conflicts = pl.DataFrame({"entity_type": ["person"], "key": ["bsn"], "key_value": ["h1"],
...     "entity_a": ["P1"], "entity_b": ["P2"], "mention_a": ["m1"], "mention_b": ["m2"],
...     "evidence": ["given_name_dice 0.20, birth_date_dice 0.40"]})
>>> hits = identity_conflict(nodes, edges, identity_conflicts=conflicts)
>>> hits.select("focus_entity", "evidence").rows()
[('P1', ['loon/1', 'loon/2']), ('P2', ['loon/1', 'loon/2'])]
>>> print(hits["reason"][0])
Its bsn (pseudonymised) is used by 2 persons whose given names and dates of birth differ (similarity from 0 to 1 of given names 0.20, dates of birth 0.40); the other: P2. Several people may work under one identity.
>>> print(hits["reason_nl"][0])
Het bsn (gepseudonimiseerd) wordt gebruikt door 2 personen van wie voornamen en geboortedata verschillen (gelijkenis van 0 tot 1 van voornamen 0,20, geboortedata 0,40); de ander: P2. Mogelijk werken meerdere mensen onder één identiteit.
"""

from __future__ import annotations

import polars as pl

from mhgraph.indicators.registry import rule

__all__ = ["identity_conflict"]

# The fields of the default comparisons as a reason names them (in Dutch by [reason_nl_words] of
# definitions.toml); a comparison of other settings keeps its own name.
_FIELDS = {"given_name": "given names", "family_name": "family names", "birth_date": "dates of birth",
           "birth_place": "places of birth", "residence": "places of residence", "postcode": "postcodes",
           "address": "addresses", "occupation": "occupations", "email": "e-mail addresses", "phone": "phone numbers",
           "document_number": "document numbers", "gender": "genders", "match_key_1": "match keys",
           "match_key_2": "second match keys"}

_EMPTY = {"focus_entity": pl.String(), "evidence": pl.List(pl.String()), "key": pl.String(), "persons": pl.UInt32(),
          "others": pl.List(pl.String()), "similarity": pl.String()}


def readable_similarity(evidence: str) -> str:
    """The compared fields of a conflict (``evidence`` of ``identity_conflicts``: comparison names
    and values) as a reason says them: the similarities of the fields, then which agree.

    >>> readable_similarity("given_name_dice 0.11, birth_date_dice 0.51, match_key_1_agree 0.0, own_check 0.3")
    'similarity from 0 to 1 of given names 0.11, dates of birth 0.51; match keys differ; own_check 0.3'
    """
    alike, agree, other = [], [], []
    for item in filter(None, evidence.split(", ")):
        name, _, value = item.rpartition(" ")
        if name.endswith("_dice") and name.removesuffix("_dice") in _FIELDS:
            alike.append(f"{_FIELDS[name.removesuffix('_dice')]} {value}")
        elif name.endswith("_agree") and name.removesuffix("_agree") in _FIELDS:
            agree.append(f"{_FIELDS[name.removesuffix('_agree')]} {'agree' if float(value) == 1.0 else 'differ'}")
        elif name == "given_name_initials":
            agree.append(f"initials of the given names {'agree' if float(value) == 1.0 else 'differ'}")
        else:
            other.append(item)
    return "; ".join(filter(None, [", ".join(alike) and "similarity from 0 to 1 of " + ", ".join(alike),
                                   *agree, *other]))


@rule("identity_conflict", whole_graph="persons who share an identifier need share no relation")
def identity_conflict(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_persons: int,
                      identity_conflicts: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every person of an identifier that at least ``min_persons`` persons use, by the pairs of
    ``identity_conflicts`` (the table of that name from entity resolution; a run passes it in).
    One hit per person and shared identifier. Evidence: the relations of every mention of the
    identifier's pairs, the same for each of its persons (one finding). Focus: each person.
    """
    if identity_conflicts is None or identity_conflicts.is_empty():
        return pl.DataFrame(schema=_EMPTY)
    pairs = identity_conflicts.filter(pl.col("entity_type") == "person")
    sides = pl.concat([
        pairs.select("key", "key_value", "evidence", entity="entity_a", mention="mention_a", other="entity_b",
                     other_mention="mention_b"),
        pairs.select("key", "key_value", "evidence", entity="entity_b", mention="mention_b", other="entity_a",
                     other_mention="mention_a"),
    ])
    persons = (sides.group_by("key", "key_value").agg(pl.col("entity").n_unique().alias("persons"))
               .filter(pl.col("persons") >= min_persons))
    touching = pl.concat([edges.select("relation_id", mention="from_mention"),
                          edges.select("relation_id", mention="to_mention")])
    # one finding per shared identifier: every person of it gets a hit with the same records, so
    # ranking counts it once, and a person with two shared identifiers has two findings
    involved = pl.concat([sides.select("key", "key_value", "mention"),
                          sides.select("key", "key_value", mention="other_mention")])
    evidence = (involved.join(touching, on="mention").group_by("key", "key_value")
                .agg(pl.col("relation_id").unique().sort().alias("evidence")))
    return (
        sides.join(persons, on=["key", "key_value"])
        .group_by("entity", "key", "key_value").agg(pl.col("persons").max(),
                                pl.col("other").unique().sort().alias("others"),
                                pl.col("evidence").first().map_elements(readable_similarity, return_dtype=pl.String)
                                .alias("similarity"))
        .join(evidence, on=["key", "key_value"], how="left")
        .select(focus_entity="entity", evidence=pl.col("evidence").fill_null(pl.lit([], dtype=pl.List(pl.String()))),
                key="key", persons="persons", others="others", similarity="similarity")
        .sort("focus_entity", "key", pl.col("evidence").list.first())
    )
