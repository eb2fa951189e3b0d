"""Comparison: one row of features per candidate pair.

For every pair the table holds the agreement of each identifier key (``bsn_agree``,
``kvk_number_agree``, ...) and one column per configured comparison: Dice similarity of
Bloom filters, exact agreement of keyed values, and relational evidence (both mentions tied
to the same resolved address, employer, ...; between two identity groups, tied through any
of their mentions). Values are floats; NaN when a side lacks the field, so that missing data
is never read as disagreement; a comparison whose columns hold no value at all is left out.

>>> import polars as pl
>>> from mhgraph.crypto import Key, bloom_encode
>>> from mhgraph.resolve.settings import default_settings
>>> key = Key(b"example key of at least sixteen bytes")
>>> mentions = pl.DataFrame({"mention_id": ["a/1/p", "b/1/p"], "entity_type": ["person"] * 2,
...     "family_name_bf": [bloom_encode(key, "family_name", n) for n in ("jansen", "janssen")],
...     "bsn": ["h1", None]})
>>> pairs = pl.DataFrame({"mention_a": ["a/1/p"], "mention_b": ["b/1/p"],
...     "entity_type": ["person"], "blocked_by": ["test"]})
>>> row = compare(pairs, mentions, None, default_settings()).row(0, named=True)
>>> round(row["family_name_dice"], 2), row["bsn_agree"], "given_name_dice" in row  # no given names at all
(0.96, nan, False)
"""

from __future__ import annotations

import logging

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mhgraph.crypto import BLIP_FLIP
from mhgraph.resolve.bits import INITIAL_MAX_BITS, bits_set, dice_pairs, initials_pairs
from mhgraph.resolve.block import decoded_column, identity_groups, key_codes, pairs_from_blocks, row_numbers
from mhgraph.resolve.settings import Comparison, EntitySettings, ResolveSettings, identifier_feature

__all__ = ["agreements", "as_written", "commonness", "compare", "compare_type", "identifier_feature", "neighbour_table", "value_frequencies"]

log = logging.getLogger("mhgraph.resolve.compare")

RELATION_SCHEMA = {"from_mention": pl.String, "to_mention": pl.String, "type": pl.String}
RELATION_SLICE = 2_000_000  # pairs whose shared neighbours are looked up at once
# keys of one value compared for commonness, a cost limit: beyond, a few spellings change little
MOST_KEYS_COMPARED = 50


def identifier_keys(entity: EntitySettings) -> list[str]:
    return list(dict.fromkeys([*entity.identity_keys, *entity.conflict_keys, *entity.label_keys]))


def _agree(codes: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a, b = codes[left], codes[right]
    return np.where((a < 0) | (b < 0), np.nan, (a == b).astype(float))


def neighbour_table(relations: pl.DataFrame | None, entities: pl.DataFrame, relation_types,
                    neighbour_type: str) -> pl.DataFrame:
    """``(mention_id, neighbour)``: the resolved ``neighbour_type`` entities each mention is
    related to by one of ``relation_types``, in either direction."""
    if relations is None or relations.height == 0:
        return pl.DataFrame(schema={"mention_id": pl.String, "neighbour": pl.String})
    typed = relations.filter(pl.col("type").is_in(list(relation_types)))
    both_ways = pl.concat([
        typed.select(pl.col("from_mention").alias("mention_id"), pl.col("to_mention").alias("other")),
        typed.select(pl.col("to_mention").alias("mention_id"), pl.col("from_mention").alias("other")),
    ])
    targets = entities.filter(pl.col("entity_type") == neighbour_type).select(
        pl.col("mention_id").alias("other"), pl.col("entity_id").alias("neighbour"))
    return both_ways.join(targets, on="other").select("mention_id", "neighbour").unique().sort("mention_id", "neighbour")


def _relation_feature(left: np.ndarray, right: np.ndarray, owner: np.ndarray, neighbours: pl.DataFrame) -> np.ndarray:
    """1.0 where the owners of the two sides (``owner[row]``: the row itself, or its identity
    group) share a neighbour, 0.0 where both have neighbours but share none, else NaN.
    ``neighbours``: ``(row, neighbour)``."""
    owned = neighbours.select(pl.Series("owner", owner[neighbours["row"].to_numpy()]),
                              pl.col("neighbour").rank("dense").cast(pl.Int64).alias("neighbour")).unique()
    owners, held = owned["owner"].to_numpy(), owned["neighbour"].to_numpy()
    degree = np.bincount(owners, minlength=len(owner))
    owner_a, owner_b = owner[left], owner[right]
    both = (degree[owner_a] > 0) & (degree[owner_b] > 0)
    n = np.int64(len(owner))
    # Two ways to the same answer; take the one with fewer intermediate rows. An employer
    # group has thousands of employees (look them up pair by pair: too many rows), but each
    # employee has few employers (list the owners that share one: few rows) — and the other
    # way round for persons, whose employer is shared by thousands of mentions.
    by_pair = np.minimum(degree[owner_a], degree[owner_b])[both].sum()
    by_neighbour = (np.bincount(held).astype(np.int64) ** 2).sum()
    if by_neighbour < by_pair:
        sharing = (owned.join(owned, on="neighbour", suffix="_other").filter(pl.col("owner") <= pl.col("owner_other"))
                   .select(pl.col("owner") * n + pl.col("owner_other"))).to_series().unique().to_numpy()
        shared = np.flatnonzero(both & np.isin(np.minimum(owner_a, owner_b) * n + np.maximum(owner_a, owner_b), sharing))
    else:
        swap = degree[owner_a] > degree[owner_b]
        fewer, more = np.where(swap, owner_b, owner_a), np.where(swap, owner_a, owner_b)
        asked = np.flatnonzero(both)
        # a slice of pairs at a time: each pair's neighbours side by side are a few rows per pair
        shared = np.concatenate([np.zeros(0, dtype=np.int64), *(
            pl.DataFrame({"pair": part, "fewer": fewer[part], "more": more[part]})
            .join(owned, left_on="fewer", right_on="owner")
            .join(owned, left_on=["more", "neighbour"], right_on=["owner", "neighbour"])["pair"].unique().to_numpy()
            for part in (asked[start : start + RELATION_SLICE] for start in range(0, len(asked), RELATION_SLICE)))])
    out = np.where(both, 0.0, np.nan)
    out[shared] = 1.0
    return out


def _neighbour_rows(frame: pl.DataFrame, relations: pl.DataFrame | None, entities: pl.DataFrame,
                    comparison: Comparison, cache: dict) -> pl.DataFrame:
    """``(row, neighbour)``: the rows in ``frame`` of the mentions with a neighbour of
    ``comparison`` and a number per neighbour entity, kept in ``cache``: the type's comparisons,
    completions and conflict checks all read them, and the relations are large to join again."""
    if ("neighbours", comparison.name) not in cache:
        neighbours = neighbour_table(relations, entities, comparison.relation_types, comparison.neighbour_type)
        cache[("neighbours", comparison.name)] = neighbours.join(
            frame.select("mention_id").with_row_index("row"), on="mention_id").select(
            pl.col("row").cast(pl.Int64), pl.col("neighbour").rank("dense").cast(pl.Int64))
    return cache[("neighbours", comparison.name)]


def _relation_between_groups(left: np.ndarray, right: np.ndarray, groups: np.ndarray, rows: pl.DataFrame
                             ) -> np.ndarray:
    """Relational evidence of a pair: between two identity groups, over the neighbours of the
    whole groups; inside one group, over the two mentions' own neighbours.

    Blocking pairs one representative per identity group, and a company's address or a
    person's employer often sits on another mention of its group than the representative
    (the KvK row, not the payroll row): the group is one entity for certain, so its
    neighbours are the entity's. Pairs inside a group (the identity links, which train the
    logistic model) keep the mention's own evidence, as they would be without grouping.
    ``rows``: :func:`_neighbour_rows`.
    """
    if rows.height == 0:  # no mention has such a neighbour
        return np.full(len(left), np.nan)
    between = groups[left] != groups[right]
    out = np.empty(len(left))
    if not between.all():
        out[~between] = _relation_feature(left[~between], right[~between], np.arange(len(groups)), rows)
    if between.any():
        out[between] = _relation_feature(left[between], right[between], groups, rows)
    return out


def value_frequencies(frame: pl.DataFrame, column: str, record_columns) -> np.ndarray:
    """For each mention, the share of distinct records holding its value of ``column`` (NaN
    where it has none). A record is a distinct combination of ``record_columns``, so that a
    person delivered ten times over does not make his name look common.

    >>> frame = pl.DataFrame({"name": ["a", "a", "a", "b", None], "born": ["1", "1", "2", "3", "4"]})
    >>> value_frequencies(frame, "name", ["name", "born"]).tolist()
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 0.3333333333333333, nan]
    """
    columns = list(dict.fromkeys([column, *(c for c in record_columns if c in frame.columns)]))
    # distinct records by a hash of the whole row: one integer per mention, not a row of strings
    records = pl.DataFrame({"value": key_codes(frame, column), "record": frame.select(columns).hash_rows(seed=0)})
    held = records.filter(pl.col("value") >= 0).unique().group_by("value").len()
    total = held["len"].sum()
    joined = records.join(held, on="value", how="left", maintain_order="left")["len"]
    return (joined.cast(pl.Float64) / max(total, 1)).fill_null(np.nan).to_numpy()


def commonness(frame: pl.DataFrame, column: str, over, alike=None) -> np.ndarray:
    """For each mention, how many times more people hold its value of ``column`` than hold the
    value of a typical mention (the sum over values of the count squared over the sum of the
    counts: the count two mentions drawn at random that agree share); NaN where it has none,
    or where no mention holding it has a value of every column of ``over``.

    A person is a distinct value of ``over`` (a match key), and the keys of one value whose
    mentions are ``alike`` (functions of two arrays of rows, all true where they look like one
    person) count as one: a typo in the first letter of a name gives one person a second key.
    A person delivered ten times over shares his value and his key in every record: he counts
    once, and his date of birth stays as rare as it is. A date of birth that stands for "only
    the year is known" (1 January) is held by many people, each with a key of his own.
    Mentions without a key tell nobody apart: they count nothing, and a value held only by
    them is neutral (NaN).

    >>> frame = pl.DataFrame({"born": ["0101", "0101", "0101", "0101", "0203", "0203", "0203", "0405", None],
    ...                       "key": ["a", "b", "c", "d", "e", "e", None, None, "g"]})
    >>> commonness(frame, "born", ["key"]).round(2).tolist()  # typical: (4·4 + 1) / 5 = 3.4
    [1.18, 1.18, 1.18, 1.18, 0.29, 0.29, 0.29, nan, nan]
    >>> commonness(frame, "born", ["key"], alike=[lambda a, b: (a < 2) & (b < 2)]).round(2).tolist()  # a, b: one
    [1.2, 1.2, 1.2, 1.2, 0.4, 0.4, 0.4, nan, nan]
    """
    over = [c for c in over if c in frame.columns and c != column]
    if not over:
        return np.full(frame.height, np.nan)
    key = pl.when(pl.all_horizontal(pl.col(c).is_not_null() for c in over)).then(pl.struct(over).hash(seed=0))
    records = frame.select(pl.Series("value", key_codes(frame, column)), key.alias("key"))
    spellings = (records.with_row_index("row").filter((pl.col("value") >= 0) & pl.col("key").is_not_null())
                 .group_by("value", "key").agg(pl.col("row").min()).sort("row").with_row_index("node"))
    if spellings.height == 0:
        return np.full(frame.height, np.nan)
    person = spellings["node"].to_numpy()
    if alike is not None:
        person = _one_person_per_alike_keys(spellings, alike)
    held = (spellings.with_columns(pl.Series("person", person)).group_by("value")
            .agg(pl.col("person").n_unique().alias("n")))
    typical = float((held["n"] ** 2).sum() / held["n"].sum())
    joined = records.join(held, on="value", how="left", maintain_order="left")["n"]
    return (joined.cast(pl.Float64) / typical).fill_null(np.nan).to_numpy()


def _one_person_per_alike_keys(spellings: pl.DataFrame, alike) -> np.ndarray:
    """Per row of ``spellings`` (``node``, ``value``, ``row``: one mention of each key of a value),
    a person number: the connected components of the keys of one value whose mentions are
    ``alike`` (a list of functions of two arrays of rows, each true where they look like one
    person; each asked only about the pairs all before it found alike). Values held by more
    than ``MOST_KEYS_COMPARED`` keys are common whatever a few spellings add: their keys are
    not compared (a cost limit: the comparisons grow as the square of the keys)."""
    compared = spellings.filter(pl.len().over("value").is_between(2, MOST_KEYS_COMPARED))
    # every pair of keys of one value once: no block is larger than the window
    first, second, _ = pairs_from_blocks(compared["value"].to_numpy(), np.arange(compared.height),
                                         MOST_KEYS_COMPARED, MOST_KEYS_COMPARED)
    rows = compared["row"].to_numpy().astype(np.int64)
    for condition in alike:
        same = np.asarray(condition(rows[first], rows[second]))
        first, second = first[same], second[same]
    nodes = compared["node"].to_numpy()
    n = spellings.height
    graph = coo_matrix((np.ones(len(first)), (nodes[first], nodes[second])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _agreed_commonness(comparison: Comparison, entity: EntitySettings, frame: pl.DataFrame, left, right,
                       cache: dict) -> np.ndarray:
    """:func:`commonness` of the agreed value where a pair agrees exactly on ``comparison``, else NaN;
    two keys count as one person where their mentions reach each value of ``common_values_alike``."""
    column = comparison.columns[0]
    codes = key_codes(frame, column, cache)
    # a comparison these settings lack (a narrowed copy) or the mentions cannot give is left out
    compared = {c.name: c for c in entity.comparisons}
    alike_on = tuple((compared[name], value) for name, value in comparison.common_values_alike.items()
                     if name in compared and all(c in frame.columns for c in compared[name].columns))
    # keyed on the comparisons themselves: a narrowed copy or another column counts apart
    counted = ("commonness", repr(comparison), repr(alike_on))  # (settings hold dicts: not hashable)
    if counted not in cache:
        def condition(other, value):
            return lambda a, b: _comparison(other, frame, np.arange(frame.height), a, b, None, cache) >= value
        alike = [condition(other, value) for other, value in alike_on]
        cache[counted] = commonness(frame, column, comparison.common_values_over, alike or None)
    same = (codes[left] >= 0) & (codes[left] == codes[right])
    return np.where(same, cache[counted][left], np.nan)


def _agreed_frequency(comparison: Comparison, frame: pl.DataFrame, record_columns, left, right,
                      cache: dict) -> np.ndarray:
    """The frequency of the agreed value where a pair agrees exactly on ``comparison``, else NaN."""
    column = comparison.columns[0]
    if column not in frame.columns:
        return np.full(len(left), np.nan)
    codes = key_codes(frame, column, cache)
    counted = ("frequency", column, *record_columns)  # over the records of these columns
    if counted not in cache:
        cache[counted] = value_frequencies(frame, column, record_columns)
    frequency = cache[counted]
    same = (codes[left] >= 0) & (codes[left] == codes[right])
    return np.where(same, frequency[left], np.nan)


def _flips(comparison: Comparison, frame: pl.DataFrame, cache: dict | None = None) -> np.ndarray | None:
    """Per mention, the probability with which the hardening flipped each bit of its filter:
    ``BLIP_FLIP / 2`` where the mention carries ``comparison.hardened_where``, else 0. A partner
    two of whose marked mentions share a filter delivered without randomised bits (they make
    every record's filter its own: ``--name-hardening none``), so its mentions get 0; decided per
    partner, so that one such delivery leaves the correction of the others in place. ``cache``
    (one per ``frame``) keeps which mentions were hardened (a byte each): the conflict checks,
    the commonness, the comparison and the completion of a type all ask, and each answer counts
    the filters of every mention."""
    if not comparison.hardened_where or comparison.hardened_where not in frame.columns:
        return None
    cache = {} if cache is None else cache
    hardened = ("hardened", comparison.columns[0], comparison.hardened_where)
    if hardened not in cache:
        marked = frame[comparison.hardened_where].is_not_null()
        partner = frame["partner"] if "partner" in frame.columns else pl.repeat("", frame.height, eager=True)
        delivered = pl.DataFrame({"partner": partner, "filter": frame[comparison.columns[0]]})
        unhardened = (delivered.filter(marked & pl.col("filter").is_not_null()).group_by("partner")
                      .agg(repeats=pl.col("filter").n_unique() < pl.len()).filter("repeats")["partner"])
        cache[hardened] = (marked & ~partner.is_in(unhardened.implode())).to_numpy()
    return np.where(cache[hardened], BLIP_FLIP / 2, 0.0)


def _comparison(comparison: Comparison, frame: pl.DataFrame, groups: np.ndarray, left, right,
                neighbours: pl.DataFrame | None, cache: dict) -> np.ndarray:
    def bloom(column):
        return decoded_column(frame, column, cache)

    if comparison.kind == "exact":
        return _agree(key_codes(frame, comparison.columns[0], cache), left, right)
    if comparison.kind == "relation":
        if neighbours is None:
            return np.full(len(left), np.nan)
        return _relation_between_groups(left, right, groups, neighbours)
    first = bloom(comparison.columns[0])
    if first is None:
        return np.full(len(left), np.nan)
    if comparison.kind == "dice":
        return dice_pairs(first[0], first[1], left, right, flip=_flips(comparison, frame, cache))
    if comparison.kind == "initials":
        return initials_pairs(first[0], first[1], left, right)
    second = bloom(comparison.columns[1])
    if second is None:
        return np.full(len(left), np.nan)
    crossed = np.stack([dice_pairs(first[0], first[1], left, right, second[0], second[1]),
                        dice_pairs(second[0], second[1], left, right, first[0], first[1])])
    return crossed.mean(axis=0)


def _where_below(comparison: Comparison, entity: EntitySettings, columns: dict, frame: pl.DataFrame,
                 groups: np.ndarray, left, right, cache: dict) -> np.ndarray:
    """``comparison`` for the pairs where each comparison of ``counts_where_below`` is missing
    or below its value (NaN elsewhere: only those pairs are compared). Where it reaches
    ``stands_in_from``, those comparisons are set to NaN in ``columns``. Where a side's name
    compared by an initials comparison is a single initial, no room: the initials comparison
    counts it, and the initial's lone word would weigh as a disagreement of all the words."""
    room = np.ones(len(left), dtype=bool)
    for other, below in comparison.counts_where_below.items():
        if other in columns:
            room &= ~(columns[other] >= below)  # NaN: missing, leaves room
    waited_on = {entity.comparison(other).columns[0] for other in comparison.counts_where_below}
    for initials in entity.comparisons:
        if initials.kind == "initials" and initials.columns[0] in waited_on and initials.name in columns:
            matrix, present = decoded_column(frame, initials.columns[0], cache)
            single = present & (bits_set(matrix) <= INITIAL_MAX_BITS)
            room &= ~(single[left] | single[right])
    at = np.flatnonzero(room)
    out = np.full(len(left), np.nan)
    out[at] = _comparison(comparison, frame, groups, left[at], right[at], None, cache)
    if comparison.stands_in_from is not None:
        standing = at[out[at] >= comparison.stands_in_from]
        for other in comparison.counts_where_below:
            if other in columns:
                columns[other][standing] = np.nan
    return out


def compare_type(pairs: pl.DataFrame, frame: pl.DataFrame, entity: EntitySettings,
                 relations: pl.DataFrame | None, entities: pl.DataFrame | None,
                 cache: dict | None = None, rows: tuple[np.ndarray, np.ndarray] | None = None) -> pl.DataFrame:
    """Features for the pairs of one entity type; ``frame`` holds that type's mentions (sorted
    by mention_id), ``entities`` (``mention_id``, ``entity_type``, ``entity_id``) resolves the
    neighbours and ``cache`` keeps what is computed per mention (decoded Bloom columns, key
    codes, value frequencies, the neighbours of relational comparisons) for the next call on the
    same ``frame`` (and the same ``relations`` and ``entities``). ``rows``: the rows of
    the pairs' two mentions in ``frame``, when the caller knows them (else they are looked up)."""
    left, right = rows or (row_numbers(frame["mention_id"], pairs[side]) for side in ("mention_a", "mention_b"))
    if (left < 0).any() or (right < 0).any():
        raise ValueError(f"{entity.entity_type}: pairs name mentions that the mentions table lacks")
    columns: dict[str, np.ndarray] = {}
    cache = {} if cache is None else cache
    for key in identifier_keys(entity):
        columns[identifier_feature(key)] = _agree(key_codes(frame, key, cache), left, right)
    relational = any(c.kind == "relation" for c in entity.comparisons)
    groups = identity_groups(frame, entity.identity_keys, cache) if relational else np.arange(frame.height)
    for comparison in entity.comparisons:
        if comparison.kind != "relation" and not all(c in frame.columns and frame[c].null_count() < frame.height
                                                     for c in comparison.columns):
            continue  # nothing to compare: an absent column counts as missing, and costs no memory
        if comparison.counts_where_below:
            continue  # compared below, where the comparisons it waits for leave it room
        neighbours = None
        if comparison.kind == "relation" and entities is not None:
            neighbours = _neighbour_rows(frame, relations, entities, comparison, cache)
        values = _comparison(comparison, frame, groups, left, right, neighbours, cache)
        if comparison.ignore_disagreement:
            values[values == 0.0] = np.nan
        columns[comparison.name] = values
        if comparison.term_frequency:
            record_columns = [c.columns[0] for c in entity.comparisons if c.kind != "relation"]
            columns[f"{comparison.name}_tf"] = _agreed_frequency(comparison, frame, record_columns, left, right, cache)
        if comparison.common_values_over:
            columns[f"{comparison.name}_common"] = _agreed_commonness(comparison, entity, frame, left, right, cache)
    for comparison in entity.comparisons:
        if comparison.kind == "initials" and comparison.name in columns:  # one side is initials: its Dice is no evidence
            shown = ~np.isnan(columns[comparison.name])
            for other in entity.comparisons:
                if other.kind == "dice" and other.columns[0] == comparison.columns[0] and other.name in columns:
                    columns[other.name][shown] = np.nan
    for comparison in entity.comparisons:
        if comparison.counts_where_below and all(c in frame.columns and frame[c].null_count() < frame.height
                                                 for c in comparison.columns):
            columns[comparison.name] = _where_below(comparison, entity, columns, frame, groups, left, right, cache)
    for comparison in entity.comparisons:
        if comparison.redundant_with and comparison.name in columns:
            top = np.ones(len(left), dtype=bool)
            for other in comparison.redundant_with:
                if other not in columns:
                    top[:] = False
                    break
                at_top = columns[other] >= entity.comparison(other).levels[0]  # NaN is never at the top
                for stand_in in entity.comparisons:  # where one stands in for it, its top counts instead
                    if other in stand_in.counts_where_below and stand_in.stands_in_from is not None \
                            and stand_in.name in columns:
                        at_top |= columns[stand_in.name] >= stand_in.levels[0]
                top &= at_top
            columns[comparison.name][top] = np.nan
    log.info("%s: compared %d pairs on %d features", entity.entity_type, len(left), len(columns))
    # the commonness is mostly NaN and read rounded to a quarter bit; agreements are 0, 1 or NaN,
    # which four bytes hold exactly: half the memory (agreements are written in eight, see below)
    narrow = {f"{c.name}_common" for c in entity.comparisons if c.common_values_over} | set(agreements(entity))
    return pairs.with_columns(pl.Series(name, values, dtype=pl.Float32 if name in narrow else pl.Float64)
                              for name, values in columns.items())


def agreements(entity: EntitySettings) -> list[str]:
    """The features of ``entity`` that are 0, 1 or NaN only (identifier keys, exact and
    relational comparisons): :func:`compare_type` holds them as ``Float32``, which keeps every
    one of those values, and the matches table writes them as ``Float64``
    (:func:`as_written`).

    >>> from mhgraph.resolve.settings import default_settings
    >>> agreements(default_settings().types["company"])
    ['kvk_number_agree', 'wage_tax_number_agree', 'shared_address', 'shared_person']
    """
    # once each: settings refuse a comparison named as a key's agreement, but an entity made
    # without them would otherwise cast one column twice (Polars refuses duplicate names)
    return list(dict.fromkeys([*map(identifier_feature, identifier_keys(entity)),
                               *(c.name for c in entity.comparisons if c.kind in ("exact", "relation"))]))


def as_written(pairs: pl.LazyFrame, entity: EntitySettings) -> pl.LazyFrame:
    """``pairs`` with the :func:`agreements` among their columns as ``Float64``, as the matches
    table holds every feature but the commonness.

    >>> from mhgraph.resolve.settings import default_settings
    >>> pairs = pl.LazyFrame({"kvk_number_agree": [1.0, None]}, schema={"kvk_number_agree": pl.Float32})
    >>> as_written(pairs, default_settings().types["company"]).collect_schema()["kvk_number_agree"]
    Float64
    """
    present = pairs.collect_schema().names()
    return pairs.with_columns(pl.col(name).cast(pl.Float64) for name in agreements(entity) if name in present)


def compare(pairs: pl.DataFrame, mentions: pl.DataFrame, relations: pl.DataFrame | None,
            settings: ResolveSettings, entities: pl.DataFrame | None = None) -> pl.DataFrame:
    """Features for every candidate pair (the output of :func:`~mhgraph.resolve.block.block`).

    ``entities`` maps mentions of the neighbour types to entity ids (a ``resolution`` table)
    for the relational features; without it they come from identity keys alone.
    """
    if entities is None:
        from mhgraph.resolve.baseline import identity_resolution

        entities = identity_resolution(mentions, settings)
    out = []
    for entity_type in settings.order:
        typed = pairs.filter(pl.col("entity_type") == entity_type)
        if typed.height:
            frame = mentions.filter(pl.col("entity_type") == entity_type).sort("mention_id")
            out.append(compare_type(typed, frame, settings.types[entity_type], relations, entities))
    return pl.concat(out, how="diagonal") if out else pairs
