"""The "what changed since" section at the top of ``summary.md`` and ``index.html``, in Dutch or
English, from the changes :func:`mhgraph.diff.diff_runs` found (``changes.json``).

>>> changes = {"since": "2026-01-15T02:00:00+00:00", "previous_run_id": "ab12", "new": [],
...     "grown": [{"cluster_id": "C0005", "members_before": 10, "members_after": 12, "members_joined": 3,
...                "members_left": 1}], "shrunk": [], "changed": [], "dissolved": [],
...     "indicators": {"fired": [], "stopped": []}}
>>> from mhgraph.export.document import to_markdown
>>> print(to_markdown(changes_blocks(changes, "nl")).splitlines()[0])
## Wat veranderde sinds 2026-01-15
>>> print(to_markdown(changes_blocks(changes, "en")).splitlines()[-1])
  - `C0005`: 10 → 12 members (3 joined, 1 left)
>>> changes_blocks(None, "nl")
[]
"""

from __future__ import annotations

from mhgraph.diff import CHANGE_KINDS
from mhgraph.export.document import Block, Bullets, Heading, Item, Paragraph, Text
from mhgraph.export.i18n import words

__all__ = ["changes_blocks"]


def _shares(entries: list[dict]) -> str:
    return ", ".join(f"{entry['cluster_id']} ({entry['members']})" for entry in entries)


def _cluster_item(entry: dict, kind: str, phrases: dict) -> Item:
    before, after = entry["members_before"], entry["members_after"]
    size = {"new": f"{after} {phrases['members']}", "dissolved": f"{before} {phrases['members']}"}.get(
        kind, f"{before} → {after} {phrases['members']}")
    origin = {"new": ("came_from", entry.get("came_from")), "dissolved": ("now_in", entry.get("now_in"))}.get(kind)
    tail = f"; {phrases[origin[0]]} {_shares(origin[1])}" if origin and origin[1] else ""
    if "members_joined" in entry:
        tail = " (" + phrases["turnover"].format(joined=entry["members_joined"], left=entry["members_left"]) + ")"
    return Item((Text(entry["cluster_id"], "code"), Text(f": {size}{tail}")))


def _hit_item(hit: dict, phrases: dict, lang: str) -> Item:
    reason = (hit.get("reason_nl") if lang == "nl" else None) or hit["reason"]
    content = [Text(hit["cluster_id"], "code"), Text(" "), Text(hit["indicator"], "code"), Text(f": {reason}")]
    if "stopped_because" in hit:
        content.append(Text(" — " + phrases[hit["stopped_because"]].format(
            records_gone=hit.get("records_gone"), records=hit.get("records"), partners_gone=hit.get("partners_gone"))))
    return Item(tuple(content))


def changes_blocks(changes: dict | None, lang: str) -> list[Block]:
    """The section: a heading with the date of the earlier run, then per kind of change the
    clusters and indicator hits it holds, or one sentence when nothing changed; nothing at all
    without ``changes`` (a run without ``--previous``)."""
    if changes is None:
        return []
    phrases = words(lang)["changes"]
    since = str(changes.get("since") or "?")[:10]
    kinds = [(kind, [_cluster_item(entry, kind, phrases) for entry in changes[kind]]) for kind in CHANGE_KINDS]
    kinds += [(kind, [_hit_item(hit, phrases, lang) for hit in changes["indicators"][kind]])
              for kind in ("fired", "stopped")]
    listed = [Item((Text(f"{phrases[kind]} ({len(items)})", "strong"),), (Bullets(tuple(items)),))
              for kind, items in kinds if items]
    return [
        Heading(2, (Text(words(lang)["changes_heading"].format(since=since)),)),
        Paragraph((Text(phrases["compared"].format(run=changes.get("previous_run_id") or "?", since=since)),)),
        Bullets(tuple(listed)) if listed else Paragraph((Text(phrases["nothing"]),)),
    ]
