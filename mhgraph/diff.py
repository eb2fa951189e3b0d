"""What changed between two runs: clusters matched by their members, cluster ids that stay,
and the diff a scheduled run reports.

**Following entities.** An entity of the earlier run corresponds to every entity of the later
run that holds one of its partner records (the same ``mention_id`` with the same content) or
one of its keyed identifiers (the same partner, field and keyed value: BSN, V-number, KvK
number, wage-tax number, address key, permit number). Entity ids alone would not do: an id is
derived from the entity's lowest mention id, so it changes when records come or go.

**Matching clusters.** For an earlier cluster ``A`` and a later cluster ``B``, ``A'`` is the set
of later entities ``A``'s members correspond to and ``shared`` the number of them in ``B``. ``B``
is ``A``'s candidate when it holds more than half of ``A'`` (so ``A`` has at most one). When
several earlier clusters have the same candidate, the one sharing most members gets it (then
the higher Jaccard index ``shared / (|A'| + |B| - shared)``, then the lower earlier id). So a
group that grew or lost members is paired; in a *split*, the part holding most of the members
is paired and the other parts are new; in a *merge*, the part that brought most members is
paired and the others dissolved into it; a group that fell apart into pieces none of which
holds most of it dissolved.

**Stable ids** (:func:`carry_cluster_ids`): a paired cluster keeps its earlier id; an unpaired
one gets the next number never used before in this line of runs (the manifest keeps the
highest number issued as ``cluster_ids.high_water``), in the order detection numbered them
(largest first). An id is never given to another group later.

**The diff** (:func:`diff_runs`) is about the clusters the ranking flagged (``flagged``: the
clusters put in front of an analyst) in either run: ``new``, ``grown``, ``shrunk``, ``changed`` (as many members, not the same
ones), ``dissolved`` and the indicator hits that newly ``fired`` or ``stopped``, each with its
reason. A rerun on unchanged data gives empty lists.

>>> import polars as pl
>>> old = RunTables(
...     mentions=pl.DataFrame({"mention_id": ["m1", "m2", "m3"], "partner": ["kvk"] * 3}),
...     resolution=pl.DataFrame({"mention_id": ["m1", "m2", "m3"], "entity_id": ["P-1", "P-2", "C-1"]}),
...     communities=pl.DataFrame({"entity_id": ["P-1", "P-2", "C-1"], "cluster_id": ["C0007"] * 3,
...                               "cluster_size": [3] * 3}))
>>> new = RunTables(
...     mentions=pl.DataFrame({"mention_id": ["m1", "m3", "m4"], "partner": ["kvk"] * 3}),
...     resolution=pl.DataFrame({"mention_id": ["m1", "m3", "m4"], "entity_id": ["P-1", "C-1", "P-9"]}),
...     communities=pl.DataFrame({"entity_id": ["P-1", "C-1", "P-9"], "cluster_id": ["C0001"] * 3,
...                               "cluster_size": [3] * 3}))
>>> match_clusters(old, new).rows()
[('C0007', 'C0001', 2)]
>>> carry_cluster_ids(new.communities, new, old)
({'C0001': 'C0007'}, {'previous_run_id': None, 'carried': 1, 'new': 0, 'high_water': 7})
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from mhgraph.errors import InputError, MhgraphError

__all__ = ["IDENTITY_FIELDS", "STOPPED_BECAUSE", "RunTables", "carry_cluster_ids", "changes_are_empty", "changes_json",
           "diff", "diff_runs", "match_clusters", "rename_clusters"]

# Keyed identifiers that name one entity within a partner's records.
IDENTITY_FIELDS = ("bsn", "v_number", "kvk_number", "wage_tax_number", "address_key", "permit_number")
CHANGE_KINDS = ("new", "grown", "shrunk", "changed", "dissolved")
_MEMBERSHIP_TABLES = ("mentions", "resolution", "communities")
# Why an indicator hit stopped, by code.
STOPPED_BECAUSE = {
    "focus_gone": "the records of its focus entity are no longer in the data",
    "records_gone": "{records_gone} of the {records} records behind it are no longer in the data",
    "partner_gone": "it rests on what {partners_gone} stated, whose records are not in this run",
    "rule_no_longer_holds": "its rule no longer holds on the records of this run",
}


@dataclass(frozen=True)
class RunTables:
    """The tables of one run that a comparison needs. ``clusters``, ``hits``, ``relation_ids``
    (every ``relation_id`` of the run) and ``manifest`` are only needed for :func:`diff_runs`."""

    mentions: pl.DataFrame
    resolution: pl.DataFrame
    communities: pl.DataFrame
    clusters: pl.DataFrame | None = None
    hits: pl.DataFrame | None = None
    relation_ids: pl.Series | None = None
    manifest: dict = field(default_factory=dict)

    @classmethod
    def read(cls, out_dir: str | Path) -> RunTables:
        """Read a finished run folder (``mhgraph run --out OUT_DIR``)."""
        out_dir = Path(out_dir)
        manifest_path = out_dir / "run_manifest.json"
        if not manifest_path.is_file():
            raise InputError("not a finished run: the run manifest is missing", file=str(manifest_path))
        paths = {name: out_dir / "tables" / f"{name}.parquet"
                 for name in (*_MEMBERSHIP_TABLES, "clusters", "indicator_hits", "edges")}
        for path in paths.values():
            if not path.is_file():
                raise InputError("not a finished run: a table is missing", file=str(path))
        return cls(
            mentions=pl.read_parquet(paths["mentions"]),
            resolution=pl.read_parquet(paths["resolution"], columns=["mention_id", "entity_id"]),
            communities=pl.read_parquet(paths["communities"]),
            clusters=pl.read_parquet(paths["clusters"]).select(pl.col("cluster_id", "score", "size"),
                                                              pl.col("^flagged$")),
            hits=pl.read_parquet(paths["indicator_hits"]),
            relation_ids=pl.read_parquet(paths["edges"], columns=["relation_id"])["relation_id"],
            manifest=json.loads(manifest_path.read_text(encoding="utf-8")),
        )


def _anchors(run: RunTables) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What each entity is made of: ``(entity_id, mention_id, content)`` for its records (content:
    a hash of everything the record says) and ``(entity_id, partner, field, value)`` for its keyed
    identifiers."""
    mentions = run.mentions.join(run.resolution.select("mention_id", "entity_id"), on="mention_id")
    content = [c for c in run.mentions.columns if c != "row_number"]  # a record's place in its file may move
    records = mentions.select("entity_id", "mention_id", content=pl.struct(content).hash())
    keys = [c for c in IDENTITY_FIELDS if c in mentions.columns]
    identifiers = (
        mentions.select("entity_id", "partner", *[pl.col(k).cast(pl.String) for k in keys])
        .unpivot(index=["entity_id", "partner"], on=keys, variable_name="field")
        .drop_nulls("value")
        .unique()
    )
    return records, identifiers


def _correspondence(old: RunTables, new: RunTables) -> pl.DataFrame:
    """``(old_entity, new_entity)``: pairs of entities that share a record or an identifier."""
    (old_records, old_keys), (new_records, new_keys) = _anchors(old), _anchors(new)
    pairs = [
        earlier.rename({"entity_id": "old_entity"}).join(later.rename({"entity_id": "new_entity"}), on=on)
        .select("old_entity", "new_entity")
        for earlier, later, on in ((old_records, new_records, ["mention_id", "content"]),
                                   (old_keys, new_keys, ["partner", "field", "value"]))
    ]
    return pl.concat(pairs).unique()


def _overlap(old: RunTables, new: RunTables, correspondence: pl.DataFrame) -> pl.DataFrame:
    """Every pair of an earlier and a later cluster sharing members, with ``shared`` (later
    members), ``kept`` (earlier members with a counterpart in the later cluster), ``followed``
    (``|A'|``), ``size`` (``|B|``) and ``jaccard``."""
    followed = correspondence.join(
        old.communities.select(old_entity="entity_id", previous_cluster_id="cluster_id"), on="old_entity")
    return (
        followed.join(new.communities.select(new_entity="entity_id", cluster_id="cluster_id", size="cluster_size"),
                      on="new_entity")
        .group_by("previous_cluster_id", "cluster_id", "size")
        .agg(shared=pl.col("new_entity").n_unique().cast(pl.Int64), kept=pl.col("old_entity").n_unique().cast(pl.Int64))
        .join(followed.group_by("previous_cluster_id").agg(followed=pl.col("new_entity").n_unique().cast(pl.Int64)),
              on="previous_cluster_id")
        .with_columns(jaccard=pl.col("shared") / (pl.col("followed") + pl.col("size") - pl.col("shared")))
    )


def _pair(overlap: pl.DataFrame) -> pl.DataFrame:
    """The one-to-one pairing of the module docstring: ``(previous_cluster_id, cluster_id, shared)``."""
    candidates = (
        overlap.filter(2 * pl.col("shared") > pl.col("followed"))
        .sort(["shared", "jaccard", "previous_cluster_id", "cluster_id"], descending=[True, True, False, False])
    )
    taken_old, taken_new, pairs = set(), set(), []
    for old_id, new_id, shared in candidates.select("previous_cluster_id", "cluster_id", "shared").iter_rows():
        if old_id not in taken_old and new_id not in taken_new:
            taken_old.add(old_id)
            taken_new.add(new_id)
            pairs.append((old_id, new_id, shared))
    return pl.DataFrame(pairs, schema={"previous_cluster_id": pl.String, "cluster_id": pl.String, "shared": pl.Int64},
                        orient="row").sort("previous_cluster_id")


def match_clusters(old: RunTables, new: RunTables) -> pl.DataFrame:
    """Which cluster of ``new`` is which cluster of ``old``: ``(previous_cluster_id,
    cluster_id, shared)``, one row per pair (the rule is in the module docstring)."""
    return _pair(_overlap(old, new, _correspondence(old, new)))


def _number(cluster_ids: pl.Series) -> int:
    numbers = cluster_ids.str.extract(r"^C(\d+)$").cast(pl.Int64)
    return int(numbers.max() or 0)


def carry_cluster_ids(communities: pl.DataFrame, current: RunTables, previous: RunTables
                      ) -> tuple[dict[str, str], dict]:
    """New names for the clusters of ``communities`` (as :func:`~mhgraph.detect.detect_communities`
    numbered them): each cluster paired with one of ``previous`` gets that one's id, every
    other one a number never issued before, in detection's order. Returns the names
    (detected id -> id) and what was done (``carried``, ``new``, ``high_water``). ``current``
    holds this run's ``mentions`` and ``resolution`` (its ``communities`` are ``communities``);
    :func:`rename_clusters` applies the names."""
    current = RunTables(current.mentions, current.resolution, communities)
    pairs = match_clusters(previous, current)
    high_water = max(int((previous.manifest.get("cluster_ids") or {}).get("high_water") or 0),
                     _number(previous.communities["cluster_id"]))
    detected = communities.select("cluster_id").unique().sort("cluster_id")["cluster_id"]
    carried = dict(zip(pairs["cluster_id"], pairs["previous_cluster_id"]))
    unpaired = [cluster for cluster in detected if cluster not in carried]
    new_high_water = high_water + len(unpaired)
    width = max(4, len(str(new_high_water)))
    names = carried | {cluster: f"C{high_water + i:0{width}d}" for i, cluster in enumerate(unpaired, start=1)}
    info = {"previous_run_id": previous.manifest.get("run_id"), "carried": len(carried), "new": len(unpaired),
            "high_water": new_high_water}
    return names, info


def rename_clusters(tables: dict[str, pl.DataFrame], names: dict[str, str]) -> dict[str, pl.DataFrame]:
    """The tables of ``tables`` that have a ``cluster_id`` column, with the ids renamed by ``names``.

    >>> rename_clusters({"communities": pl.DataFrame({"entity_id": ["P-1"], "cluster_id": ["C0001"]}),
    ...                  "nodes": pl.DataFrame({"entity_id": ["P-1"]})}, {"C0001": "C0042"})["communities"].rows()
    [('P-1', 'C0042')]
    """
    return {name: table.with_columns(pl.col("cluster_id").replace_strict(names, return_dtype=pl.String))
            for name, table in tables.items() if "cluster_id" in table.columns}


def _sizes(run: RunTables) -> dict[str, int]:
    return dict(run.communities.select("cluster_id", "cluster_size").unique().iter_rows())


def _flagged(run: RunTables) -> set[str]:
    """The clusters the ranking flagged (a run from before the flag existed: those with a score)."""
    flag = pl.col("flagged") if "flagged" in run.clusters.columns else pl.col("score") > 0
    return set(run.clusters.filter(flag)["cluster_id"].to_list())


def _shares(overlap: pl.DataFrame, key: str, value: str, cluster: str) -> list[dict]:
    rows = overlap.filter(pl.col(key) == cluster).sort(["shared", value], descending=[True, False])
    return [{"cluster_id": other, "members": shared} for other, shared in rows.select(value, "shared").iter_rows()]


def _stopped_why(hit: dict, followed: set[str], relation_ids: set[str], partners: set[str]) -> dict:
    """Why a hit stopped: ``stopped_because`` (a key of :data:`STOPPED_BECAUSE`) and ``why_stopped``;
    ``partners``: the partners with records in the later run."""
    evidence = list(hit.get("evidence") or [])
    gone = sum(1 for relation in evidence if relation not in relation_ids)
    absent = sorted(set(hit.get("partners") or []) - partners)
    details = {"records_gone": gone, "records": len(evidence), "partners_gone": ", ".join(absent)}
    because = ("focus_gone" if hit["focus_entity"] not in followed else "records_gone" if gone
               else "partner_gone" if absent else "rule_no_longer_holds")
    shown = {"records_gone": ("records_gone", "records"), "partner_gone": ("partners_gone",)}.get(because, ())
    return {"stopped_because": because, **{key: details[key] for key in shown},
            "why_stopped": STOPPED_BECAUSE[because].format(**details)}


def _hit_changes(old: RunTables, new: RunTables, correspondence: pl.DataFrame,
                 old_scope: set[str], new_scope: set[str]) -> dict[str, list[dict]]:
    """Hits that newly fired (in ``new_scope`` clusters) or stopped (in ``old_scope`` clusters).
    A hit continues when the other run has a hit of the same indicator on a corresponding entity."""
    columns = ["indicator", "focus_entity", "cluster_id", "reason"]
    continuing = (
        old.hits.select("indicator", old_entity="focus_entity")
        .join(correspondence, on="old_entity")
        .join(new.hits.select("indicator", new_entity="focus_entity"), on=["indicator", "new_entity"])
    )
    fired = (new.hits.join(continuing, left_on=["indicator", "focus_entity"], right_on=["indicator", "new_entity"],
                           how="anti")
             .filter(pl.col("cluster_id").is_in(sorted(new_scope))).sort(columns)
             .select(columns + [c for c in ("reason_nl",) if c in new.hits.columns]))
    stopped = (old.hits.join(continuing, left_on=["indicator", "focus_entity"], right_on=["indicator", "old_entity"],
                             how="anti")
               .filter(pl.col("cluster_id").is_in(sorted(old_scope))).sort(columns))
    followed = set(correspondence["old_entity"].to_list())
    relation_ids = set(new.relation_ids.to_list()) if new.relation_ids is not None else set()
    partners = set(new.mentions["partner"].unique().to_list())
    return {
        "fired": fired.to_dicts(),
        "stopped": [{**{c: hit[c] for c in columns + ["reason_nl"] if c in hit},
                     **_stopped_why(hit, followed, relation_ids, partners)}
                    for hit in stopped.to_dicts()],
    }


def diff_runs(old: RunTables, new: RunTables) -> dict:
    """What changed from run ``old`` to run ``new`` among the clusters an indicator points at in
    either: ``new``, ``grown``, ``shrunk``, ``changed`` (as many members, not the same ones),
    ``dissolved`` (each entry ``cluster_id``, ``members_before``, ``members_after``; a paired
    cluster also ``members_joined`` and ``members_left``, and ``previous_cluster_id`` when its
    id differs; a new cluster ``came_from``, a dissolved one ``now_in``) and
    ``indicators`` (``fired`` and ``stopped`` hits, each with ``reason`` and, where the run has it, the Dutch
    ``reason_nl``; a stopped one also
    ``why_stopped`` and its code ``stopped_because``: ``focus_gone``, ``records_gone``,
    ``partner_gone`` or ``rule_no_longer_holds``). Runs with different purposes are not compared: the diff would carry one
    purpose's findings into the other."""
    purposes = {run.manifest.get("run_purpose") for run in (old, new)} - {None}
    if len(purposes) > 1:
        raise MhgraphError(f"the runs have different purposes ({', '.join(sorted(purposes))}); comparing them "
                           "would carry one purpose's findings into the other")
    correspondence = _correspondence(old, new)
    overlap = _overlap(old, new, correspondence)
    pairs = _pair(overlap)
    to_new = dict(zip(pairs["previous_cluster_id"], pairs["cluster_id"]))
    to_old = {new_id: old_id for old_id, new_id in to_new.items()}
    flagged_old, flagged_new = _flagged(old), _flagged(new)
    before, after = _sizes(old), _sizes(new)
    changes: dict = {"since": old.manifest.get("started"), "previous_run_id": old.manifest.get("run_id"),
                     "run_id": new.manifest.get("run_id"), **{kind: [] for kind in CHANGE_KINDS}}
    for cluster in sorted(flagged_new - set(to_old)):
        changes["new"].append({"cluster_id": cluster, "members_before": 0, "members_after": after[cluster],
                               "came_from": _shares(overlap, "cluster_id", "previous_cluster_id", cluster)})
    for cluster in sorted(flagged_old - set(to_new)):
        changes["dissolved"].append({"cluster_id": cluster, "members_before": before[cluster], "members_after": 0,
                                     "now_in": _shares(overlap, "previous_cluster_id", "cluster_id", cluster)})
    turnover = {(old_id, new_id): (size - shared, before[old_id] - kept) for old_id, new_id, size, shared, kept
                in overlap.select("previous_cluster_id", "cluster_id", "size", "shared", "kept").iter_rows()}
    for old_id, new_id in sorted(to_new.items()):
        joined, left = turnover[old_id, new_id]
        if (old_id in flagged_old or new_id in flagged_new) and (joined or left):
            entry = {"cluster_id": new_id, "members_before": before[old_id], "members_after": after[new_id],
                     "members_joined": joined, "members_left": left}
            if old_id != new_id:
                entry["previous_cluster_id"] = old_id
            growth = after[new_id] - before[old_id]
            changes["grown" if growth > 0 else "shrunk" if growth < 0 else "changed"].append(entry)
    new_scope = flagged_new | {to_new[c] for c in flagged_old if c in to_new}
    old_scope = flagged_old | {to_old[c] for c in flagged_new if c in to_old}
    changes["indicators"] = _hit_changes(old, new, correspondence, old_scope, new_scope)
    return changes


def changes_are_empty(changes: dict) -> bool:
    """True when ``changes`` names no cluster and no indicator hit."""
    return not any(changes[kind] for kind in CHANGE_KINDS) and not any(changes["indicators"].values())


def changes_json(changes: dict) -> str:
    """``changes`` as the text of ``changes.json`` and of ``mhgraph diff``'s output."""
    return json.dumps(changes, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def diff(old_out: str | Path, new_out: str | Path) -> dict:
    """:func:`diff_runs` of two finished run folders (what ``mhgraph diff`` prints)."""
    return diff_runs(RunTables.read(old_out), RunTables.read(new_out))
