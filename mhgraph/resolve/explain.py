"""Why two mentions are, or are not, one entity.

:func:`explain_match` puts together, for any two mentions: the entity each ended in, whether
the run compared them and which blocking rule proposed them, how their identifiers compare
(agree / differ / missing — never the values), every comparison's value with its level and
the weight in bits it adds, the prior weight, the resulting score against the threshold, and
the decision with its reason. A pair that the run never compared is compared and scored now
with the run's own settings and fitted model, read from the run folder's JSON; so is a pair
between two different values of a conflict key (two BSNs), which the run scores but does not write.

``mhgraph explain-match RUN_DIR MENTION_A MENTION_B`` prints the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from mhgraph.errors import InputError
from mhgraph.resolve.block import key_codes
from mhgraph.resolve.compare import compare_type, identifier_feature, identifier_keys
from mhgraph.resolve.pipeline import Resolved, load_run
from mhgraph.resolve.score import RuleScorer, level_labels, levels_of
from mhgraph.resolve.settings import Comparison

__all__ = ["Explanation", "explain_match"]

# A comparison with no value while both mentions hold its field: the settings leave it out for
# this pair, so that one agreement is not counted twice or a value that says nothing is not
# weighed (a Dice beside initials, all names where the fields agree, initials between names
# of like length, a match key where its fields agree exactly).
NOT_USED = "not used"


@dataclass
class Explanation:
    mention_a: str
    mention_b: str
    entity_type: str
    entity_a: str
    entity_b: str
    compared: bool
    blocked_by: str | None
    identifiers: dict[str, str]
    fields: pl.DataFrame  # field, value, level, weight_bits
    prior_weight: float | None
    score: float | None
    threshold: float | None
    decision: str
    reason: str
    model: str
    conflicting: tuple[str, ...] = ()  # conflict keys whose values differ, for a pair the run did not write

    @property
    def same_entity(self) -> bool:
        return self.entity_a == self.entity_b

    def _compared_line(self) -> str:
        if self.compared:
            return "compared in the run: yes, proposed by " + str(self.blocked_by)
        if self.conflicting:
            # the run writes no such pair, so whether a blocking rule proposed it is not known
            keys = " and ".join(self.conflicting)
            learns = ("rules learn from no pair" if self.model.startswith("RuleScorer") else
                      "when a blocking rule proposes them the model learns from them (or from a sample of them)")
            return (f"compared in the run: not recorded — the pair holds two different {keys} values; such pairs are "
                    f"never merged and not written to matches; {learns}; scored now with the run's model")
        return ("compared in the run: no (no blocking rule proposed this pair, or another mention of the same "
                "identity group stood for one side); scored now with the run's model")

    def __str__(self) -> str:
        lines = [
            f"mention A: {self.mention_a}  ->  {self.entity_a}",
            f"mention B: {self.mention_b}  ->  {self.entity_b}",
            f"entity type: {self.entity_type}; same entity: {'yes' if self.same_entity else 'no'}",
            self._compared_line(),
        ]
        if self.identifiers:
            lines.append("identifiers: " + "; ".join(f"{k}: {v}" for k, v in self.identifiers.items()))
        if self.fields.height:
            lines.append(f"{'field':<24} {'value':>8}  {'level':<10} {'weight (bits)':>13}")
            for row in self.fields.iter_rows(named=True):
                value = "-" if row["level"] == NOT_USED else (
                    "missing" if row["value"] is None or np.isnan(row["value"]) else f"{row['value']:.3f}")
                weight = "" if row["weight_bits"] is None else f"{row['weight_bits']:+.2f}"
                lines.append(f"{row['field']:<24} {value:>8}  {row['level']:<10} {weight:>13}")
            if (self.fields["level"] == NOT_USED).any():
                lines.append(f"({NOT_USED}: both mentions hold the field, but for this pair it counts nothing: "
                             "another comparison counts the same evidence, or it does not apply)")
        if self.score is not None:
            prior = f"prior weight {self.prior_weight:+.2f} bits; " if self.prior_weight is not None else ""
            now = "" if self.compared else ", computed now"
            lines.append(f"{prior}model {self.model}: score {self.score:.4f}{now} (threshold {self.threshold})")
        lines.append(f"decision: {self.decision} — {self.reason}")
        return "\n".join(lines)


def _identifier_status(frame: pl.DataFrame, key: str) -> str:
    codes = key_codes(frame, key)
    a, b = int(codes[0]), int(codes[1])
    if a < 0 and b < 0:
        return "missing on both"
    if a < 0 or b < 0:
        return f"only on {'B' if a < 0 else 'A'}"
    return "agree" if a == b else "DIFFER"


def _held_by_both(pair: pl.DataFrame, comparison: Comparison) -> bool:
    """Whether both mentions of ``pair`` hold every column ``comparison`` reads: then its
    missing value means it does not count for this pair (see :data:`NOT_USED`), not that a
    side lacks the field. A relational comparison reads no column of its own."""
    return comparison.kind != "relation" and all(
        c in pair.columns and pair[c].null_count() == 0 for c in comparison.columns)


def _unknown_mention(mention: str, mentions: pl.DataFrame) -> InputError:
    """The error for a mention id the table lacks, with the form of one and an example: the
    mentions of the record it names (a bare record id, or a full id with another role), else the
    first mention ids. A mention id is the partner's record id with its source and role, never
    plaintext: ingest refuses a record id that holds a BSN, postcode or other identifier."""
    if "/" in mention:  # source/record_id/role: the record's own mentions share all but the role
        same_record = mentions.filter(pl.col("mention_id").str.starts_with(mention.rsplit("/", 1)[0] + "/"))
    elif "record_id" in mentions.columns:
        same_record = mentions.filter(pl.col("record_id") == mention)
    else:
        same_record = mentions.clear()
    # the first three, without sorting the whole column (millions of ids)
    examples = (same_record if same_record.height else mentions)["mention_id"].bottom_k(3).sort().to_list()
    example = ", ".join(repr(m) for m in examples) or "none: the table is empty"
    return InputError(f"mention {mention!r} is not in the mentions table; a mention id reads "
                      f"source/record_id/role, such as {example}", column="mention_id")


def _from_run_dir(run_dir: Path) -> tuple[Resolved, pl.DataFrame, pl.DataFrame | None]:
    mentions_file = run_dir / "tables" / "mentions.parquet"
    if not mentions_file.is_file():
        raise InputError("the run folder lacks its mentions table", file=str(mentions_file))
    relations_file = run_dir / "tables" / "relations.parquet"
    relations = pl.read_parquet(relations_file) if relations_file.is_file() else None
    return load_run(run_dir), pl.read_parquet(mentions_file), relations


def explain_match(mention_a: str, mention_b: str, resolved: Resolved | str | Path,
                  mentions: pl.DataFrame | None = None, relations: pl.DataFrame | None = None) -> Explanation:
    """Explain the pair ``mention_a``, ``mention_b`` after a run.

    ``resolved``: the result of :func:`~mhgraph.resolve.resolve` (then pass ``mentions`` and
    ``relations`` too), or a run folder, from which the mentions, relations, resolution,
    matches and the saved model are read.
    """
    if isinstance(resolved, (str, Path)):
        resolved, mentions, relations = _from_run_dir(Path(resolved))
    if mentions is None:
        raise ValueError("explain_match needs the mentions table (or a run folder)")
    if mention_a == mention_b:
        raise InputError(f"the two mentions are the same ({mention_a!r}): name two mentions to compare",
                         column="mention_id")
    a, b = sorted((mention_a, mention_b))
    frame = mentions.filter(pl.col("mention_id").is_in([a, b])).sort("mention_id")
    for mention in (a, b):
        if mention not in frame["mention_id"].to_list():
            raise _unknown_mention(mention, mentions)
    entity_of = dict(resolved.resolution.filter(pl.col("mention_id").is_in([a, b])).select("mention_id", "entity_id").iter_rows())
    types = frame["entity_type"].to_list()
    if types[0] != types[1]:
        return Explanation(a, b, f"{types[0]} / {types[1]}", entity_of.get(a, "?"), entity_of.get(b, "?"), False, None,
                           {}, pl.DataFrame(), None, None, None, "non_match",
                           "different entity types are never one entity", "none")
    entity_type = types[0]
    entity = resolved.settings.types.get(entity_type)
    # a scan when the run wrote its matches to a file: only the pair is read
    recorded = resolved.scan_matches().filter((pl.col("mention_a") == a) & (pl.col("mention_b") == b)).collect()
    compared = recorded.height > 0
    if entity is None:
        return Explanation(a, b, entity_type, entity_of[a], entity_of[b], False, None, {}, pl.DataFrame(), None, None,
                           None, "non_match", f"no settings for {entity_type}: each mention stays alone", "none")
    if compared:
        features = recorded
    else:
        pair = pl.DataFrame({"mention_a": [a], "mention_b": [b], "entity_type": [entity_type], "blocked_by": [None]},
                            schema_overrides={"blocked_by": pl.String})
        # the whole type, so that relational evidence spans identity groups as in the run
        typed = mentions.filter(pl.col("entity_type") == entity_type).sort("mention_id")
        features = compare_type(pair, typed, entity, relations, resolved.resolution)
    identifiers = {key.replace("+", " and "): _identifier_status(frame, key) for key in identifier_keys(entity)}
    scorer = resolved.scorers.get(entity_type)
    rows = []
    prior = score = None
    model = "none"
    if scorer is not None:
        model = type(scorer).__name__
        score = float(scorer.predict_proba(features)[0, 1])
        if isinstance(scorer, RuleScorer):
            fired = int(scorer.fired(features)[0])
            model += f" (rule {fired + 1} holds)" if fired >= 0 else " (no rule holds)"
        else:
            prior = float(scorer.prior_weight_)
            weights = scorer.contributions(features).row(0, named=True)
    for comparison in entity.comparisons:
        value = features[comparison.name][0] if comparison.name in features.columns else None
        value = float("nan") if value is None else float(value)
        level = int(levels_of(np.array([value]), comparison.levels)[0])
        if level >= 0:
            shown = level_labels(comparison.levels)[level]
        else:
            shown = NOT_USED if _held_by_both(frame, comparison) else "missing"
        rows.append({"field": comparison.name, "value": value, "level": shown,
                     "weight_bits": weights[comparison.name] if prior is not None else None})
    fields = pl.DataFrame(rows, schema={"field": pl.String, "value": pl.Float64, "level": pl.String, "weight_bits": pl.Float64})
    conflicting = ()
    if compared:
        decision, reason = recorded["decision"][0], recorded["reason"][0]
        blocked_by = recorded["blocked_by"][0]
    else:
        blocked_by = None
        decision = "match" if entity_of[a] == entity_of[b] else "non_match"
        conflicting = tuple(k for k in entity.conflict_keys if features[identifier_feature(k)][0] == 0.0)
        if conflicting:
            decision, reason = "conflicting_identifier", "different " + ", ".join(conflicting)
        elif decision == "match":
            reason = "same entity through other links"
        else:
            reason = "never compared, so never linked directly" + (
                "" if score is None else f"; its score now would be {score:.3f}")
    return Explanation(a, b, entity_type, entity_of[a], entity_of[b], compared, blocked_by, identifiers, fields,
                       prior, score, entity.scoring.threshold, decision, reason, model, conflicting)
