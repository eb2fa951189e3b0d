import importlib

import numpy as np
import polars as pl
from resolve_helpers import frame, person_row

from mhgraph.resolve import default_settings, entity_id
from mhgraph.resolve.cluster import cluster_type, clustered, in_slices, never_merged, pairs_to_complete

PERSON = default_settings().types["person"]


def _mentions(ids, bsns=None, v_numbers=None):
    bsns, v_numbers = bsns or {}, v_numbers or {}
    return frame([person_row(m, "jan", "bakker", "1980-01-01", bsn=bsns.get(m), v_number=v_numbers.get(m))
                  for m in ids]).sort("mention_id")


def _scored(links, mentions, blocked_by="test"):
    bsn = dict(zip(mentions["mention_id"], mentions["bsn"]))
    rows = []
    for a, b, score in links:
        a, b = min(a, b), max(a, b)
        agree = float("nan") if bsn[a] is None or bsn[b] is None else float(bsn[a] == bsn[b])
        rows.append({"mention_a": a, "mention_b": b, "entity_type": "person", "blocked_by": blocked_by,
                     "bsn_agree": agree, "v_number_agree": float("nan"), "score": score})
    return pl.DataFrame(rows)


def _entities(result):
    groups = result.resolution.group_by("entity_id").agg(pl.col("mention_id").sort()).sort("mention_id")
    return sorted(tuple(g) for g in groups["mention_id"].to_list())


def test_a_weak_link_does_not_glue_two_coherent_groups():
    ids = ["a1", "a2", "a3", "b1", "b2", "b3"]
    mentions = _mentions(ids)
    strong = [(x, y, 0.99) for g in ("a", "b") for x, y in ((f"{g}1", f"{g}2"), (f"{g}1", f"{g}3"), (f"{g}2", f"{g}3"))]
    weak = [("a3", "b1", 0.6)]
    compared_apart = [("a2", "b1", 0.01), ("a3", "b2", 0.02)]
    result = cluster_type(_scored(strong + weak + compared_apart, mentions), mentions, PERSON)
    assert _entities(result) == [("a1", "a2", "a3"), ("b1", "b2", "b3")]
    decision = result.decisions.filter((pl.col("mention_a") == "a3") & (pl.col("mention_b") == "b1")).row(0, named=True)
    assert decision["decision"] == "non_match"
    assert decision["reason"].startswith("not merged: groups of 3 and 3 identity groups average 0.070 over their 9 pairs")


def _glued_and_conflicting():
    """Mentions and scored links with every kind of decision: matches, a weak link refused,
    links below the threshold, and two BSNs kept apart."""
    mentions = _mentions(["a1", "a2", "a3", "b1", "b2", "b3", "x", "y", "z"], bsns={"x": "111111111", "z": "222222222"})
    strong = [(x, y, 0.99) for g in ("a", "b") for x, y in ((f"{g}1", f"{g}2"), (f"{g}1", f"{g}3"), (f"{g}2", f"{g}3"))]
    links = strong + [("a3", "b1", 0.6), ("a2", "b1", 0.01), ("x", "y", 0.99), ("y", "z", 0.98), ("x", "z", 0.97)]
    return mentions, _scored(links, mentions)


def _rows(scored, mentions):
    row = {m: i for i, m in enumerate(mentions["mention_id"])}
    return tuple(np.array([row[m] for m in scored[side]]) for side in ("mention_a", "mention_b"))


def test_decisions_written_a_slice_at_a_time_and_rows_given_change_nothing(monkeypatch):
    mentions, scored = _glued_and_conflicting()
    whole = cluster_type(scored, mentions, PERSON)
    assert set(whole.decisions["decision"]) == {"match", "non_match", "conflicting_identifier"}
    cluster_module = importlib.import_module("mhgraph.resolve.cluster")
    monkeypatch.setattr(cluster_module, "DECISION_SLICE", 2)
    sliced = cluster_type(scored, mentions, PERSON, rows=_rows(scored, mentions))
    assert sliced.decisions.equals(whole.decisions) and sliced.resolution.equals(whole.resolution)


def test_the_decisions_as_a_query_are_the_scored_pairs_with_their_fates(tmp_path):
    # resolve writes each type's matches from this query as it runs, never holding every reason at once
    mentions, scored = _glued_and_conflicting()
    whole = cluster_type(scored, mentions, PERSON)
    resolution, decided = clustered(scored, mentions, PERSON)
    assert isinstance(decided, pl.LazyFrame) and resolution.equals(whole.resolution)
    expected = scored.with_columns(whole.decisions["decision"], whole.decisions["reason"])
    assert in_slices(decided).equals(expected)
    decided.sink_parquet(tmp_path / "matches.parquet")
    assert pl.read_parquet(tmp_path / "matches.parquet").equals(expected)
    # a table decided before gets its fates anew, in place of the old ones
    again = clustered(expected.with_columns(pl.lit("stale").alias("reason")), mentions, PERSON)[1]
    assert in_slices(again).equals(expected)


def test_pairs_to_complete_reads_the_rows_it_is_given_as_those_it_looks_up():
    mentions = _mentions(["a", "b", "c", "d"])
    scored = _scored([("a", "b", 0.9), ("b", "c", 0.9), ("c", "d", 0.9)], mentions)
    looked_up = pairs_to_complete(scored, mentions, PERSON)
    assert looked_up.select("mention_a", "mention_b").rows() == [("a", "c"), ("a", "d"), ("b", "d")]
    assert pairs_to_complete(scored, mentions, PERSON, rows=_rows(scored, mentions)).equals(looked_up)


def test_a_chain_of_weak_links_stays_apart():
    mentions = _mentions(["a", "b", "c"])
    links = [("a", "b", 0.62), ("b", "c", 0.61), ("a", "c", 0.01)]
    result = cluster_type(_scored(links, mentions), mentions, PERSON)
    assert _entities(result) == [("a", "b"), ("c",)]


def test_the_same_chain_merges_when_the_ends_also_match():
    mentions = _mentions(["a", "b", "c"])
    links = [("a", "b", 0.92), ("b", "c", 0.91), ("a", "c", 0.9)]
    result = cluster_type(_scored(links, mentions), mentions, PERSON)
    assert _entities(result) == [("a", "b", "c")]


def test_two_bsns_are_never_merged_even_through_a_third_mention():
    mentions = _mentions(["x", "y", "z"], bsns={"x": "111111111", "z": "222222222"})
    links = [("x", "y", 0.99), ("y", "z", 0.98), ("x", "z", 0.97)]
    result = cluster_type(_scored(links, mentions), mentions, PERSON)
    assert _entities(result) == [("x", "y"), ("z",)]
    decisions = dict(zip(zip(result.decisions["mention_a"], result.decisions["mention_b"]), result.decisions["decision"]))
    assert decisions[("x", "z")] == "conflicting_identifier"
    assert decisions[("y", "z")] == "non_match"


def test_entity_ids_are_the_letter_and_hash_of_the_lowest_mention():
    mentions = _mentions(["m2", "m1", "m3"])
    result = cluster_type(_scored([("m1", "m2", 0.99)], mentions), mentions, PERSON)
    ids = dict(zip(result.resolution["mention_id"], result.resolution["entity_id"]))
    assert ids["m1"] == ids["m2"] == entity_id("P", "m1")
    assert ids["m3"] == entity_id("P", "m3")


def _payroll_and_permit_rows(links):
    """Six payroll rows under one BSN and four permit rows under one V-number, each group
    linked as a star (as blocking does), and ``links`` between the two."""
    payroll, permits = [f"a{i}" for i in range(1, 7)], [f"b{i}" for i in range(1, 5)]
    mentions = frame([person_row(m, "jan", "bakker", "1980-01-01", bsn="123456782") for m in payroll]
                     + [person_row(m, "jan", "bakker", "1980-01-01", v_number="V123") for m in permits]).sort("mention_id")
    stars = pl.concat([_scored([("a1", m, 0.99) for m in payroll[1:]], mentions, blocked_by="bsn"),
                       _scored([("b1", m, 0.99) for m in permits[1:]], mentions, blocked_by="v_number")])
    return mentions, pl.concat([stars, _scored(links, mentions)])


def test_an_identity_group_counts_once_in_the_coherence_test():
    # blocking compares the two groups once, representative with representative: one strong pair
    # is half of the smaller side when each group counts as the one identity group it is
    mentions, scored = _payroll_and_permit_rows([("a1", "b1", 0.95)])
    result = cluster_type(scored, mentions, PERSON)
    assert _entities(result) == [tuple(sorted(mentions["mention_id"]))]


def test_an_identity_group_still_needs_a_coherent_link():
    # payroll (one BSN) and permits (one V-number) match; a third mention matches the permits but
    # was compared with the payroll representative too and differs: the average stays below 0.4
    mentions, scored = _payroll_and_permit_rows([("a1", "b1", 0.9)])
    mentions = pl.concat([mentions, frame([person_row("c1", "jan", "bakker", "1980-01-01")])], how="diagonal")
    scored = pl.concat([scored, _scored([("b1", "c1", 0.7), ("a1", "c1", 0.04)], mentions)])
    result = cluster_type(scored, mentions.sort("mention_id"), PERSON)
    assert _entities(result) == [("a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2", "b3", "b4"), ("c1",)]
    reason = result.decisions.filter((pl.col("mention_a") == "b1") & (pl.col("mention_b") == "c1"))["reason"][0]
    assert reason.startswith("not merged: groups of 2 and 1 identity groups average 0.370 over their 2 pairs")


def _chain(n: int = 10, seed: int = 3):
    """The chain probe: ``n`` mentions in a row, each scoring 0.9 with its neighbour and
    0.1-0.45 with the one after; pairs further apart were never compared."""
    rng = np.random.default_rng(seed)
    ids = [f"m{i:02d}" for i in range(n)]
    links = [(ids[i], ids[i + 1], 0.9) for i in range(n - 1)]
    links += [(ids[i], ids[i + 2], float(rng.uniform(0.1, 0.45))) for i in range(n - 2)]
    return _mentions(ids), links


def test_the_chain_probe_does_not_become_one_entity():
    mentions, links = _chain()
    result = cluster_type(_scored(links, mentions), mentions, PERSON)
    sizes = [len(e) for e in _entities(result)]
    assert max(sizes) <= 3 and len(sizes) >= 4, sizes
    # the guarantee: every merge joined two groups whose pairs averaged min_mean_score or more, a
    # pair never compared counting 0 — so no entity holds two mentions that are not linked and far apart
    scores = {(a, b): s for a, b, s in links}
    for entity in (e for e in _entities(result) if len(e) > 1):
        pairs = [(x, y) for i, x in enumerate(entity) for y in entity[i + 1:]]
        assert sum(scores.get(p, 0.0) for p in pairs) / len(pairs) >= PERSON.clustering.min_mean_score


def test_one_identity_on_many_rows_merges_in_one_step():
    # one employer on many payroll rows: a star of identity links merges in one vectorised step
    n = 200_000
    ids = [f"row{i:07d}" for i in range(n)]
    mentions = pl.DataFrame({"mention_id": ids, "entity_type": ["company"] * n, "kvk_number": ["k" * 32] * n})
    company = default_settings().types["company"]
    scored = pl.DataFrame({"mention_a": [ids[0]] * (n - 1), "mention_b": ids[1:], "entity_type": ["company"] * (n - 1),
                           "blocked_by": ["kvk_number"] * (n - 1), "score": [1.0] * (n - 1)})
    result = cluster_type(scored, mentions, company)
    assert result.resolution["entity_id"].n_unique() == 1
    assert (result.decisions["decision"] == "match").all()


def test_each_refused_link_gets_its_own_reason_in_the_written_matches(tmp_path):
    # refusals are kept as numbers in the order they happen (highest score first) and spelt out
    # as the matches are written: three groups of two, each refusing a singleton with its own
    # average, where the order of the refusals is the reverse of the order of the pairs
    mentions = _mentions([f"{g}{i}" for g in "abc" for i in (1, 2, 3)])
    links = [link for g, weak in (("a", 0.55), ("b", 0.65), ("c", 0.75))
             for link in ((f"{g}1", f"{g}2", 0.99), (f"{g}2", f"{g}3", weak), (f"{g}1", f"{g}3", 0.01))]
    scored = _scored(links, mentions)
    _, decided = clustered(scored, mentions, PERSON)
    decided.sink_parquet(tmp_path / "matches.parquet")
    written = pl.read_parquet(tmp_path / "matches.parquet")
    reasons = dict(zip(zip(written["mention_a"], written["mention_b"]), written["reason"]))
    for g, average in (("a", "0.280"), ("b", "0.330"), ("c", "0.380")):
        assert reasons[(f"{g}2", f"{g}3")] == (
            f"not merged: groups of 2 and 1 identity groups average {average} over their 2 pairs "
            "(never compared counts 0; needs 0.4)"), g
        assert reasons[(f"{g}1", f"{g}3")] == "score 0.01 below 0.5"
    assert cluster_type(scored, mentions, PERSON).decisions["reason"].equals(written["reason"])


def _crowded_with_bsns(seed: int):
    """Sixty mentions, three in five holding one of six BSNs and one in three one of four V-numbers,
    linked by identity links (same BSN, or same V-number: every such pair, as blocking proposes
    them, many between two BSNs) and by many scored pairs, half of them at or above the threshold:
    two BSNs meet in most chains."""
    rng = np.random.default_rng(seed)
    ids = [f"m{i:02d}" for i in range(60)]
    bsns = {m: str(111111110 + int(rng.integers(6))) for m in ids if rng.random() < 0.6}
    v_numbers = {m: str(900 + int(rng.integers(4))) for m in ids if rng.random() < 0.35}
    mentions = _mentions(ids, bsns=bsns, v_numbers=v_numbers)
    bsn, v_number = (dict(zip(mentions["mention_id"], mentions[key])) for key in ("bsn", "v_number"))
    pairs = {tuple(sorted(rng.choice(ids, 2, replace=False).tolist())) for _ in range(400)}
    pairs |= {(a, b) for a in v_numbers for b in v_numbers if a < b and v_numbers[a] == v_numbers[b]}

    def agree(held, a, b):
        return float("nan") if held[a] is None or held[b] is None else float(held[a] == held[b])

    rows = []
    for a, b in sorted(pairs):
        by = next((key for key, held in (("bsn", bsn), ("v_number", v_number)) if agree(held, a, b) == 1.0), "test")
        rows.append({"mention_a": a, "mention_b": b, "entity_type": "person", "blocked_by": by,
                     "bsn_agree": agree(bsn, a, b), "v_number_agree": agree(v_number, a, b),
                     "score": 1.0 if by != "test" else float(rng.choice([rng.random(), 0.9 + rng.random() / 10]))})
    return mentions, pl.DataFrame(rows)


def test_leaving_out_the_pairs_between_two_bsns_changes_no_entity():
    changed = 0
    for seed in range(12):
        mentions, scored = _crowded_with_bsns(seed)
        apart = never_merged(scored, mentions, PERSON)
        assert apart.sum() > 20 and (scored.filter(pl.Series(apart)).select(
            (pl.col("bsn_agree") == 0.0) | (pl.col("v_number_agree") == 0.0)).to_series()).all()
        # an identity link between two BSNs (one V-number) is kept: it joins them into one
        # identity group, whose parts then count as one unit in every average
        between_bsns = scored.select((pl.col("blocked_by") == "v_number") & (pl.col("bsn_agree") == 0.0)).to_series()
        assert between_bsns.sum() > 0 and not apart[between_bsns.to_numpy()].any()
        whole = cluster_type(scored, mentions, PERSON)
        fewer = cluster_type(scored.filter(pl.Series(~apart)), mentions, PERSON)
        assert fewer.resolution.equals(whole.resolution)
        # the pairs left keep their fates
        kept = whole.decisions.join(fewer.decisions.select("mention_a", "mention_b"), on=["mention_a", "mention_b"])
        assert kept.sort("mention_a", "mention_b").equals(fewer.decisions.sort("mention_a", "mention_b"))
        # without those identity links some entities differ (seed 10): the check above sees it
        without = cluster_type(scored.filter(pl.Series(~(apart | between_bsns.to_numpy()))), mentions, PERSON)
        changed += not without.resolution.equals(whole.resolution)
    assert changed > 0


def test_an_analysts_pair_between_two_bsns_is_kept():
    mentions, scored = _crowded_with_bsns(0)
    apart = never_merged(scored, mentions, PERSON)
    first = scored.filter(pl.Series(apart)).row(0, named=True)
    overrides = pl.DataFrame({"mention_a": [first["mention_a"]], "mention_b": [first["mention_b"]],
                              "decision": ["must_link"]})
    with_override = never_merged(scored, mentions, PERSON, overrides=overrides)
    assert with_override.sum() == apart.sum() - 1
