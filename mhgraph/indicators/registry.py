"""The registry of rules: ``definitions.toml`` read once, and the step from a rule's findings to hits.

A rule is written as a plain function ``find(nodes, edges, *, thresholds...)`` that returns its
*findings*: one row per focus entity with ``focus_entity``, ``evidence`` (relation ids), the
facts its reason sentence needs and, optionally, ``extra_partners`` (partners whose entity
attributes the finding rests on). :func:`rule` turns it into the public indicator function
``indicator(nodes, edges, communities=None, *, thresholds...)`` that returns ``indicator_hits``
rows: it takes the threshold defaults, weight, version and reason sentence from
``definitions.toml``, fills absent optional columns of the graph tables, and writes the reason.

A rule may also have a *weak level* (``weak.<threshold>`` in ``definitions.toml``): the same
pattern under looser thresholds, a signal just under the threshold. :func:`graded_hits` runs a
rule at both levels; a focus entity found only at the weak level becomes a *weak* hit: its
weight is the rule's times ``weak_share`` and its reason says that it lies under the thresholds
(which the sentence shows). The ranking counts a weak hit only beside evidence of another family.

A rule may also have a *magnitude* (``magnitude`` in ``definitions.toml``): a full hit's weight
grows with how far a count of its finding lies past a threshold — each unit past it adds
``step`` of the weight, up to ``cap`` times the weight — and its reason says so. Eight of ten
workers paid under the minimum say more than the two that pass the threshold:

>>> import polars as pl
>>> nodes = pl.DataFrame({"entity_id": ["C1"] + [f"P{i}" for i in range(6)],
...                       "entity_type": ["company"] + ["person"] * 6})
>>> edges = pl.DataFrame({"relation_id": [f"r{i}" for i in range(6)], "type": ["EMPLOYED_BY"] * 6,
...     "from_entity": [f"P{i}" for i in range(6)], "to_entity": ["C1"] * 6,
...     "valid_from": [dt.date(2024, 3, 1)] * 6, "wage": [700.0] * 6, "hours": [100.0] * 6,
...     "age_band": ["21+"] * 6, "partner": ["belastingdienst"] * 6})
>>> hit = INDICATORS["wage_below_minimum"].function(nodes, edges)
>>> hit["weight"][0], hit["reason"][0].split(". ")[-1]
(3.0, 'Weight ×2.00: 4 more employees paid below their minimum than the threshold.')

>>> INDICATORS["crowded_address"].thresholds
{'min_persons': 8}
>>> render_reason("straw_director", {"companies": 5, "brief": 4, "dissolved": 3}, {"min_short": 3, "max_days": 730})
'Officer of 5 companies, 4 of them briefly (office or company lasted under 730 days; 3 dissolved; threshold 3).'

Each hit also carries its reason in Dutch (``reason_nl``, from the rule's ``reason_nl``), which the
case-meeting documents show:

>>> render_reason("straw_director", {"companies": 1, "brief": 1, "dissolved": 0}, {"min_short": 3, "max_days": 730},
...               lang="nl")
'Functionaris van 1 bedrijf, waarvan 1 kort (functie of bedrijf duurde korter dan 730 dagen; 0 opgeheven; drempel 3).'
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import math
import re
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from mhgraph import reference
from mhgraph.indicators.tables import EDGE_DEFAULTS, NODE_DEFAULTS, day_text, ensure

__all__ = ["DEFINITIONS", "DEFINITIONS_PATH", "FAMILIES", "GRADES", "HIT_SCHEMA", "INDICATORS", "RANKING",
           "WEAK_PREFIX", "WEAK_PREFIX_NL", "DefinitionError", "Indicator", "Magnitude", "Threshold", "complete_registry",
           "graded_hits", "render_reason",
           "rule", "with_cluster_ids"]

DEFINITIONS_PATH = Path(__file__).with_name("definitions.toml")

HIT_SCHEMA = {
    "indicator": pl.String(),
    "version": pl.String(),
    "focus_entity": pl.String(),
    "cluster_id": pl.String(),
    "reason": pl.String(),
    "reason_nl": pl.String(),
    "evidence": pl.List(pl.String()),
    "partners": pl.List(pl.String()),
    "weight": pl.Float64(),
}

# The grade of a hit (column ``grade`` of ``indicator_hits``, beside the columns above): past the
# rule's thresholds, or only past its weak level.
GRADES = ("full", "weak")
WEAK_PREFIX = "Weak signal, under the thresholds (counts only beside evidence of another family): "
WEAK_PREFIX_NL = "Zwak signaal, onder de drempels (telt alleen naast bewijs van een andere soort): "

_RULE_KEYS = {"version", "family", "weight", "partners", "summary", "thresholds", "weak", "reason", "reason_nl",
              "pattern", "why",
              "look_alikes", "who_can_act", "purpose_rule", "cypher", "no_cypher", "context_only", "magnitude"}
_MAGNITUDE_KEYS = {"fact", "past", "step", "cap", "means", "reason", "reason_nl"}
_MAGNITUDE_OPTIONAL_KEYS = {"only_where", "only_where_means"}


class DefinitionError(ValueError):
    """``definitions.toml`` and the code of a rule disagree, or the file is malformed."""


@dataclass(frozen=True)
class Threshold:
    """One threshold of a rule: its default (the value in the file, or the named table of
    :mod:`mhgraph.reference`), and what it means in words."""

    name: str
    default: object
    means: str
    reference: str | None = None


@dataclass(frozen=True)
class Magnitude:
    """How a full hit's weight grows with a count of its finding: ``fact`` (a fact of the reason
    sentence) past the threshold ``past``, each unit adding ``step`` of the weight, up to ``cap``
    times it; ``reason`` / ``reason_nl`` (facts ``factor``, ``weight`` — the weight it gives —,
    ``past``, ``cap`` and ``cap_from``, the count from which the cap is reached) are added to the hit's reason.
    ``only_where``: a true/false column of the finding; the weight grows only where it is true
    (``only_where_means`` says what it means)."""

    fact: str
    past: str
    step: float
    cap: float
    means: str
    reason: str
    reason_nl: str
    only_where: str | None = None
    only_where_means: str = ""

    def factor(self, count: int, threshold: int) -> float:
        """The weight's multiplier for ``count`` at threshold ``threshold`` (at least 1).

        >>> Magnitude("below", "min_employees", 0.25, 2.0, "", "", "").factor(5, 2)
        1.75
        """
        return min(self.cap, max(1.0, 1.0 + self.step * (count - threshold)))

    def cap_from(self, threshold: int) -> int:
        """The smallest count whose weight is at the cap.

        >>> Magnitude("persons", "min_employees", 0.5, 3.0, "", "", "").cap_from(3)
        7
        """
        return threshold + math.ceil(round((self.cap - 1.0) / self.step, 9))


@dataclass(frozen=True)
class Indicator:
    """One rule of the registry, as ``definitions.toml`` describes it, with its function."""

    name: str
    version: str
    family: str
    weight: float
    partners: tuple[str, ...]
    description: str
    reason: str
    threshold_docs: dict[str, Threshold]
    texts: dict[str, str] = field(repr=False)  # pattern, purpose_rule, why, look_alikes, who_can_act
    function: Callable[..., pl.DataFrame] = field(repr=False)
    context_only: bool = False
    cypher: str | None = None  # the statement in mhgraph/queries, if the rule has a Cypher form
    no_cypher: str | None = None  # otherwise: why not
    options: tuple[str, ...] = ()  # keyword arguments a run passes in (not thresholds)
    weak_docs: dict[str, Threshold] = field(default_factory=dict)  # the weak level: thresholds it loosens
    find: Callable[..., pl.DataFrame] | None = field(default=None, repr=False)  # the findings, before hits
    reason_nl: str = ""  # the reason sentence in Dutch (the English one where the rule has none)
    magnitude: Magnitude | None = None  # how a full hit's weight grows with the size of its finding
    whole_graph: str | None = None  # why the rule cannot run per unit of connected components, if it cannot
    # thresholds that only bound a count of each finding from below: threshold -> that fact (see graded_hits)
    counts: dict[str, str] = field(default_factory=dict)

    @property
    def thresholds(self) -> dict[str, object]:
        """Threshold name -> default value."""
        return {name: t.default for name, t in self.threshold_docs.items()}

    @property
    def weak_thresholds(self) -> dict[str, object]:
        """Threshold name -> value at the weak level (only the thresholds it loosens; empty: no weak level)."""
        return {name: t.default for name, t in self.weak_docs.items()}

    @functools.cached_property
    def reason_fields(self) -> list[str]:
        """The facts the reason sentence needs from a finding (threshold names excluded)."""
        return [f for f in _fields(self.reason) if f not in self.threshold_docs]


def _fields(template: str) -> list[str]:
    return list(dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(template) if name))


def _load(path: Path = DEFINITIONS_PATH) -> dict:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{path}: not valid TOML: {exc}") from exc
    families = raw.get("families", {})
    for name, body in raw.items():
        if not isinstance(body, dict) or name in ("ranking", "families", "reason_nl_words"):
            continue
        unknown = set(body) - _RULE_KEYS
        missing = {"version", "family", "weight", "partners", "summary", "reason", "thresholds"} - set(body)
        if unknown or missing:
            raise DefinitionError(f"{path}: [{name}] has unknown key(s) {sorted(unknown)} or lacks {sorted(missing)}")
        if body["family"] not in families:
            raise DefinitionError(f"{path}: [{name}] family {body['family']!r} is not one of [families]")
        if set(body.get("weak", {})) - set(body["thresholds"]):
            raise DefinitionError(f"{path}: [{name}] weak level names unknown threshold(s) "
                                  f"{sorted(set(body['weak']) - set(body['thresholds']))}")
        if set(_fields(body.get("reason_nl", ""))) - set(_fields(body["reason"])) - set(body["thresholds"]):
            raise DefinitionError(f"{path}: [{name}] reason_nl uses facts the English reason does not: "
                                  f"{sorted(set(_fields(body['reason_nl'])) - set(_fields(body['reason'])))}")
        magnitude = body.get("magnitude")
        if magnitude is not None and (not _MAGNITUDE_KEYS <= set(magnitude) <= _MAGNITUDE_KEYS | _MAGNITUDE_OPTIONAL_KEYS
                                      or ("only_where" in magnitude) != ("only_where_means" in magnitude)
                                      or magnitude["past"] not in body["thresholds"]
                                      or magnitude["fact"] not in _fields(body["reason"]) or body.get("cypher")):
            raise DefinitionError(f"{path}: [{name}] magnitude needs exactly {sorted(_MAGNITUDE_KEYS)} (and may have "
                                  f"both or neither of {sorted(_MAGNITUDE_OPTIONAL_KEYS)}), a threshold as `past`, "
                                  "a fact of the reason as `fact`, and no Cypher form")
        if bool(body.get("cypher")) == bool(body.get("no_cypher")):
            raise DefinitionError(f"{path}: [{name}] needs either `cypher` (a statement) or `no_cypher` (why not)")
    return raw


DEFINITIONS = _load()
RANKING: dict[str, float | str] = {name: entry["value"] for name, entry in DEFINITIONS["ranking"].items()}
FAMILIES: dict[str, str] = dict(DEFINITIONS["families"])
INDICATORS: dict[str, Indicator] = {}
# English words inside facts -> Dutch, longest first (see definitions.toml)
_DUTCH_FACT_WORDS = sorted(DEFINITIONS.get("reason_nl_words", {}).items(), key=lambda item: -len(item[0]))


def _threshold(rule_name: str, name: str, raw: dict) -> Threshold:
    if "reference" in raw:
        return Threshold(name, getattr(reference, raw["reference"]), raw["means"], raw["reference"])
    if "value" not in raw or "means" not in raw:
        raise DefinitionError(f"{DEFINITIONS_PATH}: [{rule_name}] threshold {name} needs `value` and `means`")
    value = raw["value"]
    return Threshold(name, tuple(value) if isinstance(value, list) else value, raw["means"])


def _shown(value: object) -> object:
    """A fact as the reason sentence shows it: dates as YYYY-MM-DD, lists joined by commas."""
    if value is None or isinstance(value, dt.date):
        return day_text(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


class _Reason(string.Formatter):
    """Formats a reason: ``{n:?text with #}`` writes the text with ``#`` as ``n``, or nothing when
    ``n`` is 0, so that a sentence leaves out a clause its finding does not need."""

    def format_field(self, value, format_spec):
        if format_spec.startswith("?"):
            return format_spec[1:].replace("#", self.format_field(value, "")) if value else ""
        return super().format_field(value, format_spec)


class _Dutch(_Reason):
    """Formats a Dutch reason: decimal commas, ``{n:woord|woorden}``, and the words inside facts in Dutch."""

    def format_field(self, value, format_spec):
        if format_spec.startswith("?"):
            return super().format_field(value, format_spec)
        if "|" in format_spec:
            one, many = format_spec.split("|", 1)
            return f"{value} {one if value == 1 else many}"
        if isinstance(value, str):
            for english, dutch in _DUTCH_FACT_WORDS:
                value = value.replace(english, dutch)
            return _DECIMAL_POINT.sub(r"\1,\2", value)
        text = super().format_field(value, format_spec)
        return text.replace(".", ",") if isinstance(value, float) else text


_DECIMAL_POINT = re.compile(r"(\d)\.(\d)")


def render_reason(name: str, facts: Mapping[str, object], thresholds: Mapping[str, object], lang: str = "en") -> str:
    """The reason sentence of rule ``name`` for one finding: its template in ``definitions.toml``
    (``reason``, or ``reason_nl`` with ``lang="nl"``) filled with ``facts`` (from the finding, or
    from a Cypher result row) and ``thresholds``."""
    spec = INDICATORS[name]
    values = {k: _shown(v) for k, v in thresholds.items()}
    values.update({k: _shown(facts[k]) for k in spec.reason_fields})
    if lang == "nl" and spec.reason_nl:
        return _format(spec.reason_nl, values, lang)
    return _format(spec.reason, values, "en")


def _format(template: str, values: Mapping[str, object], lang: str) -> str:
    return (_Dutch() if lang == "nl" else _Reason()).vformat(template, (), values)


def rule(name: str, whole_graph: str | None = None, counts: Mapping[str, str] | None = None
         ) -> Callable[[Callable[..., pl.DataFrame]], Callable[..., pl.DataFrame]]:
    """Register ``find`` as indicator ``name``; its keyword-only parameters are the thresholds of
    ``definitions.toml`` (their defaults come from there) plus run options with a default.
    ``whole_graph``: why the rule looks beyond the connected component of its focus entity, if it
    does (then :func:`mhgraph.indicators.compute_indicators` never runs it per unit). ``counts``:
    the thresholds whose only effect is that each finding's count (a fact of its reason) reaches
    them — threshold name -> that fact; a lower value finds every finding of a higher one, the
    same, and more: then :func:`graded_hits` runs the rule once, at the weak level."""
    body = DEFINITIONS.get(name)
    if not isinstance(body, dict):
        raise DefinitionError(f"{DEFINITIONS_PATH} has no rule [{name}]")
    counts = dict(counts or {})
    if set(counts) - set(body["thresholds"]) or set(counts.values()) - set(_fields(body["reason"])):
        raise DefinitionError(f"rule {name}: counts {counts} must map thresholds to facts of its reason")

    def wrap(find: Callable[..., pl.DataFrame]) -> Callable[..., pl.DataFrame]:
        docs = {key: _threshold(name, key, raw) for key, raw in body["thresholds"].items()}
        keyword = [p for p in inspect.signature(find).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        options = tuple(p.name for p in keyword if p.name not in docs)
        if set(docs) - {p.name for p in keyword}:
            raise DefinitionError(f"rule {name}: thresholds {sorted(set(docs) - {p.name for p in keyword})} of "
                                  "definitions.toml are not parameters of its function")
        undefaulted = [o for o in options if next(p for p in keyword if p.name == o).default is inspect.Parameter.empty]
        if undefaulted:
            raise DefinitionError(f"rule {name}: parameters {undefaulted} are neither thresholds in definitions.toml "
                                  "nor options with a default")
        find.__kwdefaults__ = {**(find.__kwdefaults__ or {}), **{k: t.default for k, t in docs.items()}}
        head = [inspect.Parameter("nodes", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                inspect.Parameter("edges", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                inspect.Parameter("communities", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)]
        signature = inspect.Signature(head + [p.replace(default=find.__kwdefaults__[p.name]) for p in keyword])

        @functools.wraps(find)
        def indicator(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None,
                      **settings) -> pl.DataFrame:
            unknown = sorted(set(settings) - set(find.__kwdefaults__))
            if unknown:
                raise TypeError(f"{name}() got unknown keyword argument(s) {', '.join(unknown)}")
            settings = {**find.__kwdefaults__, **settings}
            nodes, edges = ensure(nodes, NODE_DEFAULTS), ensure(edges, EDGE_DEFAULTS)
            found = find(nodes, edges, **settings)
            return _hits(name, found, nodes, edges, communities, {k: settings[k] for k in docs})

        indicator.__signature__ = signature
        INDICATORS[name] = Indicator(
            name=name, version=str(body["version"]), family=body["family"], weight=float(body["weight"]),
            partners=tuple(body["partners"]), description=body["summary"], reason=body["reason"],
            reason_nl=body.get("reason_nl", ""),
            threshold_docs=docs, texts={k: body.get(k, "") for k in ("pattern", "purpose_rule", "why", "look_alikes", "who_can_act")},
            function=indicator, context_only=bool(body.get("context_only", False)), cypher=body.get("cypher"),
            no_cypher=body.get("no_cypher"), options=options,
            weak_docs={key: _threshold(name, key, raw) for key, raw in body.get("weak", {}).items()}, find=find,
            magnitude=Magnitude(**body["magnitude"]) if "magnitude" in body else None, whole_graph=whole_graph,
            counts=counts)
        return indicator

    return wrap


def graded_hits(name: str, nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None, *,
                settings: Mapping[str, object] | None = None, weak: Mapping[str, object] | None = None,
                weak_share: float = 0.5) -> pl.DataFrame:
    """The hits of rule ``name`` at its thresholds (``settings`` over the defaults), with ``grade``
    ``"full"``, and, with ``weak`` (thresholds of the weak level), the focus entities found only
    at that level as ``"weak"`` hits: weight times ``weak_share``, the reason prefixed with
    :data:`WEAK_PREFIX` and written with the thresholds the finding did not reach.

    Where the weak level only lowers thresholds that bound a count of each finding (``counts`` of
    :func:`rule`), the rule runs once, at the weak level, and its full findings are those whose
    counts reach the full thresholds: the same hits as running it at each level on its own. A rule
    taking ``between_levels`` gets one dict for both its levels, to keep work one level can grow.

    >>> import polars as pl
    >>> nodes = pl.DataFrame({"entity_id": ["P1", "P2", "A1"], "entity_type": ["person", "person", "address"]})
    >>> edges = pl.DataFrame({"relation_id": ["r1", "r2"], "type": ["REGISTERED_AT"] * 2,
    ...     "from_entity": ["P1", "P2"], "to_entity": ["A1", "A1"], "partner": ["kvk", "ind"]})
    >>> hit = graded_hits("crowded_address", nodes, edges, settings={"min_persons": 3}, weak={"min_persons": 2})
    >>> hit.select("grade", "weight").row(0)
    ('weak', 0.375)
    >>> print(hit["reason"][0].removeprefix(WEAK_PREFIX))
    2 distinct persons were registered at this address at the same time on an unknown date (threshold 3).
    """
    spec = INDICATORS[name]
    settings = dict(settings or {})
    if weak and "between_levels" in spec.options:  # what the rule keeps from one level to the next
        settings["between_levels"] = {}
    if not weak:
        return spec.function(nodes, edges, communities, **settings).with_columns(grade=pl.lit("full"))
    shown = {**spec.find.__kwdefaults__, **settings}
    if set(weak) <= set(spec.counts) and all(weak[key] <= shown[key] for key in weak):
        nodes, edges = ensure(nodes, NODE_DEFAULTS), ensure(edges, EDGE_DEFAULTS)
        found = spec.find(nodes, edges, **{**shown, **weak})
        reached = found if found.is_empty() else found.filter(
            pl.all_horizontal(pl.col(spec.counts[key]) >= shown[key] for key in weak))
        full = _hits(name, reached, nodes, edges, communities, {k: shown[k] for k in spec.threshold_docs}).with_columns(
            grade=pl.lit("full"))
    else:
        full = spec.function(nodes, edges, communities, **settings).with_columns(grade=pl.lit("full"))
        nodes, edges = ensure(nodes, NODE_DEFAULTS), ensure(edges, EDGE_DEFAULTS)
        found = spec.find(nodes, edges, **{**shown, **weak})
    if found.is_empty():
        return full
    found = found.join(full.select("focus_entity"), on="focus_entity", how="anti")
    below = _hits(name, found, nodes, edges, communities, {k: shown[k] for k in spec.threshold_docs}, magnify=False)
    return pl.concat([full, below.with_columns(
        reason=pl.lit(WEAK_PREFIX) + pl.col("reason"), reason_nl=pl.lit(WEAK_PREFIX_NL) + pl.col("reason_nl"),
        weight=pl.col("weight") * weak_share, grade=pl.lit("weak"))])


def complete_registry() -> None:
    """Check that every rule of ``definitions.toml`` has a function, and put :data:`INDICATORS` in
    the order of the file (called once all rule modules are imported)."""
    defined = [name for name, body in DEFINITIONS.items() if isinstance(body, dict) and "reason" in body]
    missing = sorted(set(defined) - set(INDICATORS))
    if missing:
        raise DefinitionError(f"{DEFINITIONS_PATH} defines rule(s) {', '.join(missing)} that no module implements")
    for name in defined:
        INDICATORS[name] = INDICATORS.pop(name)


def _reasons(name: str, facts: list[dict], thresholds: Mapping[str, object], lang: str) -> list[str]:
    """The reason sentence of each finding; findings with the same facts (one sector, say) share one."""
    written: dict[tuple, str] = {}
    reasons = []
    for row in facts:
        key = tuple(tuple(v) if isinstance(v, list) else v for v in row.values())
        if key not in written:
            written[key] = render_reason(name, row, thresholds, lang)
        reasons.append(written[key])
    return reasons


def _hits(name: str, found: pl.DataFrame, nodes: pl.DataFrame, edges: pl.DataFrame,
          communities: pl.DataFrame | None, thresholds: dict[str, object], magnify: bool = True) -> pl.DataFrame:
    """Turn a rule's findings into ``indicator_hits`` rows; ``magnify=False`` (weak hits) leaves
    the rule's magnitude out, which only a full hit earns.

    ``partners`` are the partners of the evidence relations plus ``extra_partners`` (partners
    whose entity attributes, such as a refusal, the finding rests on); a finding with neither
    takes the partners of its focus entity.
    """
    spec = INDICATORS[name]
    if found.is_empty():
        return pl.DataFrame(schema=HIT_SCHEMA)
    if "extra_partners" not in found.columns:
        found = found.with_columns(extra_partners=pl.lit([], dtype=pl.List(pl.String())))
    facts = list(found.select(spec.reason_fields).iter_rows(named=True))
    texts = {lang: _reasons(name, facts, thresholds, lang) for lang in ("en", "nl")}
    factors = [1.0] * len(facts)
    if spec.magnitude is not None and magnify:
        m = spec.magnitude
        grows = found.get_column(m.only_where).fill_null(False).to_list() if m.only_where else [True] * len(facts)
        factors = [m.factor(row[m.fact], thresholds[m.past]) if grow else 1.0 for row, grow in zip(facts, grows)]
        for lang, template in (("en", m.reason), ("nl", m.reason_nl)):
            texts[lang] = [text if factor == 1.0 else text + " " + _format(template, {
                "factor": factor, "weight": factor * spec.weight, "cap": m.cap,
                "cap_from": m.cap_from(thresholds[m.past]),
                "past": row[m.fact] - thresholds[m.past]}, lang)
                for text, factor, row in zip(texts[lang], factors, facts)]
    found = found.select("focus_entity", pl.col("evidence").list.unique().list.sort(), "extra_partners",
                         reason=pl.Series(texts["en"], dtype=pl.String), reason_nl=pl.Series(texts["nl"], dtype=pl.String),
                         _factor=pl.Series(factors, dtype=pl.Float64))
    # the evidence's edges and the focus entities' nodes are picked out before the joins: joined
    # whole, every rule at every level would hash all the edges and nodes of the graph; and only
    # the columns read are picked out (the nodes' lists of sources and purposes are most of a row)
    evidence = found.select("focus_entity", relation_id="evidence").explode("relation_id")
    evidence_partners = (
        pl.concat([
            evidence.join(rows_named(edges.select("relation_id", "partner"), "relation_id",
                                     evidence.get_column("relation_id"))
                          .select("relation_id", pl.col("partner").cast(pl.String)), on="relation_id", how="inner")
            .select("focus_entity", "partner"),
            found.select("focus_entity", partner="extra_partners").explode("partner"),
        ]).drop_nulls()
        .group_by("focus_entity").agg(pl.col("partner").unique().sort().alias("partners"))
    )
    own = rows_named(nodes.select("entity_id", "partners"), "entity_id", found.get_column("focus_entity"))
    hits = (
        found.drop("extra_partners").join(evidence_partners, on="focus_entity", how="left")
        .join(own.select(focus_entity="entity_id", _own="partners"), on="focus_entity", how="left")
        .with_columns(partners=pl.coalesce("partners", "_own", pl.lit([], dtype=pl.List(pl.String()))))
        .drop("_own")
    )
    hits = hits.with_columns(cluster_id=pl.lit(None, dtype=pl.String()))
    if communities is not None:
        hits = with_cluster_ids(hits, communities)
    return hits.with_columns(
        indicator=pl.lit(name), version=pl.lit(spec.version), weight=pl.col("_factor") * spec.weight,
    ).select(list(HIT_SCHEMA)).cast(HIT_SCHEMA).sort("focus_entity")


def rows_named(table: pl.DataFrame, column: str, values: pl.Series) -> pl.DataFrame:
    """The rows of ``table`` whose ``column`` is one of ``values``. Where that column is flagged
    sorted (:func:`~mhgraph.indicators.compute_indicators` flags the graph stage's relation and
    entity ids, which are, once it has checked them) each value is found by binary search, every
    row of a repeated one included; otherwise every row's value is looked up among them (4.5
    million relations and 1.5 million entities at a million persons, for every rule at both levels).

    >>> edges = pl.DataFrame({"relation_id": ["r1", "r2", "r2", "r3"], "partner": ["a", "b", "c", "d"]})
    >>> wanted = pl.Series(["r3", "r2", "r9"])
    >>> rows_named(edges, "relation_id", wanted).rows() == rows_named(
    ...     edges.with_columns(pl.col("relation_id").set_sorted()), "relation_id", wanted).sort("partner").rows()
    True
    >>> rows_named(edges, "relation_id", wanted).get_column("partner").to_list()
    ['b', 'c', 'd']
    """
    keys = table.get_column(column)
    if not keys.flags["SORTED_ASC"] or keys.null_count():
        return table.filter(pl.col(column).is_in(values.implode()))
    wanted = values.drop_nulls().unique()
    first = keys.search_sorted(wanted, side="left").to_numpy().astype(np.int64)
    count = keys.search_sorted(wanted, side="right").to_numpy().astype(np.int64) - first
    # every row of each value's run: its first row, then the next ones
    rows = np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())
    return table[rows]


def with_cluster_ids(hits: pl.DataFrame, communities: pl.DataFrame) -> pl.DataFrame:
    """``hits`` with the ``cluster_id`` of each focus entity in ``communities`` (null for an entity
    it lacks); the rows stay in their order.

    >>> hits = pl.DataFrame({"indicator": ["crowded_address"], "focus_entity": ["A1"], "cluster_id": [None]},
    ...                     schema_overrides={"cluster_id": pl.String})
    >>> with_cluster_ids(hits, pl.DataFrame({"entity_id": ["A1"], "cluster_id": ["C0001"]})).rows()
    [('crowded_address', 'A1', 'C0001')]
    """
    clusters = communities.select(focus_entity="entity_id", _cluster="cluster_id")
    return (hits.join(clusters, on="focus_entity", how="left", maintain_order="left")
            .with_columns(cluster_id=pl.col("_cluster").cast(pl.String)).drop("_cluster"))
