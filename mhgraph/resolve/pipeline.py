"""``resolve``: blocking, comparison, scoring and clustering in one call, and the run folder.

Entity types are resolved in the settings' ``order``; each resolved type gives relational
evidence to the later ones (persons registered at the same resolved address, employed by the
same resolved company). What the run learnt is saved as readable JSON next to its tables, so
that ``explain-match`` can later score any pair, even one that was never compared.

>>> import polars as pl
>>> mentions = pl.DataFrame({"mention_id": ["a/1/adres", "b/1/adres", "b/2/adres"],
...     "entity_type": ["address"] * 3, "address_key": ["k1", "k1", "k2"]})
>>> resolved = resolve(mentions, None)
>>> resolved.resolution["entity_id"].n_unique(), resolved.matches["decision"].to_list()
(2, ['match'])
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from mhgraph.audit import locked
from mhgraph.clib import c_function
from mhgraph.errors import InputError
from mhgraph.ingest.schema import MENTION_SCHEMA
from mhgraph.resolve.baseline import identity_resolution
from mhgraph.resolve.block import (PAIR_SCHEMA, block_rows, identity_groups, key_codes, population_pairs, random_pairs,
                                   row_numbers, type_mentions)
from mhgraph.resolve.cluster import (COMPLETED, FALLBACK_LETTER, RESOLUTION_SCHEMA, SPELT_OUT, clustered, in_slices,
                                     never_merged, pairs_to_complete, singletons)
from mhgraph.resolve.compare import as_written, compare_type
from mhgraph.resolve.conflict_sample import drawn_pairs, expected_pairs_drawn, sample_rate
from mhgraph.resolve.conflicts import CONFLICT_SCHEMA, find_identity_conflicts
from mhgraph.resolve.overrides import check_overrides, load_overrides, overrides_frame
from mhgraph.resolve.score import FellegiSunter, make_scorer, scorer_from_dict, scorer_to_dict
from mhgraph.resolve.settings import ResolveSettings, default_settings, settings_from_dict

__all__ = ["MODEL_FILE", "Resolved", "load_run", "resolve", "save_model", "save_run"]

log = logging.getLogger("mhgraph.resolve")

MODEL_FILE = Path("resolve") / "model.json"
STAGING_PREFIX = ".resolve-"  # the private folders of save_run in a run folder
STAGING_HELD = ".held"  # locked in such a folder while its save runs
# what os.link raises where the file system has no hard links (exFAT: EPERM; SMB shares: EOPNOTSUPP or ENOSYS)
NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS})
CONFLICT_TABLE_SCHEMA = {**CONFLICT_SCHEMA, "entity_a": pl.String, "entity_b": pl.String}
COMPARE_SLICE = 4_000_000  # pairs compared at once
JOINED = "joined"  # the name of all types' matches among the types' parts, which end in .parquet
# a type's part is read once, into JOINED, and removed: written fast rather than small (at a million
# persons some 600 MB for the 25 million pairs, where zstd took a quarter longer to write and read)
PART_WRITING = {"compression": "lz4", "statistics": False}
MATCHES_SCHEMA = {**PAIR_SCHEMA, "score": pl.Float64, "decision": pl.String, "reason": pl.String}  # and the features


@dataclass(eq=False)  # compared by identity: the results reading a matches file are kept in a set
class Resolved:
    """What a resolution run produced.

    ``resolution``: one row per mention with its ``entity_id``; ``matches``: every compared
    pair clustering could merge (not those between two values of a conflict key:
    :func:`~mhgraph.resolve.cluster.never_merged`) with its features, ``score``, ``decision`` and ``reason`` (a scan of the file when
    :func:`resolve` wrote them to one, as a run does; read them through :meth:`scan_matches`);
    ``scorers``: the fitted model per entity type; ``settings``: the settings used;
    ``overrides``: the analyst overrides taken into account; ``identity_conflicts``: mentions
    that share an identity key but are different persons (:mod:`mhgraph.resolve.conflicts`),
    with the entity of each side; ``matches_file``: the file the matches are read from, when
    :func:`resolve` wrote them to one; ``expected_pairs``: per type with a fitted model, the
    merges that model expects (:func:`mhgraph.resolve.diagnostics.expected_pairs`), counted
    while resolving (``None``: the diagnostics count them from the matches). While a result (or
    a copy of it: ``dataclasses.replace``, ``copy.copy``, ``copy.deepcopy``, unpickled) reads
    that file, no later :func:`resolve` or :func:`save_run` writes another into it.
    """

    resolution: pl.DataFrame
    matches: pl.DataFrame | pl.LazyFrame
    settings: ResolveSettings
    scorers: dict = field(default_factory=dict)
    overrides: pl.DataFrame | None = None
    identity_conflicts: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CONFLICT_TABLE_SCHEMA))
    matches_file: Path | None = None
    expected_pairs: dict[str, float | None] | None = None

    def __post_init__(self) -> None:
        if self.matches_file is not None:
            self.matches_file = Path(self.matches_file).resolve()
            _register_reader(self)

    def __setstate__(self, state: dict) -> None:
        """A copy made without ``__init__`` (``copy.copy``, ``copy.deepcopy``, pickle) reads the file too."""
        self.__dict__.update(state)
        if self.matches_file is not None:
            _register_reader(self)

    def scan_matches(self) -> pl.LazyFrame:
        """The matches as a query, held or in their file alike: a reader asks for its rows and
        columns, and those of a file are read a batch at a time."""
        return self.matches.lazy()

    def blocking_summary(self) -> pl.DataFrame:
        """Pairs written to the matches, and matched, per entity type and blocking rule: pairs
        between two different values of a conflict key are compared but not written
        (:func:`~mhgraph.resolve.cluster.never_merged`), so not counted."""
        return (self.scan_matches().group_by("entity_type", "blocked_by")
                .agg(pl.len().alias("pairs"), (pl.col("decision").is_in(["match", "must_link"])).sum().alias("matched"))
                .sort("entity_type", "blocked_by").collect(engine="streaming"))  # a file's rows a batch at a time


# the results that read each matches file, while they live: a later resolve must not write under them
_READERS: dict[str, weakref.WeakSet[Resolved]] = {}


def _register_reader(result: Resolved) -> None:
    _forget_unread_files()
    _READERS.setdefault(str(result.matches_file), weakref.WeakSet()).add(result)


def _forget_unread_files() -> None:
    """Drop the entries of files whose readers are all gone, so that the table does not grow with
    every matches file a long process (a notebook, a scheduler) ever wrote. Done here and before a
    check, never from a reader's finalizer: one running between another reader's look-up of its
    set and its add would drop the set that reader then joins, leaving its file unguarded."""
    for key in [key for key, readers in list(_READERS.items()) if not readers]:
        del _READERS[key]


_MALLOC_TRIM = c_function("malloc_trim")  # glibc only


def give_back_freed_memory() -> None:
    """Return the memory of freed numpy arrays to the system. Arrays of a few million pairs
    (tens of MB) come from the C heap, which keeps what is freed for later use: without this a
    million-record run held some 700 MB more at its peak than it used."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _check_mentions(ids: pl.DataFrame) -> None:
    """``ids``: the ``mention_id`` and ``entity_type`` of every mention."""
    # first on 64-bit hashes of the ids, a few times faster than on their text (millions of ids):
    # only when two hashes are equal are the ids themselves looked at
    if ids["mention_id"].hash().is_duplicated().any():
        numbered = ids.select("mention_id").with_row_index("row", offset=1)
        repeated = numbered.filter(pl.col("mention_id").is_duplicated() & ~pl.col("mention_id").is_first_distinct())
        if repeated.height:
            raise InputError(f"mention_id {repeated['mention_id'][0]!r} appears more than once; every mention must be "
                             "unique", row=int(repeated["row"][0]), column="mention_id")
    blank = ids.with_row_index("row", offset=1).filter(pl.col("mention_id").is_null() | pl.col("entity_type").is_null())
    if blank.height:
        raise InputError("mention_id and entity_type may not be empty", row=int(blank["row"][0]), column="mention_id")


def _check_columns(mentions: pl.LazyFrame, types: set[str], settings: ResolveSettings) -> None:
    """Refuse settings that name a column the mentions table lacks. A column of the mentions
    table ingest writes (``docs/tables.md``) may be absent from a table made by hand: it counts
    as empty. Warn when no person mention has a date of birth."""
    names = mentions.collect_schema().names()
    present = set(names) | set(MENTION_SCHEMA)
    for entity_type in settings.order:
        if entity_type not in types:
            continue
        for column, where in settings.columns(entity_type).items():
            if column not in present:
                raise InputError(f"{where} names column {column!r}, which the mentions table lacks "
                                 f"(it has: {', '.join(sorted(present))})", file=settings.file, column=column)
        if entity_type == "person" and not _has_values(mentions, names, entity_type, "birth_date_bf"):
            log.warning("person: no mention has a date of birth; persons are matched on names and the other "
                        "compared fields alone, which tells far fewer people apart")


def _has_values(mentions: pl.LazyFrame, names: list[str], entity_type: str, column: str) -> bool:
    return column in names and mentions.select(
        ((pl.col("entity_type") == entity_type) & pl.col(column).is_not_null()).any()).collect().item()


def _as_overrides(overrides) -> pl.DataFrame | None:
    if overrides is None:
        return None
    if isinstance(overrides, (str, Path)):
        return load_overrides(overrides)
    if isinstance(overrides, pl.DataFrame):
        return overrides_frame(overrides.to_dicts())
    return overrides_frame(list(overrides))


def _with_override_pairs(rows: tuple[np.ndarray, np.ndarray], blocked_by: pl.Series, overrides: pl.DataFrame | None,
                         frame: pl.DataFrame, entity_type: str) -> tuple[tuple[np.ndarray, np.ndarray], pl.Series]:
    """The pairs blocking proposed (``rows``: the rows of their two mentions in ``frame``, and
    ``blocked_by``) and after them the analyst's pairs of this type they lack, ``override``."""
    if overrides is None:
        return rows, blocked_by
    typed = overrides.filter(pl.col("entity_type") == entity_type)
    a, b = (row_numbers(frame["mention_id"], typed[side]) for side in ("mention_a", "mention_b"))
    n = np.int64(max(frame.height, 1))
    new = ~np.isin(a * n + b, rows[0] * n + rows[1])
    if not new.any():
        return rows, blocked_by
    return ((np.concatenate([rows[0], a[new]]), np.concatenate([rows[1], b[new]])),
            pl.concat([blocked_by, pl.Series("blocked_by", ["override"] * int(new.sum()), dtype=pl.String)]))


def _blocked_by_coded(blocked_by: pl.Series, entity) -> pl.Series:
    """``blocked_by`` as an ``Enum`` of the names it holds, the identity keys and the names of
    pairs added later (``override``, :data:`COMPLETED`): one byte a pair where the text takes
    sixteen (some 20 million pairs at a million persons). Written as text (``PAIR_SCHEMA``).

    >>> from mhgraph.resolve.settings import default_settings
    >>> coded = _blocked_by_coded(pl.Series("blocked_by", ["name_lsh", "bsn"]), default_settings().types["person"])
    >>> coded.to_list(), coded.to_physical().dtype
    (['name_lsh', 'bsn'], UInt8)
    """
    names = set(blocked_by.unique().to_list()) | {*entity.identity_keys, "override", COMPLETED}
    return blocked_by.cast(pl.Enum(sorted(names)))


def _population_sample(features: pl.DataFrame, rows: tuple[np.ndarray, np.ndarray], weights: np.ndarray,
                       frame: pl.DataFrame, entity, relations, entities, cache: dict, link_only_across: str
                       ) -> tuple[pl.DataFrame, pl.DataFrame, int, np.ndarray]:
    """What Fellegi-Sunter learns from: the candidate pairs between identity groups, a seeded
    random sample of the other pairs (compared like the candidates), the number of pairs in the
    population they stand for and how many candidates each candidate stands for. ``rows`` and
    ``weights``: those of the pairs of ``features``. A random pair that blocking proposed
    between two values of a conflict key but the sample did not draw is not among them, so it
    counts in the background as well as through the weights of those drawn: some 500,000 random
    pairs among the billions of a large population meet a proposed pair rarely, and keeping
    every proposed pair for this test would hold them all once more."""
    groups = identity_groups(frame, entity.identity_keys, cache)
    across = key_codes(frame, link_only_across) if link_only_across and link_only_across in frame.columns else None
    candidate = ~features["blocked_by"].is_in([*entity.identity_keys, "override"]).to_numpy()
    if not candidate.any():
        candidate[:] = True
    candidates = features.filter(pl.Series(candidate))
    strangers = random_pairs(frame, entity.scoring.random_pairs, entity.scoring.seed, link_only_across, groups)
    n = np.int64(max(frame.height, 1))
    stranger_rows = [row_numbers(frame["mention_id"], strangers[side]) for side in ("mention_a", "mention_b")]
    unproposed = ~np.isin(stranger_rows[0] * n + stranger_rows[1], rows[0][candidate] * n + rows[1][candidate])
    background = compare_type(strangers.filter(pl.Series(unproposed)), frame, entity, relations, entities, cache,
                              (stranger_rows[0][unproposed], stranger_rows[1][unproposed]))
    return candidates, background, population_pairs(groups, across), weights[candidate]


def _compared(pairs: pl.DataFrame, frame: pl.DataFrame, entity, relations, entities, cache: dict,
              rows: tuple[np.ndarray, np.ndarray]) -> pl.DataFrame:
    """:func:`~mhgraph.resolve.compare.compare_type` of ``pairs`` (the rows of their mentions in
    ``frame``: ``rows``), :data:`COMPARE_SLICE` pairs at a time: a pair's features are its own,
    and what comparing holds besides them (the values and neighbours of both sides, which pairs
    a rule compares) is a few times their size, for a slice instead of all pairs of the type."""
    pieces = [compare_type(pairs.slice(start, COMPARE_SLICE), frame, entity, relations, entities, cache,
                           (rows[0][start:start + COMPARE_SLICE], rows[1][start:start + COMPARE_SLICE]))
              for start in range(0, max(pairs.height, 1), COMPARE_SLICE)]
    return _joined_a_column_at_a_time(pieces)


def _joined_a_column_at_a_time(pieces: list[pl.DataFrame]) -> pl.DataFrame:
    """The tables ``pieces`` (same columns) one under the other, each column in one piece: so
    that scoring reads a column without copying it (a column of several pieces is copied by
    every ``to_numpy``). Joined a column at a time, each piece's column let go (and its memory
    given back) as soon as it is joined, so that beside the pieces no more than one column is
    held twice; the list ``pieces`` is emptied.

    >>> pieces = [pl.DataFrame({"a": [1], "b": ["x"]}), pl.DataFrame({"a": [2], "b": ["y"]})]
    >>> joined = _joined_a_column_at_a_time(pieces)
    >>> joined.rows(), joined["a"].n_chunks(), pieces
    ([(1, 'x'), (2, 'y')], 1, [])
    """
    columns = []
    for name in pieces[0].columns:
        columns.append(pl.concat([piece[name] for piece in pieces], rechunk=True))
        pieces[:] = [piece.drop(name) for piece in pieces]
        give_back_freed_memory()  # compared columns are numpy's: freed, they stay in the C heap
    pieces.clear()
    return pl.DataFrame(columns)


def _completed(scored: pl.DataFrame, rows: tuple[np.ndarray, np.ndarray], frame: pl.DataFrame, entity, relations,
               entities, cache: dict, scorer, overrides: pl.DataFrame | None
               ) -> tuple[pl.DataFrame, tuple[np.ndarray, np.ndarray]]:
    """``scored`` plus the uncompared pairs inside candidate entities that clustering could
    merge (:func:`~mhgraph.resolve.cluster.never_merged`), compared and scored, and the rows of
    all their mentions in ``frame`` (``rows``: those of ``scored``, whose pairs are held as
    those rows alone)."""
    extra = pairs_to_complete(scored, frame, entity, cache, rows)
    if extra.height == 0:
        return scored, rows
    extra_rows = tuple(row_numbers(frame["mention_id"], extra[side]) for side in ("mention_a", "mention_b"))
    # a pair between two values of a conflict key (one the sample did not draw) would be dropped unwritten
    mergeable = ~never_merged(extra, frame, entity, extra_rows, overrides, cache)
    if not mergeable.all():
        extra, extra_rows = extra.filter(pl.Series(mergeable)), (extra_rows[0][mergeable], extra_rows[1][mergeable])
        if extra.height == 0:
            return scored, rows
    extra = extra.drop(SPELT_OUT).with_columns(pl.col("blocked_by").cast(scored["blocked_by"].dtype))
    features = compare_type(extra, frame, entity, relations, entities, cache, extra_rows)
    score = scorer.match_probability(features) if scorer is not None else np.zeros(features.height)
    log.info("%s: %d pairs inside candidate entities compared as well", entity.entity_type, extra.height)
    return (pl.concat([scored, features.with_columns(pl.Series("score", score, dtype=pl.Float64))], how="diagonal"),
            (np.concatenate([rows[0], extra_rows[0]]), np.concatenate([rows[1], extra_rows[1]])))


def _conflicts_sampled(rows: tuple[np.ndarray, np.ndarray], blocked_by: pl.Series, frame: pl.DataFrame, entity,
                       overrides: pl.DataFrame | None, cache: dict
                       ) -> tuple[tuple[np.ndarray, np.ndarray], pl.Series, np.ndarray, np.ndarray, float]:
    """The proposed pairs (``rows``, ``blocked_by``) to compare: of those between two values of
    a conflict key (:func:`~mhgraph.resolve.cluster.never_merged`), which clustering never
    merges and the matches leave out, a seeded sample for the model to learn from
    (:mod:`mhgraph.resolve.conflict_sample`), and none for a type without a fitted model (no
    comparisons, or scored by ``rules``). With
    them, per pair kept: whether it is such a pair (``apart``) and whether its two identity
    groups are drawn (``drawn``), and the share drawn (``rate``). At a million persons they are
    some two in three person pairs."""
    apart = never_merged(blocked_by.to_frame(), frame, entity, rows, overrides, cache)
    conflicting = int(apart.sum())
    learns = entity.fuzzy and entity.scoring.method != "rules"  # rules are not fitted: no pair teaches them
    rate = sample_rate(conflicting, entity.scoring.conflict_pairs) if learns else 0.0
    if rate >= 1.0 or not conflicting:
        return rows, blocked_by, apart, np.ones(len(apart), dtype=bool), 1.0
    units = identity_groups(frame, entity.identity_keys, cache)
    drawn = drawn_pairs(units, rows, rate, entity.scoring.seed) if rate > 0 else np.zeros(len(apart), dtype=bool)
    keep = np.flatnonzero(drawn | ~apart)
    log.info("%s: %d pairs between different values of %s, %d of them compared (a share of %.4g), for the model "
             "alone", entity.entity_type, conflicting, ", ".join(entity.conflict_keys),
             int(apart[keep].sum()), rate)
    return (rows[0][keep], rows[1][keep]), blocked_by.gather(keep), apart[keep], drawn[keep], rate


def _mergeable(apart: np.ndarray, height: int, entity) -> np.ndarray | None:
    """The positions in the scored pairs of those clustering could merge (``None``: all), that
    is without the pairs whose two mentions hold different values of a conflict key (``apart``,
    as :func:`_conflicts_sampled` found them among the compared pairs, which come first; the
    completed pairs after them are all mergeable, :func:`_completed`), which clustering never
    merges and whose scores never enter an average; kept: identity links and the analyst's
    pairs, whose refusal is recorded. Those compared taught the model."""
    if not apart.any():
        return None
    log.info("%s: %d pairs between different values of %s scored, neither clustered nor written", entity.entity_type,
             int(apart.sum()), ", ".join(entity.conflict_keys))
    return np.flatnonzero(~np.concatenate([apart, np.zeros(height - len(apart), dtype=bool)]))


def _pair_order(rows: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    """The order of pairs by ``mention_a``, ``mention_b``, from the rows of the two mentions in
    the type's mentions, which are sorted by ``mention_id``; ``None`` when the pairs are in that
    order already, as blocking proposes them (pairs added after it, by overrides or inside
    candidate entities, come last).

    >>> _pair_order((np.array([1, 0, 0]), np.array([2, 2, 1]))).tolist()
    [2, 1, 0]
    """
    n = int(max(rows[0].max(initial=0), rows[1].max(initial=0))) + 2  # rows from -1 (none) up
    if n * n < 2**62:  # one code per pair: a stable sort of nearly sorted codes is a pass, a lexsort sorts anew
        order = np.argsort((rows[0].astype(np.int64) + 1) * n + (rows[1] + 1), kind="stable")
    else:
        order = np.lexsort((rows[1], rows[0]))
    return None if (order == np.arange(len(order))).all() else order


def _with_entities(table: pl.DataFrame, resolution: pl.DataFrame) -> pl.DataFrame:
    """An identity-conflict table with the entity each side ended in."""
    entity_of = resolution.select("mention_id", "entity_id")
    return (table.join(entity_of.rename({"mention_id": "mention_a", "entity_id": "entity_a"}), on="mention_a", how="left")
            .join(entity_of.rename({"mention_id": "mention_b", "entity_id": "entity_b"}), on="mention_b", how="left")
            .select(list(CONFLICT_TABLE_SCHEMA)))


def resolve(mentions: pl.DataFrame | pl.LazyFrame, relations: pl.DataFrame | None,
            settings: ResolveSettings | None = None, overrides=None, matches_file: str | Path | None = None) -> Resolved:
    """Resolve every mention into an entity.

    ``mentions``: a table or a scan (``pl.scan_parquet``); each entity type's mentions are read
    from it when that type's turn comes, with only the columns its settings read, and let go
    after, so that a scan never has the whole mentions table in memory. Another lazy query
    would be run again for every read (two per entity type, and the diagnostics one more).
    ``settings``: :class:`ResolveSettings` (default: the shipped ``settings.toml``);
    ``overrides``: a path to an overrides file, a Polars table or a list of dicts with
    ``mention_a``, ``mention_b``, ``decision`` (``must_link`` / ``cannot_link``), ``reason``.
    ``matches_file``: where the matches are written, each type's as soon as it is clustered, so
    that no type's compared pairs are held while the next is resolved (a million persons give
    some 19 million, several GB); ``Resolved.matches`` is then a scan of that file (a
    ``pl.LazyFrame``). The types' parts are written into a private folder next to it and the
    whole moved into place at the end: a file there before is replaced only then, and nothing
    is left behind when resolving fails. A file that an earlier result of this process still
    reads is refused (:class:`~mhgraph.errors.InputError`).
    """
    settings = settings or default_settings()
    mentions = mentions.lazy()
    missing = [c for c in ("mention_id", "entity_type") if c not in mentions.collect_schema().names()]
    if missing:
        raise InputError(f"the mentions table lacks column(s) {', '.join(missing)}", column=missing[0])
    ids = mentions.select("mention_id", "entity_type").collect()
    _check_mentions(ids)
    types = set(ids["entity_type"].unique().to_list())
    _check_columns(mentions, types, settings)
    checked = _as_overrides(overrides)
    if checked is not None:
        checked = check_overrides(checked, ids)
    others = ids.filter(~pl.col("entity_type").is_in(list(settings.order)))
    del ids
    if matches_file is None:
        return _resolved_types(mentions, relations, settings, checked, others, types, None)
    target = _unread_target(matches_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    parts = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        resolved = _resolved_types(mentions, relations, settings, checked, others, types, parts)
        os.replace(parts / JOINED, target)  # whole, at once: a reader never sees half a file
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return replace(resolved, matches=pl.scan_parquet(target), matches_file=target)


def _unread_target(matches_file: str | Path) -> Path:
    """``matches_file`` as an absolute path, when no result of an earlier :func:`resolve` reads it."""
    target = Path(matches_file).resolve()
    _forget_unread_files()
    if _READERS.get(str(target)):
        raise InputError("an earlier resolve's result still reads its matches from this file: write to another "
                         "file, or collect and drop that result first", file=str(target))
    return target


def _resolved_types(mentions: pl.LazyFrame, relations: pl.DataFrame | None, settings: ResolveSettings,
                    checked: pl.DataFrame | None, others: pl.DataFrame, types: set[str],
                    parts: Path | None) -> Resolved:
    """:func:`resolve` after its checks, type by type (``types``: those the mentions hold); with
    ``parts``, a folder, each type's matches are written there and joined into one file there,
    named as the target."""
    resolutions, matches, conflicts, scorers, expected = [], {}, [], {}, {}
    # provisional entities of the types not resolved yet, for relational evidence (labels, not
    # ids), a table per type: each resolved type's replaces its own
    provisional = identity_resolution(mentions, settings, hashed_ids=False, types=types)
    by_type = {key[0]: table for key, table in provisional.partition_by("entity_type", as_dict=True).items()}
    del provisional
    for position, entity_type in enumerate(settings.order):
        entity = settings.types[entity_type]
        # only the types this one or a later one reads as neighbours: the others' (at a million
        # persons the two million provisional persons while persons are resolved) are let go
        still_read = _neighbour_types(settings, settings.order[position:])
        by_type = {t: table for t, table in by_type.items() if t in still_read}
        entities = pl.concat(by_type.values()) if by_type else pl.DataFrame(schema=RESOLUTION_SCHEMA)
        # read when the type's turn comes, only the columns its settings read: one type at a time in memory
        frame = type_mentions(mentions, entity_type, settings.columns(entity_type))
        if frame.height == 0:
            continue
        log.info("%s: resolving %d mentions", entity_type, frame.height)
        cache: dict = {}
        # first, while no pair is held: it compares millions of pairs of profiles of its own (at a
        # million persons some 3 million), which on top of the scored pairs made the type's peak
        found = find_identity_conflicts(frame, entity, relations, entities, cache)
        give_back_freed_memory()
        # each pair as the rows of its two mentions in `frame`, read by comparison, completion, order
        # and clustering; their ids and type are spelt out only as the matches are written
        *blocked, blocked_by = block_rows(frame, entity, settings.link_only_across, cache)
        rows, blocked_by = _with_override_pairs(tuple(blocked), blocked_by, checked, frame, entity_type)
        del blocked
        typed_overrides = checked.filter(pl.col("entity_type") == entity_type) if checked is not None else None
        rows, blocked_by, apart, drawn, rate = _conflicts_sampled(rows, blocked_by, frame, entity, typed_overrides, cache)
        pairs = _blocked_by_coded(blocked_by, entity).to_frame()
        del blocked_by
        give_back_freed_memory()  # what blocking used
        features = _compared(pairs, frame, entity, relations, entities, cache, rows)
        del pairs  # its columns live on in features
        give_back_freed_memory()
        score = np.ones(features.height)
        if entity.fuzzy and features.height:
            # what each compared pair stands for (rate 0, for rules: no pair between two values is compared)
            weights = np.where(apart, 1.0 / rate, 1.0) if rate > 0 else np.ones(len(apart))
            scorer = make_scorer(entity, features, weights)
            if isinstance(scorer, FellegiSunter):
                candidates, background, population, weights = _population_sample(
                    features, rows, weights, frame, entity, relations, entities, cache, settings.link_only_across)
                scorer.fit(candidates, background, population, weights=weights)
                del candidates, background
            else:
                scorer.fit(features, weights=weights)
            del weights
            scorers[entity_type] = scorer
            score = scorer.match_probability(features)  # one column, not predict_proba's two
            # what the diagnostics weigh the merges against, counted from the pairs at hand rather
            # than from the written matches (at a million persons 24 million pairs read back), and
            # from every proposed pair, those that can never merge too (as the sample estimates them)
            proposed = ~features["blocked_by"].is_in([*entity.identity_keys, "override"]).to_numpy()
            # four bytes a group number: one per proposed pair and side (some 10 million at a million persons)
            units = identity_groups(frame, entity.identity_keys, cache).astype(_group_number_dtype(frame.height))
            # (for rules, none of the pairs between two values: not compared, they are left out)
            expected[entity_type] = expected_pairs_drawn(units[rows[0][proposed]], units[rows[1][proposed]],
                                                         score[proposed], apart[proposed], drawn[proposed], rate)
            del proposed, units
        del drawn
        fitted = entity.fuzzy and features.height
        scored = features.with_columns(pl.Series("score", score, dtype=pl.Float64))
        del features, score
        if fitted:
            scored, rows = _completed(scored, rows, frame, entity, relations, entities, cache, scorers.get(entity_type),
                                      typed_overrides)
        kept = _mergeable(apart, scored.height, entity)
        del apart
        if kept is not None:
            rows = rows[0][kept], rows[1][kept]
        order = _pair_order(rows)  # the order of the matches table
        if order is not None:
            rows = rows[0][order], rows[1][order]
        taken = kept if order is None else order if kept is None else kept[order]
        columns = scored.get_columns()
        del scored  # its columns are let go one by one as they are kept and put in order, in one pass
        scored = _in_order(columns, taken)
        give_back_freed_memory()  # the unsorted columns
        resolution, decided = clustered(scored, frame, entity, typed_overrides, found, rows)
        if found.table.height:
            conflicts.append(_with_entities(found.table, resolution))
        resolutions.append(resolution)
        del scored, found  # the query `decided` holds what it reads of them
        decided = as_written(decided, entity).with_columns(pl.col("blocked_by").cast(pl.String))
        # the decisions and their reasons are spelt out a slice of pairs at a time, or as they are written
        matches[entity_type] = (in_slices(decided) if parts is None
                                 else _written(decided, parts / f"{entity_type}.parquet", **PART_WRITING))
        del decided
        give_back_freed_memory()
        del rows
        by_type[entity_type] = resolution
        log.info("%s: %d mentions -> %d entities", entity_type, frame.height, resolution["entity_id"].n_unique())
        del frame, cache, resolution, entities  # this type's tables go before the next is read
    if others.height:
        log.info("%d mentions of types without settings stay alone", others.height)
        resolutions.append(singletons(others, FALLBACK_LETTER))
    resolution = pl.concat(resolutions).sort("mention_id") if resolutions else pl.DataFrame(schema=RESOLUTION_SCHEMA)
    conflict_table = pl.concat(conflicts) if conflicts else pl.DataFrame(schema=CONFLICT_TABLE_SCHEMA)
    return Resolved(resolution, _matches_table(matches, parts), settings, scorers, checked, conflict_table,
                    expected_pairs=expected)


def _neighbour_types(settings: ResolveSettings, types) -> set[str]:
    """The entity types whose entities the relational comparisons of ``types`` read.

    >>> sorted(_neighbour_types(default_settings(), ["person"]))
    ['address', 'company', 'permit']
    """
    return {c.neighbour_type for t in types for c in settings.types[t].comparisons if c.kind == "relation"}


def _group_number_dtype(n_mentions: int) -> type:
    """The integer type for group numbers of ``n_mentions`` mentions (each below ``n_mentions``):
    four bytes while the count fits in them, else eight, so that numbers never wrap around.

    >>> _group_number_dtype(1_000_000).__name__, _group_number_dtype(3_000_000_000).__name__
    ('int32', 'int64')
    """
    return np.int32 if n_mentions <= np.iinfo(np.int32).max else np.int64


def _in_order(columns: list[pl.Series], order: np.ndarray | None) -> pl.DataFrame:
    """The table of ``columns``, each in one piece and in ``order`` (``None``: as it is), made a
    column at a time, each of ``columns`` let go (the list is emptied) and its memory given back
    once its copy is made: sorting the whole table at once, or keeping the unsorted columns until
    all are sorted, holds millions of pairs twice. In one piece before it is sorted: taken from the pairs and their
    completions, the text of every string is copied, from one piece only its place.

    >>> columns = [pl.Series("a", [3, 1, 2]), pl.Series("b", ["z", "x", "y"])]
    >>> _in_order(columns, np.array([1, 2, 0])).rows(), columns
    ([(1, 'x'), (2, 'y'), (3, 'z')], [])
    """
    ordered = []
    while columns:
        column = columns.pop(0).rechunk()
        ordered.append(column if order is None else column.gather(order))
        del column
        give_back_freed_memory()
    return pl.DataFrame(ordered)


def _written(query: pl.LazyFrame, path: Path, **options) -> pl.LazyFrame:
    query.sink_parquet(path, **options)
    return pl.scan_parquet(path)


def _matches_table(matches: dict[str, pl.DataFrame | pl.LazyFrame], parts: Path | None) -> pl.DataFrame | pl.LazyFrame:
    """The matches of every type, types in name order, and the features of all types side by
    side (empty where a type has none; in the order the types were resolved) with ``score``,
    ``decision``, ``reason`` last. ``matches``: per type in the order resolved, its table or a
    scan of the file it was written to in the folder ``parts``; those files are joined there into
    :data:`JOINED` a few rows at a time."""
    typed = [matches[t].lazy() for t in sorted(matches)] or [pl.LazyFrame(schema=MATCHES_SCHEMA)]
    columns = dict.fromkeys(c for part in [*matches.values(), *typed] for c in part.collect_schema().names())
    ordered = [c for c in columns if c not in ("score", "decision", "reason")] + ["score", "decision", "reason"]
    joined = pl.concat(typed, how="diagonal").select(ordered)
    if parts is None:
        return joined.collect()
    return _written(joined, parts / JOINED)


def save_model(resolved: Resolved, run_dir: str | Path) -> Path:
    """Write the readable model ``resolve/model.json`` (settings, fitted scorers, overrides,
    blocking summary) into ``run_dir``: what ``explain-match`` needs besides the tables."""
    path = Path(run_dir) / MODEL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_model(resolved, path)
    return path


def _write_model(resolved: Resolved, path: Path) -> None:
    model = {
        "settings": resolved.settings.to_dict(),
        "scorers": {t: scorer_to_dict(s) for t, s in resolved.scorers.items()},
        "overrides": resolved.overrides.drop("entity_type", strict=False).to_dicts() if resolved.overrides is not None else [],
        "blocking": resolved.blocking_summary().to_dicts(),
        # counted over every proposed pair, also those the matches leave out (never_merged)
        "expected_pairs": resolved.expected_pairs,
    }
    path.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")


def save_run(resolved: Resolved, run_dir: str | Path) -> Path:
    """Write ``tables/resolution.parquet``, ``tables/matches.parquet``,
    ``tables/identity_conflicts.parquet`` and ``resolve/model.json`` into ``run_dir``, all or
    none: each is written into a private folder in ``run_dir`` first and the four are moved into
    place only once all are written, so that a failure or Ctrl-C while writing leaves the earlier
    four as they were (should a move fail, those moved already are put back). The one exception:
    a result of ``resolve(..., matches_file=RUN_DIR/"tables/matches.parquet")`` put its matches
    there when resolving ended, so a save of it that fails leaves those new matches beside the
    earlier resolution and model (a ``matches_file`` elsewhere, or none, keeps all four whole).
    A private folder a killed save left is removed by the next save into ``run_dir``."""
    run_dir = Path(run_dir)
    path = run_dir / MODEL_FILE
    tables = run_dir / "tables"
    for folder in (tables, path.parent):
        folder.mkdir(parents=True, exist_ok=True)
    with _staging_folder(run_dir) as folder:
        staged = {tables / "resolution.parquet": folder / "resolution.parquet",
                  tables / "identity_conflicts.parquet": folder / "identity_conflicts.parquet",
                  path: folder / MODEL_FILE.name}
        if _write_matches(resolved, tables / "matches.parquet", folder / "matches.parquet"):
            staged = {tables / "matches.parquet": folder / "matches.parquet", **staged}
        resolved.resolution.write_parquet(staged[tables / "resolution.parquet"])
        resolved.identity_conflicts.write_parquet(staged[tables / "identity_conflicts.parquet"])
        _write_model(resolved, staged[path])
        _move_in_all(staged, folder)
    log.info("resolution, matches and model written to %s", run_dir)
    return path


@contextmanager
def _staging_folder(run_dir: Path) -> Iterator[Path]:
    """A private folder in ``run_dir`` for one save, removed after it. Its ``.held`` file is
    locked from the moment it has that name until the save ends, so that the folders a killed
    save left (their ``.held`` lockable) are told from those a live save writes, and removed."""
    _remove_stale_staging(run_dir)
    with tempfile.TemporaryDirectory(prefix=STAGING_PREFIX, dir=run_dir, ignore_cleanup_errors=True) as name:
        folder = Path(name)
        with open(folder / "held.new", "a+b") as held, locked(held):
            os.replace(folder / "held.new", folder / STAGING_HELD)  # named only once locked
            yield folder


def _remove_stale_staging(run_dir: Path) -> None:
    if os.name != "posix":  # no flock: a folder a live save writes could not be told from a stale one
        return
    for folder in run_dir.glob(f"{STAGING_PREFIX}*"):
        try:
            with open(folder / STAGING_HELD, "rb") as held, locked(held, wait=False):
                shutil.rmtree(folder, ignore_errors=True)
        except (FileNotFoundError, NotADirectoryError, BlockingIOError):
            continue  # not yet set up, or a live save holds it


def _move_in_all(staged: dict[Path, Path], folder: Path) -> None:
    """Move each new file (the values of ``staged``) onto its place (the keys); the files there
    before are kept in ``folder`` (as hard links, or copies where the file system has none)
    until all are moved, and put back when one fails."""
    earlier = {}
    for place in staged:
        if place.is_file():
            earlier[place] = folder / f"earlier-{len(earlier)}"
            try:
                os.link(place, earlier[place])
            except OSError as exc:
                if exc.errno not in NO_HARD_LINKS:
                    raise
                shutil.copy2(place, earlier[place])
    moved = []
    try:
        for place, new in staged.items():
            os.replace(new, place)
            moved.append(place)
    except BaseException:
        for place in moved:
            if place in earlier:
                os.replace(earlier[place], place)
            else:
                place.unlink()
        raise


def _write_matches(resolved: Resolved, path: Path, staged: Path) -> bool:
    """Write the matches of ``resolved``, which go to ``path``, into ``staged`` (those of a file
    are copied a few rows at a time); False, and nothing written, when they are the scan of
    ``path`` itself. A file another result reads is refused."""
    if resolved.matches_file == path.resolve() and isinstance(resolved.matches, pl.LazyFrame):
        return False
    _unread_target(path)
    if isinstance(resolved.matches, pl.DataFrame):
        resolved.matches.write_parquet(staged)
    else:
        resolved.scan_matches().sink_parquet(staged)
    return True


def load_run(run_dir: str | Path) -> Resolved:
    """Read back what :func:`save_run` wrote."""
    run_dir = Path(run_dir)
    path = run_dir / MODEL_FILE
    if not path.is_file():
        raise InputError("no resolution model here: run `mhgraph resolve` on this folder (or save_model) first",
                         file=str(path))
    model = json.loads(path.read_text(encoding="utf-8"))
    tables = {}
    for name in ("resolution", "matches"):
        table = run_dir / "tables" / f"{name}.parquet"
        if not table.is_file():
            raise InputError(f"the run folder lacks its {name} table", file=str(table))
        tables[name] = pl.read_parquet(table)
    overrides = overrides_frame(model["overrides"]) if model.get("overrides") else None
    conflicts_file = run_dir / "tables" / "identity_conflicts.parquet"
    conflicts = pl.read_parquet(conflicts_file) if conflicts_file.is_file() else pl.DataFrame(schema=CONFLICT_TABLE_SCHEMA)
    # a model saved before it recorded them: the diagnostics count them from its matches, which held every pair
    return Resolved(tables["resolution"], tables["matches"], settings_from_dict(model["settings"], file=str(path)),
                    {t: scorer_from_dict(s) for t, s in model["scorers"].items()}, overrides, conflicts,
                    expected_pairs=model.get("expected_pairs"))
