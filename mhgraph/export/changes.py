"""The "what changed since" section at the top of ``summary.md`` and ``index.html``, in Dutch or
English, from the changes :func:`mhgraph.diff.diff_runs` found.

>>> changes = {"since": "2026-01-15T02:00:00+00:00", "previous_run_id": "ab12", "new": [],
...     "grown": [{"cluster_id": "C0005", "members_before": 10, "members_after": 12, "members_joined": 3,
...                "members_left": 1}], "shrunk": [], "changed": [], "dissolved": [],
...     "indicators": {"fired": [], "stopped": []}}
>>> from mhgraph.export.document import to_markdown
>>> print(to_markdown(change_blocks(changes, "nl")).splitlines()[0])
## Wat is er veranderd sinds 2026-01-15
>>> print(to_markdown(change_blocks(changes, "en")).splitlines()[-1])
  - `C0005`: 10 → 12 members (3 joined, 1 left)
"""

from __future__ import annotations

from mhgraph.diff import CHANGE_KINDS, STOPPED_BECAUSE
from mhgraph.export.document import Block, Bullets, Heading, Item, Paragraph, Text

__all__ = ["LANGUAGES", "change_blocks"]

LANGUAGES = ("nl", "en")

# Each phrase in Dutch and English, side by side.
_PHRASES = {
    "heading": ("Wat is er veranderd sinds {since}", "What changed since {since}"),
    "compared": (
        "Vergeleken met run {run} van {since}. Een cluster dat herkenbaar dezelfde groep is, houdt zijn nummer; "
        "het gaat om clusters waar in een van beide runs een indicator op wijst.",
        "Compared with run {run} of {since}. A cluster that is recognisably the same group keeps its number; "
        "listed are the clusters an indicator points at in either run."),
    "nothing": ("Niets veranderd: dezelfde clusters, dezelfde indicatoren.",
                "Nothing changed: the same clusters, the same indicators."),
    "new": ("Nieuwe clusters", "New clusters"),
    "grown": ("Gegroeid", "Grown"),
    "shrunk": ("Gekrompen", "Shrunk"),
    "changed": ("Andere leden, even groot", "Other members, same size"),
    "dissolved": ("Opgeheven", "Dissolved"),
    "fired": ("Indicatoren die nu voor het eerst afgaan", "Indicators that newly fired"),
    "stopped": ("Indicatoren die niet meer afgaan", "Indicators that stopped"),
    "members": ("leden", "members"),
    "now_in": ("leden nu in", "members now in"),
    "came_from": ("leden uit", "members from"),
    "turnover": ("{joined} erbij, {left} weg", "{joined} joined, {left} left"),
    "focus_gone": ("de gegevens van de betrokken entiteit zijn er niet meer", STOPPED_BECAUSE["focus_gone"]),
    "records_gone": ("{records_gone} van de {records} onderliggende gegevens zijn er niet meer",
                     STOPPED_BECAUSE["records_gone"]),
    "partner_gone": ("de regel steunt op wat {partners_gone} vastlegde, en die gegevens zitten niet in deze run",
                     STOPPED_BECAUSE["partner_gone"]),
    "rule_no_longer_holds": ("de regel gaat op de gegevens van deze run niet meer op",
                             STOPPED_BECAUSE["rule_no_longer_holds"]),
}
_WORDS = {language: {key: phrases[i] for key, phrases in _PHRASES.items()} for i, language in enumerate(LANGUAGES)}


def _shares(entries: list[dict]) -> str:
    return ", ".join(f"{entry['cluster_id']} ({entry['members']})" for entry in entries)


def _cluster_item(entry: dict, kind: str, words: dict) -> Item:
    before, after = entry["members_before"], entry["members_after"]
    size = {"new": f"{after} {words['members']}", "dissolved": f"{before} {words['members']}"}.get(
        kind, f"{before} → {after} {words['members']}")
    origin = {"new": ("came_from", entry.get("came_from")), "dissolved": ("now_in", entry.get("now_in"))}.get(kind)
    tail = f"; {words[origin[0]]} {_shares(origin[1])}" if origin and origin[1] else ""
    if "members_joined" in entry:
        tail = " (" + words["turnover"].format(joined=entry["members_joined"], left=entry["members_left"]) + ")"
    return Item((Text(entry["cluster_id"], "code"), Text(f": {size}{tail}")))


def _hit_item(hit: dict, words: dict) -> Item:
    content = [Text(hit["cluster_id"], "code"), Text(" "), Text(hit["indicator"], "code"), Text(f": {hit['reason']}")]
    if "stopped_because" in hit:
        content.append(Text(" — " + words[hit["stopped_because"]].format(
            records_gone=hit.get("records_gone"), records=hit.get("records"), partners_gone=hit.get("partners_gone"))))
    return Item(tuple(content))


def change_blocks(changes: dict, language: str = "en") -> list[Block]:
    """The section: a heading with the date of the earlier run, then per kind of change the
    clusters and indicator hits it holds, or one sentence when nothing changed."""
    words = _WORDS[language]
    since = str(changes.get("since") or "?")[:10]
    kinds = [(kind, [_cluster_item(entry, kind, words) for entry in changes[kind]])
             for kind in CHANGE_KINDS]
    kinds += [(kind, [_hit_item(hit, words) for hit in changes["indicators"][kind]]) for kind in ("fired", "stopped")]
    listed = [Item((Text(f"{words[kind]} ({len(items)})", "strong"),), (Bullets(tuple(items)),))
              for kind, items in kinds if items]
    return [
        Heading(2, (Text(words["heading"].format(since=since)),)),
        Paragraph((Text(words["compared"].format(run=changes.get("previous_run_id") or "?", since=since)),)),
        Bullets(tuple(listed)) if listed else Paragraph((Text(words["nothing"]),)),
    ]
