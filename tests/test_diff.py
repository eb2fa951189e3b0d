"""Matching clusters across runs, stable cluster ids and the diff: the rules on small cases."""

from __future__ import annotations

import polars as pl
import pytest

from mhgraph.diff import RunTables, carry_cluster_ids, changes_are_empty, diff_runs, match_clusters, rename_clusters
from mhgraph.errors import MhgraphError


def run(groups: dict[str, str], *, flagged: tuple[str, ...] = (), hits: list[tuple] = (),
        renamed: dict[str, str] | None = None, purpose: str = "riec_integral_assessment",
        relation_ids: tuple[str, ...] = ()) -> RunTables:
    """A run whose clusters are ``{cluster_id: "abc"}`` (one letter per entity, one record
    ``m-<letter>`` each; ``renamed`` gives an entity another id); ``hits`` are
    ``(indicator, focus letter, reason, evidence[, partners])``."""
    renamed = renamed or {}
    members = [(letter, cluster) for cluster, letters in groups.items() for letter in letters]

    def entity(letter: str) -> str:
        return renamed.get(letter, f"P-{letter}")

    sizes = {cluster: len(letters) for cluster, letters in groups.items()}
    cluster_of = {entity(letter): cluster for letter, cluster in members}
    return RunTables(
        mentions=pl.DataFrame({"mention_id": [f"m-{letter}" for letter, _ in members],
                               "partner": ["kvk"] * len(members)}),
        resolution=pl.DataFrame({"mention_id": [f"m-{letter}" for letter, _ in members],
                                 "entity_id": [entity(letter) for letter, _ in members]}),
        communities=pl.DataFrame({"entity_id": [entity(letter) for letter, _ in members],
                                  "cluster_id": [cluster for _, cluster in members],
                                  "cluster_size": [sizes[cluster] for _, cluster in members]}),
        clusters=pl.DataFrame({"cluster_id": list(groups), "score": [1.0 if c in flagged else 0.0 for c in groups],
                               "size": [sizes[c] for c in groups]}),
        hits=pl.DataFrame([{"indicator": name, "focus_entity": entity(letter), "cluster_id": cluster_of[entity(letter)],
                            "reason": reason, "evidence": list(evidence), "partners": list(partners[0] if partners else ["kvk"])}
                           for name, letter, reason, evidence, *partners in hits],
                          schema={"indicator": pl.String, "focus_entity": pl.String, "cluster_id": pl.String,
                                  "reason": pl.String, "evidence": pl.List(pl.String), "partners": pl.List(pl.String)}),
        relation_ids=pl.Series("relation_id", list(relation_ids), dtype=pl.String),
        manifest={"run_id": "r", "started": "2026-01-02T03:00:00+00:00", "run_purpose": purpose},
    )


def pairs(old: RunTables, new: RunTables) -> dict[str, str]:
    return dict(match_clusters(old, new).select("previous_cluster_id", "cluster_id").iter_rows())


def test_grown_and_shrunk_groups_are_paired():
    old = run({"C0001": "abcd", "C0002": "wxyz"})
    new = run({"C0001": "abcdef", "C0002": "wx"})
    assert pairs(old, new) == {"C0001": "C0001", "C0002": "C0002"}


def test_split_keeps_the_id_on_the_part_with_most_members():
    old = run({"C0001": "abcdef"})
    new = run({"C0001": "abcd", "C0002": "ef"})
    assert pairs(old, new) == {"C0001": "C0001"}
    even = run({"C0001": "abc", "C0002": "def"})
    assert pairs(old, even) == {}  # two halves: neither is the group


def test_merge_keeps_the_id_of_the_part_that_brought_most_members():
    old = run({"C0001": "ab", "C0002": "cdef"})
    assert pairs(old, run({"C0001": "abcdef"})) == {"C0002": "C0001"}


def test_group_that_fell_apart_is_not_paired():
    old = run({"C0001": "abcdef"})
    assert pairs(old, run({"C0001": "ab", "C0002": "cd", "C0003": "ef"})) == {}


def test_entities_are_followed_through_their_records_when_their_ids_change():
    old = run({"C0001": "abcd"})
    new = run({"C0009": "abcd"}, renamed={"a": "P-new-a", "b": "P-new-b", "c": "P-new-c"})
    assert pairs(old, new) == {"C0001": "C0009"}


def test_entities_are_followed_through_keyed_identifiers_when_records_are_redelivered():
    old = run({"C0001": "abc"})
    new = run({"C0001": "abc"})
    with_key = [frame.with_columns(bsn=pl.format("hash-{}", pl.col("mention_id")), mention_id=pl.col("mention_id") + suffix)
                for frame, suffix in ((old.mentions, ""), (new.mentions, "-again"))]
    old = RunTables(with_key[0], old.resolution, old.communities)
    resolution = new.resolution.with_columns(mention_id=pl.col("mention_id") + "-again")
    assert pairs(old, RunTables(with_key[1], resolution, new.communities)) == {"C0001": "C0001"}
    # without the identifier, a record delivered under a new id is a new record
    assert pairs(RunTables(old.mentions.drop("bsn"), old.resolution, old.communities),
                 RunTables(with_key[1].drop("bsn"), resolution, new.communities)) == {}


def test_carried_ids_stay_and_new_groups_get_numbers_never_used():
    old = run({"C0001": "abcdef", "C0002": "uvw", "C0003": "xy"})
    old.manifest["cluster_ids"] = {"high_water": 7}  # C0004..C0007 were issued once and dissolved
    detected = run({"C0001": "abcdeghi", "C0002": "st", "C0003": "xy", "C0004": "f"})
    names, info = carry_cluster_ids(detected.communities, detected, old)
    carried = rename_clusters({"communities": detected.communities}, names)["communities"]
    cluster_of = dict(carried.select("entity_id", "cluster_id").iter_rows())
    assert cluster_of["P-a"] == "C0001" and cluster_of["P-x"] == "C0003"
    assert cluster_of["P-s"] == "C0008" and cluster_of["P-f"] == "C0009"  # in detection's order
    assert info == {"previous_run_id": "r", "carried": 2, "new": 2, "high_water": 9}
    assert carried["cluster_size"].to_list() == detected.communities["cluster_size"].to_list()


def test_diff_names_each_kind_of_change_among_flagged_clusters():
    old = run({"C0001": "abcd", "C0002": "efgh", "C0003": "ijklmn", "C0004": "op", "C0005": "qrs", "C0008": "tuvw"},
              flagged=("C0001", "C0002", "C0003", "C0005", "C0008"),
              hits=[("wage_below_minimum", "a", "paid below minimum", ["r1"]),
                    ("crowded_address", "e", "12 persons", ["r2", "r3"]),
                    ("straw_director", "q", "5 directorships", ["r4"])])
    new = run({"C0001": "abcdxy", "C0002": "ef", "C0006": "ijk", "C0007": "lmn", "C0004": "op", "C0005": "qrs",
               "C0008": "tuvz"},
              flagged=("C0001", "C0004", "C0005", "C0008"),
              hits=[("wage_below_minimum", "a", "paid below minimum", ["r1"]),
                    ("phoenix_company", "o", "successor company", ["r9"])],
              relation_ids=("r1", "r2", "r4", "r9"))
    changes = diff_runs(old, new)
    assert changes["grown"] == [{"cluster_id": "C0001", "members_before": 4, "members_after": 6,
                                 "members_joined": 2, "members_left": 0}]
    assert changes["shrunk"] == [{"cluster_id": "C0002", "members_before": 4, "members_after": 2,
                                  "members_joined": 0, "members_left": 2}]
    assert changes["changed"] == [{"cluster_id": "C0008", "members_before": 4, "members_after": 4,
                                   "members_joined": 1, "members_left": 1}]
    assert changes["dissolved"] == [{"cluster_id": "C0003", "members_before": 6, "members_after": 0,
                                     "now_in": [{"cluster_id": "C0006", "members": 3},
                                                {"cluster_id": "C0007", "members": 3}]}]
    assert changes["new"] == []  # C0004 existed before; only its indicator is new
    fired, stopped = changes["indicators"]["fired"], changes["indicators"]["stopped"]
    assert [(h["cluster_id"], h["indicator"], h["reason"]) for h in fired] == [
        ("C0004", "phoenix_company", "successor company")]
    assert {(h["cluster_id"], h["indicator"], h["stopped_because"]) for h in stopped} == {
        ("C0002", "crowded_address", "records_gone"), ("C0005", "straw_director", "rule_no_longer_holds")}
    crowded = next(h for h in stopped if h["indicator"] == "crowded_address")
    assert crowded["why_stopped"] == "1 of the 2 records behind it are no longer in the data"
    assert changes["since"] == "2026-01-02T03:00:00+00:00" and not changes_are_empty(changes)


def test_hit_resting_on_a_partner_that_delivered_nothing_says_so():
    hit = ("link_to_earlier_refusal", "a", "1 step from a suspended sponsor", ["r1"], ["gemeente_arnhem", "ind"])
    old = run({"C0001": "abc"}, flagged=("C0001",), hits=[hit])
    new = run({"C0001": "abc"}, relation_ids=("r1",))
    stopped = diff_runs(old, new)["indicators"]["stopped"]
    assert [(h["stopped_because"], h["partners_gone"]) for h in stopped] == [("partner_gone", "gemeente_arnhem, ind")]
    assert stopped[0]["why_stopped"] == ("it rests on what gemeente_arnhem, ind stated, whose records are not in "
                                         "this run")


def test_new_cluster_says_where_its_members_came_from():
    old = run({"C0001": "abc", "C0002": "def"})
    new = run({"C0001": "abc", "C0002": "def", "C0003": "xyz"}, flagged=("C0003",))
    changes = diff_runs(old, new)
    assert changes["new"] == [{"cluster_id": "C0003", "members_before": 0, "members_after": 3, "came_from": []}]


def test_same_run_twice_is_an_empty_diff():
    groups = {"C0001": "abcd", "C0002": "efg"}
    hits = [("wage_below_minimum", "a", "paid below minimum", ["r1"])]
    changes = diff_runs(run(groups, flagged=("C0001",), hits=hits), run(groups, flagged=("C0001",), hits=hits))
    assert changes_are_empty(changes)
    assert all(changes[kind] == [] for kind in ("new", "grown", "shrunk", "changed", "dissolved"))


def test_runs_with_different_purposes_are_not_compared():
    with pytest.raises(MhgraphError, match="different purposes"):
        diff_runs(run({"C0001": "ab"}), run({"C0001": "ab"}, purpose="municipal_supervision"))
