"""Settings that drive entity resolution: blocking, comparisons, scoring and clustering.

Settings are plain dataclasses read from a TOML file that a non-programmer can edit (the
shipped defaults are in ``mhgraph/resolve/settings.toml``, explained in
``docs/entity-resolution.md``). Comparisons and blocking rules name their columns, so the same
code runs on partner mentions and on benchmark tables with other fields.

>>> settings = default_settings()
>>> settings.order
('permit', 'address', 'company', 'person')
>>> [rule.name for rule in settings.types["person"].blocking][:2]
['match_key_1', 'match_key_2']
>>> settings.types["person"].comparison("birth_date_dice").columns
('birth_date_bf',)
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mhgraph.errors import InputError
from mhgraph.spec import ENTITY_FIELDS

__all__ = [
    "DEFAULT_SETTINGS",
    "BlockingRule",
    "ClusteringSettings",
    "Comparison",
    "EntitySettings",
    "ResolveSettings",
    "ScoringSettings",
    "default_settings",
    "identifier_feature",
    "load_settings",
    "settings_from_dict",
]

DEFAULT_SETTINGS = Path(__file__).with_name("settings.toml")

BLOCKING_KINDS = ("exact", "lsh")
COMPARISON_KINDS = ("dice", "crossed_dice", "exact", "relation", "initials")
SCORING_METHODS = ("auto", "logistic", "fellegi_sunter", "rules")
DICE_LEVELS = (1.0, 0.9, 0.75, 0.5)
# columns of the matches table beside the features, and those clustering adds to decide
# (mhgraph.resolve.cluster): a comparison by one of these names would be overwritten
RESERVED_COLUMNS = ("mention_a", "mention_b", "entity_type", "blocked_by", "score", "decision", "reason",
                    "together", "identity", "split", "event", "override", "row_a", "row_b")
# the logistic scorer numbers each pair's levels as one int64 (level + 1 in base levels + 2)
LOGISTIC_PATTERN_LIMIT = 2**63


@dataclass(frozen=True)
class BlockingRule:
    """One way to propose candidate pairs.

    * ``exact``: mentions with equal values in all ``columns`` (keyed hashes, match keys, or
      Bloom filters — equal filters mean equal normalised values);
    * ``lsh``: locality-sensitive hashing over the Bloom filters in ``columns``: ``bands``
      groups of ``rows`` MinHash values each; mentions that agree on one whole band are paired.
      ``equal``: columns whose values must be equal as well (date of birth + similar name).

    ``min_dice``: column -> minimum Dice; pairs below it are dropped, pairs where a side
    lacks the value kept (names alone, for dates of birth that are missing or have a typo) —
    unless ``missing_passes`` is false: then both sides must carry every ``min_dice`` column.

    A block larger than ``max_block_size`` is not paired all-to-all: its mentions are sorted
    by name similarity and each is paired with its ``window`` next neighbours.

    ``max_pairs_per_mention``: a mention that this rule pairs with more others keeps only its
    most similar ones (mean Dice over the type's compared filters; 0 = no bound), so that a
    mention alike to thousands — a common name without a date of birth, which passes every
    ``min_dice`` on the date — costs the same at any population size.
    """

    name: str
    columns: tuple[str, ...]
    kind: str = "exact"
    bands: int = 12
    rows: int = 12
    max_block_size: int = 50
    window: int = 10
    max_pairs_per_mention: int = 30
    seed: int = 0
    equal: tuple[str, ...] = ()
    min_dice: dict[str, float] = field(default_factory=dict)
    missing_passes: bool = True


@dataclass(frozen=True)
class Comparison:
    """One feature of a candidate pair.

    * ``dice``: Dice similarity of the Bloom filters in ``columns[0]``;
    * ``crossed_dice``: the mean of the two crossed Dice similarities of ``columns[0]`` and
      ``columns[1]`` (for swapped given/family names; needs both encoded under one domain);
    * ``exact``: 1.0 when the values in ``columns[0]`` are equal, 0.0 when they differ;
    * ``initials``: for pairs whose Dice on ``columns[0]`` is below 0.5 and one side is
      initials or a short name (at most ``INITIALS_MAX_BITS`` bits set): 1.0 when most of its
      bits are in the other filter ("J.P." and "Jan Peter"), else 0.0; NaN for all other
      pairs. Where it has a value, the ``dice`` comparisons of the same column count as no
      evidence: the Dice of "j" and "jan" says nothing about whether they are one person;
    * ``relation``: 1.0 when the two mentions are related (by one of ``relation_types``, in
      either direction) to the same resolved ``neighbour_type`` entity, 0.0 when both have
      such neighbours but share none.

    Every kind gives NaN when a side lacks the field. ``levels`` are the thresholds that cut
    a value into the discrete levels the scorer weighs (default: ``DICE_LEVELS`` for the Dice
    kinds, agree / disagree for the others). ``ignore_disagreement``: a value of 0.0 counts
    as no evidence (NaN) — for match keys, which combine fields that are compared on their own
    too: their agreement adds evidence (swapped names, swapped day and month), their
    disagreement would only count the same typo twice. ``term_frequency``: exact agreement
    weighs by how common the agreed value is in the mentions (agreeing on a rare family name
    is stronger evidence than agreeing on a common one); the frequency of each keyed value is
    visible without knowing the value. ``common_values_over``: columns; exact agreement weighs
    ``log2(c)`` bits less than its level, where the agreed value is held by ``c`` times as many
    distinct combinations of it and these columns as the value of a typical combination (more
    for a rarer value), never below 0: term frequency over people rather than records. A date
    of birth written as 1 January where only the year was known is held by many people; a
    person's own duplicates share his date and his match key, so they count once; the
    "typical" count is the sum over values of the count squared over the sum of the counts
    (the count two mentions drawn at random that agree share); a value held only by mentions
    without these columns is neutral (:func:`mhgraph.resolve.compare.commonness`).
    ``common_values_alike``: comparison name -> value from 0 to 1 (beside
    ``common_values_over``, never the comparison itself); two combinations of one value whose
    mentions reach each named comparison's value count as one person (a typo in the first
    letter of a given name gives a person a second match key).
    ``redundant_with``: names of other comparisons; where
    all of them sit at their top level the value counts as no evidence (NaN) — a match key
    built from names and date of birth says nothing new when those already agree exactly,
    and counting it again would count one agreement twice. ``hardened_where``: a column; the
    filters of mentions that carry it were hardened by pseudonymise with randomised bits
    (``blip``: each bit flipped with probability ``mhgraph.crypto.BLIP_FLIP / 2``), and their
    ``dice`` is corrected for the flips (:func:`mhgraph.resolve.bits.dice_pairs`): two hardened
    filters of one name have a raw Dice near 0.75, the corrected one near 1.
    ``unrelated_share``: the share of true pairs whose value may be unrelated to the other
    record's (a marriage name); Fellegi-Sunter keeps every level's m at least this share of its
    u, so that no level weighs below ``log2(unrelated_share)`` bits
    (:func:`mhgraph.resolve.score.floor_unrelated`). 0: no floor.
    ``counts_where_below``: comparison name -> value; this comparison counts only for pairs
    where each of the named comparisons is missing or below its value (elsewhere NaN, and not
    computed): evidence they do not give already. ``stands_in_from``: where it reaches this
    value, the comparisons of ``counts_where_below`` count nothing (NaN) instead. All name
    words under one domain, for pairs whose given and family names do not agree field by field:
    where the words agree (a family name written in the given-name field), the fields'
    disagreement is no evidence against the pair; where the fields agree, counting the words
    too would count one agreement twice. The named comparisons must come before it.
    """

    name: str
    kind: str = "dice"
    columns: tuple[str, ...] = ()
    levels: tuple[float, ...] = ()
    relation_types: tuple[str, ...] = ()
    neighbour_type: str = ""
    ignore_disagreement: bool = False
    term_frequency: bool = False
    common_values_over: tuple[str, ...] = ()
    common_values_alike: dict[str, float] = field(default_factory=dict)
    redundant_with: tuple[str, ...] = ()
    hardened_where: str = ""
    unrelated_share: float = 0.0
    counts_where_below: dict[str, float] = field(default_factory=dict)
    stands_in_from: float | None = None

    def __post_init__(self):
        if not self.levels:
            object.__setattr__(self, "levels", DICE_LEVELS if self.kind in ("dice", "crossed_dice") else (1.0,))


@dataclass(frozen=True)
class ScoringSettings:
    """How pairs get a match probability.

    ``method``: ``logistic`` (trained on identifier labels), ``fellegi_sunter`` (fitted by
    EM, no labels), ``rules`` (match when all features of one rule reach its values), or
    ``auto`` (logistic when at least ``min_labelled_pairs`` labelled pairs of each class
    exist, else Fellegi-Sunter). ``threshold``: the probability from which a pair may merge.
    ``random_pairs``: how many random pairs (seeded by ``seed``) Fellegi-Sunter learns from
    besides the compared pairs, so that EM sees enough non-matches when blocking proposes
    almost only matches. ``conflict_pairs``: of the pairs between two different values of a
    conflict key, which are never merged and only teach the model, how many at most are
    compared: beyond it a seeded sample of about that many, each weighing for the pairs it
    stands for (:mod:`mhgraph.resolve.conflict_sample`).
    """

    method: str = "auto"
    threshold: float = 0.5
    min_labelled_pairs: int = 200
    rules: tuple[dict, ...] = ()
    max_iter: int = 100
    regularisation: float = 1.0
    random_pairs: int = 500_000
    conflict_pairs: int = 2_000_000
    seed: int = 0


@dataclass(frozen=True)
class ClusteringSettings:
    """When two groups of mentions may become one entity (average linkage against chaining).

    ``min_mean_score``: two groups merge only when their pairs of identity groups score this
    much on average, a pair never compared counting as 0. ``complete_up_to``: candidate
    entities of up to this many identity groups have their uncompared pairs compared first.
    """

    min_mean_score: float = 0.5
    complete_up_to: int = 100


@dataclass(frozen=True)
class EntitySettings:
    entity_type: str
    letter: str
    identity_keys: tuple[str, ...] = ()
    conflict_keys: tuple[str, ...] = ()
    label_keys: tuple[str, ...] = ()
    baseline_keys: tuple[str, ...] = ()
    blocking: tuple[BlockingRule, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    clustering: ClusteringSettings = field(default_factory=ClusteringSettings)
    identity_conflict: dict[str, float] = field(default_factory=dict)

    def comparison(self, name: str) -> Comparison:
        for comparison in self.comparisons:
            if comparison.name == name:
                return comparison
        raise KeyError(name)

    @property
    def fuzzy(self) -> bool:
        """Whether pairs are proposed, compared and scored (not identity keys only)."""
        return bool(self.blocking and self.comparisons)


@dataclass(frozen=True)
class ResolveSettings:
    types: dict[str, EntitySettings]
    order: tuple[str, ...] = ("permit", "address", "company", "person")
    link_only_across: str = ""
    file: str | None = None  # where the settings were read from, for error messages

    def columns(self, entity_type: str) -> dict[str, str]:
        """Every column the settings of one type read, with the section that names it.

        >>> default_settings().columns("address")
        {'address_key': '[types.address] identity_keys'}
        """
        entity = self.types[entity_type]
        where = f"[types.{entity_type}]"
        named = {}
        for label, keys in (("identity_keys", entity.identity_keys), ("conflict_keys", entity.conflict_keys),
                            ("label_keys", entity.label_keys), ("baseline_keys", entity.baseline_keys)):
            for key in keys:
                for column in key.split("+"):
                    named.setdefault(column, f"{where} {label}")
        for rule in entity.blocking:
            for column in (*rule.columns, *rule.equal, *rule.min_dice):
                named.setdefault(column, f"[types.{entity_type}.blocking] {rule.name}")
        for comparison in entity.comparisons:
            for column in (*comparison.columns, *([comparison.hardened_where] if comparison.hardened_where else []),
                           *comparison.common_values_over):
                named.setdefault(column, f"[types.{entity_type}.comparisons] {comparison.name}")
        if self.link_only_across:
            named.setdefault(self.link_only_across, "link_only_across")
        return named

    def to_dict(self) -> dict:
        """Plain data (for the run folder's JSON); :func:`settings_from_dict` reads it back."""
        return dataclasses.asdict(self)


def _tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _build(cls, raw: dict, where: str, file: str | None, **fixed):
    names = {f.name for f in dataclasses.fields(cls)} - set(fixed)
    unknown = sorted(set(raw) - names)
    if unknown:
        raise InputError(f"unknown setting(s) {', '.join(unknown)} in [{where}]; known: {', '.join(sorted(names))}",
                         file=file)
    values = dict(raw)
    for f in dataclasses.fields(cls):
        if f.name in values and isinstance(values[f.name], list):
            values[f.name] = tuple(values[f.name])
    return cls(**values, **fixed)


def _entity(entity_type: str, raw: dict, file: str | None) -> EntitySettings:
    where = f"types.{entity_type}"
    raw = dict(raw)
    blocking = tuple(
        _build(BlockingRule, {**rule, "columns": _tuple(rule.get("columns", ()))}, f"{where}.blocking", file)
        for rule in raw.pop("blocking", [])
    )
    comparisons = tuple(_build(Comparison, c, f"{where}.comparisons", file) for c in raw.pop("comparisons", []))
    scoring = _build(ScoringSettings, raw.pop("scoring", {}), f"{where}.scoring", file)
    clustering = _build(ClusteringSettings, raw.pop("clustering", {}), f"{where}.clustering", file)
    conflict = dict(raw.pop("identity_conflict", {}))
    entity = _build(EntitySettings, raw, where, file, entity_type=entity_type, blocking=blocking,
                    comparisons=comparisons, scoring=scoring, clustering=clustering, identity_conflict=conflict)
    _check(entity, file)
    return entity


def _check_common_values(comparison: Comparison, entity: EntitySettings, where: str, file: str | None) -> None:
    """``common_values_over`` must be a list of columns the type's mentions can carry (a string
    would be read letter by letter, a misspelled column dropped without a word), and
    ``common_values_alike`` must be a table of the type's other comparisons with a value from
    0 to 1 each, read only beside ``common_values_over``."""
    setting = f"[{where}.comparisons] {comparison.name}: common_values_over"
    if isinstance(comparison.common_values_over, str):
        raise InputError(f"{setting} must be a list of columns, got the string {comparison.common_values_over!r}",
                         file=file)
    known = ENTITY_FIELDS.get(entity.entity_type)
    unknown = sorted(set(comparison.common_values_over) - set(known)) if known else []
    if unknown:
        raise InputError(f"{setting} names unknown column(s) {unknown}; known: {', '.join(sorted(known))}", file=file)
    alike = comparison.common_values_alike
    setting = f"[{where}.comparisons] {comparison.name}: common_values_alike"
    if not isinstance(alike, dict) or not all(_is_share(v) for v in alike.values()):
        raise InputError(f"{setting} must be a table of comparison = number from 0 to 1, "
                         f"e.g. {{ family_name_dice = 0.9 }}; got {alike!r}", file=file)
    if alike and not comparison.common_values_over:
        raise InputError(f"{setting} needs common_values_over (it groups the keys those columns make)", file=file)
    if comparison.name in alike:
        raise InputError(f"{setting} names the comparison itself: every key of a value agrees with itself "
                         f"there, and each value would count as one person", file=file)
    unknown = sorted(set(alike) - {c.name for c in entity.comparisons})
    if unknown:
        raise InputError(f"{setting} names unknown comparison(s) {unknown}", file=file)


def _is_share(value) -> bool:
    """A number from 0 to 1 (not a string, not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _check(entity: EntitySettings, file: str | None) -> None:
    where = f"types.{entity.entity_type}"
    for rule in entity.blocking:
        if rule.kind not in BLOCKING_KINDS:
            raise InputError(f"[{where}.blocking] {rule.name}: kind must be one of {BLOCKING_KINDS}", file=file)
        if not rule.columns:
            raise InputError(f"[{where}.blocking] {rule.name}: names no columns", file=file)
        if not isinstance(rule.missing_passes, bool):  # "false" or 0 would read as true, or pass unnoticed
            raise InputError(f"[{where}.blocking] {rule.name}: missing_passes must be true or false, got "
                             f"{type(rule.missing_passes).__name__} {rule.missing_passes!r}", file=file)
        if not rule.missing_passes and not rule.min_dice:
            raise InputError(f"[{where}.blocking] {rule.name}: missing_passes = false needs min_dice (it says which "
                             f"columns both sides must carry)", file=file)
    for comparison in entity.comparisons:
        if comparison.name in RESERVED_COLUMNS:
            raise InputError(f"[{where}.comparisons] {comparison.name}: this name is a column of the matches table; "
                             f"choose another (reserved: {', '.join(RESERVED_COLUMNS)})", file=file)
        if comparison.kind not in COMPARISON_KINDS:
            raise InputError(f"[{where}.comparisons] {comparison.name}: kind must be one of {COMPARISON_KINDS}", file=file)
        needed = {"dice": 1, "exact": 1, "crossed_dice": 2, "relation": 0, "initials": 1}[comparison.kind]
        if len(comparison.columns) < needed:
            raise InputError(f"[{where}.comparisons] {comparison.name}: needs {needed} column(s)", file=file)
        if comparison.kind == "relation" and not (comparison.relation_types and comparison.neighbour_type):
            raise InputError(f"[{where}.comparisons] {comparison.name}: needs relation_types and neighbour_type", file=file)
        unknown = sorted(set(comparison.redundant_with) - {c.name for c in entity.comparisons})
        if unknown:
            raise InputError(f"[{where}.comparisons] {comparison.name}: redundant_with names unknown comparison(s) "
                             f"{unknown}", file=file)
        earlier = {c.name for c in entity.comparisons[: entity.comparisons.index(comparison)]}
        unknown = sorted(set(comparison.counts_where_below) - earlier)
        if unknown:
            raise InputError(f"[{where}.comparisons] {comparison.name}: counts_where_below names comparison(s) "
                             f"{unknown} that do not come before it", file=file)
        _check_common_values(comparison, entity, where, file)
        if list(comparison.levels) != sorted(comparison.levels, reverse=True):
            raise InputError(f"[{where}.comparisons] {comparison.name}: levels must go from high to low", file=file)
        if not 0.0 <= comparison.unrelated_share < 1.0:
            raise InputError(f"[{where}.comparisons] {comparison.name}: unrelated_share must be at least 0 and "
                             f"below 1, got {comparison.unrelated_share}", file=file)
    if entity.scoring.method not in SCORING_METHODS:
        raise InputError(f"[{where}.scoring] method must be one of {SCORING_METHODS}", file=file)
    limit = entity.scoring.conflict_pairs
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:  # 0 meant one pair, "2000000" failed later
        raise InputError(f"[{where}.scoring] conflict_pairs must be a whole number of at least 1, got "
                         f"{type(limit).__name__} {limit!r}", file=file)
    patterns = math.prod(len(c.levels) + 2 for c in entity.comparisons)
    if entity.scoring.method in ("auto", "logistic") and entity.label_keys and patterns >= LOGISTIC_PATTERN_LIMIT:
        raise InputError(f"[{where}.comparisons] {len(entity.comparisons)} comparisons with their levels give "
                         f"{patterns} patterns of levels, more than the logistic scorer can number "
                         f"({LOGISTIC_PATTERN_LIMIT}): use fewer comparisons or levels", file=file)
    names = {c.name for c in entity.comparisons}
    unknown = sorted(set(entity.identity_conflict) - names)
    if unknown:
        raise InputError(f"[{where}.identity_conflict] names unknown comparison(s) {unknown}", file=file)
    for rule in entity.scoring.rules:
        unknown = sorted(set(rule) - names)
        if unknown:
            raise InputError(f"[{where}.scoring] rule names unknown comparison(s) {unknown}", file=file)
    _check_key_features(entity, where, file)


def identifier_feature(key: str) -> str:
    """The feature column that says whether two mentions agree on an identifier key.

    >>> identifier_feature("partner+permit_number")
    'partner_permit_number_agree'
    """
    return key.replace("+", "_") + "_agree"


def _check_key_features(entity: EntitySettings, where: str, file: str | None) -> None:
    """Every identity, conflict and label key adds its agreement column to the features
    (``bsn`` → ``bsn_agree``): a comparison by that name would take its place. A label key is
    never scored either: an exact comparison on it would hand the model its own labels."""
    for setting in ("identity_keys", "conflict_keys", "label_keys"):
        for key in getattr(entity, setting):
            for comparison in entity.comparisons:
                if comparison.name == identifier_feature(key):
                    raise InputError(f"[{where}.comparisons] {comparison.name}: this name is the agreement column "
                                     f"of the key {key!r} ({setting}); choose another", file=file)
                if setting == "label_keys" and comparison.kind == "exact" and comparison.columns[0] == key:
                    raise InputError(f"[{where}.comparisons] {comparison.name}: compares the label key {key!r} "
                                     f"(label_keys), which must not also be scored", file=file)


def settings_from_dict(raw: dict, file: str | None = None) -> ResolveSettings:
    """Settings from plain data (a parsed TOML or JSON document)."""
    raw = dict(raw)
    types_raw = raw.pop("types", {})
    types = {}
    for name, body in types_raw.items():
        body = {k: v for k, v in body.items() if k != "entity_type"}
        types[name] = _entity(name, body, file)
    settings = _build(ResolveSettings, raw, "top level", file, types=types)
    missing = [t for t in settings.order if t not in types]
    if missing:
        raise InputError(f"order names entity type(s) {missing} that have no [types.NAME] section", file=file)
    return settings


def load_settings(path: str | Path) -> ResolveSettings:
    """Read settings from a TOML file; errors name the file and the setting."""
    path = Path(path)
    if not path.is_file():
        raise InputError("settings file does not exist", file=str(path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=str(path)) from exc
    return dataclasses.replace(settings_from_dict(raw, file=str(path)), file=str(path))


def default_settings() -> ResolveSettings:
    """The shipped settings for partner mentions (persons, companies, addresses, permits)."""
    return load_settings(DEFAULT_SETTINGS)
