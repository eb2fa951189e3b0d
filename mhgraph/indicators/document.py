"""``docs/indicators.md``, written from ``definitions.toml``.

The document holds a hand-written part (what an indicator is, how the score is made, the
fairness measurement) and, below a marker line, the part :func:`render_rules` writes from the
definitions: the table of rules, one section per rule with its thresholds and reason sentence,
and the ranking parameters. :func:`update_document` rewrites that part; a test checks that the
document is up to date. From the command line: ``python -m mhgraph.indicators.document``.

>>> text = render_rules()
>>> "### `crowded_address` v1" in text and "`min_persons` (default 8)" in text
True
>>> "`min_persons` = 7: fewest distinct persons for a weak signal" in text
True
"""

from __future__ import annotations

import sys
from pathlib import Path

from mhgraph.contract import rewrite_below_marker
from mhgraph.indicators.registry import DEFINITIONS, FAMILIES, INDICATORS, Indicator, Threshold

__all__ = ["DOCUMENT", "MARKER", "render_rules", "update_document"]

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "indicators.md"
MARKER = ("<!-- Everything below is written by mhgraph.indicators.document.update_document from "
          "mhgraph/indicators/definitions.toml; do not edit. -->")


def _value(threshold: Threshold) -> str:
    if threshold.reference:
        return f"`mhgraph.reference.{threshold.reference}`"
    if isinstance(threshold.default, tuple):
        return ", ".join(f"`{v}`" for v in threshold.default)
    return f"{threshold.default}"


def _text(rule: Indicator, key: str) -> str:
    """A prose field of the rule on one line, threshold names shown with their defaults."""
    shown = {name: f"`{name}` (default {_value(t)})" for name, t in rule.threshold_docs.items()}
    return " ".join(rule.texts[key].format_map(shown).split())


def _section(rule: Indicator) -> list[str]:
    context = ", context only" if rule.context_only else ""
    lines = [f"### `{rule.name}` v{rule.version}", "",
             f"*{rule.description}* Family: {rule.family}; weight {rule.weight:g}{context}.", ""]
    for key, title in (("pattern", "Pattern"), ("purpose_rule", "Purpose rule"), ("why", "Why"),
                       ("look_alikes", "Look-alikes"), ("who_can_act", "Who can act")):
        if rule.texts[key]:
            lines.append(f"- **{title}.** {_text(rule, key)}")
    lines.append("- **Thresholds.** " + "; ".join(
        f"`{name}` = {_value(t)}: {t.means}" for name, t in rule.threshold_docs.items()) + ".")
    if rule.weak_docs:
        lines.append("- **Weak level** (a weak hit: past it, under the thresholds). " + "; ".join(
            f"`{name}` = {_value(t)}: {t.means}" for name, t in rule.weak_docs.items()) + ".")
    else:
        lines.append("- **Weak level.** None: every hit is a full hit.")
    if rule.magnitude:
        m = rule.magnitude
        lines.append(f"- **Magnitude.** A full hit's weight grows with `{m.fact}` past `{m.past}`: each one adds "
                     f"{m.step:g} of the weight, up to {m.cap:g} times it"
                     f"{f', only where `{m.only_where}` holds: {m.only_where_means}' if m.only_where else ''}"
                     f"; {m.means}. Added to the reason: "
                     f"`{m.reason}` (Dutch: `{m.reason_nl}`).")
    lines.append(f"- **Reason sentence.** `{rule.reason}`")
    if rule.reason_nl:
        lines.append(f"- **Reason sentence in Dutch** (the case-meeting documents). `{rule.reason_nl}`")
    if rule.cypher:
        lines.append(f"- **Cypher.** `mhgraph/queries/{rule.cypher}.cypher`, with the same reason sentence.")
    else:
        lines.append(f"- **Cypher.** {' '.join(rule.no_cypher.split())}")
    return lines + [""]


def render_rules() -> str:
    """The generated part of ``docs/indicators.md``."""
    lines = [f"## The rules (ruleset {DEFINITIONS['ruleset']})", "",
             "| rule | version | family | weight | partners whose records it uses | Cypher form |",
             "|---|---|---|---|---|---|"]
    for rule in INDICATORS.values():
        weight = f"{rule.weight:g}" + (", context only" if rule.context_only else "")
        cypher = f"`{rule.cypher}`" if rule.cypher else "no (see below)"
        lines.append(f"| `{rule.name}` | {rule.version} | {rule.family} | {weight} | "
                     f"{', '.join(rule.partners)} | {cypher} |")
    lines += ["", "Families of evidence:", "", "| family | what its rules say | rules |", "|---|---|---|"]
    for family, meaning in FAMILIES.items():
        members = ", ".join(f"`{r.name}`" for r in INDICATORS.values() if r.family == family)
        lines.append(f"| {family} | {meaning} | {members} |")
    lines += ["", "Graded evidence: a rule with a *weak level* also reports a hit that passes that level but not its "
              "thresholds, as a weak hit (`grade` \"weak\" in `indicator_hits`). A weak hit carries `weak_share` of "
              "its rule's weight and counts only in a cluster that has a hit of another family of evidence; alone it "
              "raises nothing. Each rule's section lists its weak level.",
              "", "Ranking parameters (`mhgraph.rank`):", "", "| parameter | value | meaning |", "|---|---|---|"]
    for name, entry in DEFINITIONS["ranking"].items():
        lines.append(f"| `{name}` | {entry['value']} | {entry['means']} |")
    lines.append("")
    for rule in INDICATORS.values():
        lines += _section(rule)
    return "\n".join(lines)


def update_document(path: str | Path = DOCUMENT) -> bool:
    """Rewrite the generated part of the document at ``path``; ``True`` when it changed."""
    return rewrite_below_marker(path, MARKER, render_rules())


if __name__ == "__main__":
    changed = update_document(sys.argv[1] if len(sys.argv) > 1 else DOCUMENT)
    print("docs/indicators.md " + ("rewritten" if changed else "already up to date"))
