import dataclasses
import math

import numpy as np
import polars as pl
import pytest
from resolve_helpers import FAMILY, GIVEN, KEY, frame, person_row

from mhgraph.crypto import bloom_encode
from mhgraph.resolve import compare, default_settings, load_settings
from mhgraph.resolve.bits import decode_bloom, dice_pairs
from mhgraph.resolve.compare import agreements, as_written, commonness, compare_type

BASE = ("jan", "hendriksen", "1985-03-07")


def _features(other: tuple, bsn_a=None, bsn_b=None, with_all_names=True) -> dict:
    """The features of BASE and ``other``, name filters not hardened (as delivered with
    ``--name-hardening none``; the same name twice also tells the resolver so);
    ``with_all_names=False``: delivered without names_bf."""
    mentions = frame([person_row("a/1/p", *BASE, bsn=bsn_a), person_row("b/1/p", *other, bsn=bsn_b),
                      person_row("c/1/p", *BASE)])
    mentions = mentions if with_all_names else mentions.drop("names_bf")
    pairs = pl.DataFrame({"mention_a": ["a/1/p"], "mention_b": ["b/1/p"], "entity_type": ["person"], "blocked_by": ["t"]})
    return compare(pairs, mentions, None, default_settings()).row(0, named=True)


def test_the_same_person_agrees_everywhere_and_the_match_key_counts_nothing_twice():
    row = _features(BASE)
    assert row["given_name_dice"] == row["family_name_dice"] == row["birth_date_dice"] == 1.0
    # match key 1 is built from the names and the date: with those identical it is no new evidence
    assert math.isnan(row["match_key_1_agree"])
    assert math.isnan(row["given_name_initials"])


def test_a_typo_in_the_family_name_keeps_its_dice_high():
    row = _features(("jan", "hendricksen", "1985-03-07"))
    assert 0.7 < row["family_name_dice"] < 1.0
    assert row["given_name_dice"] == 1.0 and row["birth_date_dice"] == 1.0
    assert row["match_key_1_agree"] == 0.0


def _given_names_differ(row: dict) -> bool:
    """Below the lowest Dice level, or (one being short, like "jan") no initials of the other."""
    return row["given_name_dice"] < 0.5 or row["given_name_initials"] == 0.0


def test_swapped_given_and_family_names_agree_on_match_key_1():
    row = _features(("hendriksen", "jan", "1985-03-07"), with_all_names=False)
    assert row["family_name_dice"] < 0.5
    assert row["match_key_1_agree"] == 1.0


def test_swapped_names_count_their_agreement_once_through_all_name_words():
    row = _features(("hendriksen", "jan", "1985-03-07"))
    # all name words agree: the swapped fields' disagreement counts nothing ...
    assert row["all_names_dice"] >= 0.9 and math.isnan(row["family_name_dice"]) and math.isnan(row["given_name_dice"])
    # ... and match key 1, built from the same names and date, is no new evidence on top of them
    assert row["birth_date_dice"] == 1.0 and math.isnan(row["match_key_1_agree"])


def test_swapped_day_and_month_agree_on_match_key_1_and_stay_similar():
    row = _features(("jan", "hendriksen", "1985-07-03"))
    assert row["match_key_1_agree"] == 1.0
    assert 0.4 < row["birth_date_dice"] < 1.0


def test_initials_are_compared_as_initials_not_by_their_dice():
    row = _features(("j.", "hendriksen", "1985-03-07"))
    assert row["given_name_initials"] == 1.0
    assert math.isnan(row["given_name_dice"])  # the Dice of "j" and "jan" says nothing
    assert row["match_key_1_agree"] == 0.0
    other = _features(("p.", "hendriksen", "1985-03-07"))
    assert other["given_name_initials"] == 0.0


def test_two_short_different_names_are_no_initials():
    row = _features(("anna", "hendriksen", "1985-03-07"))
    assert math.isnan(row["given_name_initials"]) and row["given_name_dice"] < 0.5


def test_a_different_person_scores_low_everywhere():
    row = _features(("fatima", "el amrani", "1999-11-23"))
    assert _given_names_differ(row) and row["family_name_dice"] < 0.4 and row["birth_date_dice"] < 0.6
    assert row["match_key_1_agree"] == 0.0


def test_bsn_agreement_is_one_zero_or_missing():
    assert _features(BASE, "111222333", "111222333")["bsn_agree"] == 1.0
    assert _features(BASE, "111222333", "999888777")["bsn_agree"] == 0.0
    assert math.isnan(_features(BASE, "111222333", None)["bsn_agree"])
    assert math.isnan(_features(BASE)["shared_address"])


def test_crossed_dice_catches_swapped_names_encoded_under_one_domain(tmp_path):
    settings_file = tmp_path / "crossed.toml"
    settings_file.write_text(
        'order = ["person"]\n[types.person]\nletter = "P"\n'
        '[[types.person.blocking]]\nname = "all"\ncolumns = ["partner"]\n'
        '[[types.person.comparisons]]\nname = "names_crossed"\nkind = "crossed_dice"\ncolumns = ["given", "family"]\n'
        '[[types.person.comparisons]]\nname = "given_dice"\ncolumns = ["given"]\n'
    )

    def encoded(given, family):
        return {"given": bloom_encode(KEY, "name", given), "family": bloom_encode(KEY, "name", family)}

    mentions = pl.DataFrame([
        {"mention_id": "a", "entity_type": "person", **encoded("jan", "vries")},
        {"mention_id": "b", "entity_type": "person", **encoded("vries", "jan")},
        {"mention_id": "c", "entity_type": "person", **encoded("piet", "bakker")},
    ])
    pairs = pl.DataFrame({"mention_a": ["a", "a"], "mention_b": ["b", "c"], "entity_type": ["person"] * 2,
                          "blocked_by": ["t"] * 2})
    out = compare(pairs, mentions, None, load_settings(settings_file))
    assert out["names_crossed"].to_list()[0] == pytest.approx(1.0)
    assert out["names_crossed"].to_list()[1] < 0.3
    assert out["given_dice"].to_list()[0] < 0.5


def test_relational_evidence_comes_from_the_resolved_neighbours():
    mentions = frame([person_row("a/1/p", *BASE), person_row("b/1/p", *BASE), person_row("c/1/p", *BASE)])
    relations = pl.DataFrame({
        "from_mention": ["a/1/p", "b/1/p", "c/1/p"],
        "to_mention": ["a/1/adres", "b/1/adres", "c/1/adres"],
        "type": ["REGISTERED_AT"] * 3,
    })
    resolution = pl.DataFrame({
        "mention_id": ["a/1/adres", "b/1/adres", "c/1/adres"],
        "entity_id": ["A-1", "A-1", "A-2"],
        "entity_type": ["address"] * 3,
    })
    pairs = pl.DataFrame({"mention_a": ["a/1/p", "a/1/p"], "mention_b": ["b/1/p", "c/1/p"],
                          "entity_type": ["person"] * 2, "blocked_by": ["t"] * 2})
    out = compare(pairs, mentions, relations, default_settings(), entities=resolution)
    assert out["shared_address"].to_list() == [1.0, 0.0]
    assert all(math.isnan(v) for v in out["shared_employer"].to_list())


def test_ignore_disagreement_turns_a_differing_match_key_into_no_evidence(tmp_path):
    from mhgraph.resolve.settings import DEFAULT_SETTINGS

    text = DEFAULT_SETTINGS.read_text() + (
        '\n[[types.person.comparisons]]\nname = "match_key_2_agree"\nkind = "exact"\ncolumns = ["match_key_2"]\n'
        'ignore_disagreement = true\n')
    (tmp_path / "settings.toml").write_text(text)
    mentions = frame([person_row("a/1/p", *BASE), person_row("b/1/p", "jan", "hendricksen", "1985-03-07"),
                      person_row("c/1/p", *BASE)])
    pairs = pl.DataFrame({"mention_a": ["a/1/p", "a/1/p"], "mention_b": ["b/1/p", "c/1/p"],
                          "entity_type": ["person"] * 2, "blocked_by": ["t"] * 2})
    out = compare(pairs, mentions, None, load_settings(tmp_path / "settings.toml"))
    assert math.isnan(out["match_key_2_agree"][0]) and out["match_key_2_agree"][1] == 1.0


def _hardened(mention_id: str, given: str, family: str, born: str | None) -> dict:
    """A person row as pseudonymise delivers it: name filters hardened with randomised bits
    (per record) where the record carries a date of birth."""
    row = person_row(mention_id, given, family, born)
    if born:
        row["given_name_bf"] = bloom_encode(KEY, "given_name", given, "blip", mention_id)
        row["family_name_bf"] = bloom_encode(KEY, "family_name", family, "blip", mention_id)
    return row


@pytest.mark.parametrize("born_b", ["1985-03-07", None])
def test_the_dice_of_hardened_name_filters_is_corrected_for_their_flipped_bits(born_b):
    names = [("jan", "hendriksen"), ("jan", "hendricksen"), ("pieter", "bakker")]
    rows = [_hardened("a/1/p", "jan", "hendriksen", "1985-03-07")]
    rows += [_hardened(f"b/{i}/p", given, family, born_b) for i, (given, family) in enumerate(names)]
    pairs = pl.DataFrame({"mention_a": ["a/1/p"] * 3, "mention_b": [f"b/{i}/p" for i in range(3)],
                          "entity_type": ["person"] * 3, "blocked_by": ["t"] * 3})
    mentions = frame(rows)
    same, typo_, stranger = compare(pairs, mentions, None, default_settings())["family_name_dice"].to_list()
    matrix, present = decode_bloom(mentions.sort("mention_id")["family_name_bf"])
    raw_same = dice_pairs(matrix, present, np.array([0]), np.array([1]))[0]
    # one name, hardened: a raw Dice well below 1; corrected near 1, a typo below it, a stranger low
    assert raw_same < 0.9 and same > 0.9
    assert 0.75 < typo_ < same and stranger < 0.4


def test_one_partner_delivered_without_hardening_leaves_the_correction_of_the_others():
    # partner "ind" hardens; partner "test" delivers plain filters and repeats a name (so it is
    # recognised as unhardened); the pair within "ind" is still corrected towards 1
    hardened = [{**_hardened(f"ind_{i}/1/p", "jan", "hendriksen", "1985-03-07"), "partner": "ind"} for i in range(2)]
    plain = [person_row(f"test_{i}/1/p", "pieter", "bakker", "1970-01-01") for i in range(2)]
    # partner "mix" delivers given names plain (they repeat) and family names hardened: decided
    # per column, its family names are still corrected
    mixed = [{**_hardened(f"mix_{i}/1/p", "kees", "vermeulen", "1990-06-01"), "partner": "mix",
              "given_name_bf": person_row(f"mix_{i}/1/p", "kees", "vermeulen", "1990-06-01")["given_name_bf"]}
             for i in range(2)]
    mentions = frame(hardened + plain + mixed)
    pairs = pl.DataFrame({"mention_a": ["ind_0/1/p", "test_0/1/p", "mix_0/1/p"],
                          "mention_b": ["ind_1/1/p", "test_1/1/p", "mix_1/1/p"],
                          "entity_type": ["person"] * 3, "blocked_by": ["t"] * 3})
    features = compare(pairs, mentions, None, default_settings())
    within_ind, within_test, within_mix = features["family_name_dice"].to_list()
    assert within_ind > 0.9 and within_test == 1.0 and within_mix > 0.9
    assert features["given_name_dice"][2] == 1.0


def test_which_filters_were_hardened_is_counted_once_per_type_and_corrects_every_later_comparison_alike():
    # kept in the type's cache: a later call (another slice, the completion) must correct as a fresh one does
    hardened = [{**_hardened(f"ind_{i}/1/p", "jan", name, born), "partner": "ind"}
                for i, (name, born) in enumerate([("hendriksen", "1985-03-07"), ("hendricksen", "1985-03-07"),
                                                   ("hendriksen", None)])]
    plain = [person_row(f"test_{i}/1/p", "pieter", "bakker", "1970-01-01") for i in range(2)]
    mentions = frame(hardened + plain).sort("mention_id")
    ids = mentions["mention_id"].to_list()
    pairs = pl.DataFrame([(a, b, "person", "t") for i, a in enumerate(ids) for b in ids[i + 1 :]], orient="row",
                         schema=["mention_a", "mention_b", "entity_type", "blocked_by"])
    entity = default_settings().types["person"]
    fresh = compare_type(pairs, mentions, entity, None, None)
    cache: dict = {}
    assert compare_type(pairs.slice(0, 2), mentions, entity, None, None, cache).equals(fresh.slice(0, 2))
    assert [key for key in cache if key[0] == "hardened"]  # counted once, kept
    assert compare_type(pairs, mentions, entity, None, None, cache).equals(fresh)
    # corrected where hardened, not where a partner delivered plain filters
    assert fresh["family_name_dice"].to_list()[-1] == 1.0 and 0.75 < fresh["family_name_dice"][0] < 1.0


def test_the_column_that_marks_hardened_filters_is_read_with_the_settings(tmp_path):
    # a marker column no comparison reads must still reach the resolver (stages read only named columns)
    from mhgraph.resolve.settings import DEFAULT_SETTINGS

    (tmp_path / "settings.toml").write_text(
        DEFAULT_SETTINGS.read_text().replace('hardened_where = "birth_date_bf"', 'hardened_where = "hardened_flag"'))
    assert "hardened_flag" in load_settings(tmp_path / "settings.toml").columns("person")


def test_relational_evidence_looked_up_a_slice_of_pairs_at_a_time_and_kept_for_the_next_call(sample_export, monkeypatch):
    # at a million persons the pairs' neighbours side by side took gigabytes at once, and every
    # comparison of a type joined the relations again: the features must stay the same
    import importlib

    compare_module = importlib.import_module("mhgraph.resolve.compare")
    out, _ = sample_export
    tables = out / "tables"
    settings = default_settings()
    entity = settings.types["person"]
    mentions = pl.read_parquet(tables / "mentions.parquet").filter(pl.col("entity_type") == "person").sort("mention_id")
    relations = pl.read_parquet(tables / "relations.parquet").select("type", "from_mention", "to_mention")
    entities = pl.read_parquet(tables / "resolution.parquet")
    pairs = pl.read_parquet(tables / "matches.parquet").filter(pl.col("entity_type") == "person").select(
        "mention_a", "mention_b", "entity_type", "blocked_by")
    whole = compare_module.compare_type(pairs, mentions, entity, relations, entities)
    assert whole["shared_employer"].is_in([0.0, 1.0]).sum() > 100 and (whole["shared_address"] == 1.0).sum() > 100
    monkeypatch.setattr(compare_module, "RELATION_SLICE", 7)
    cache: dict = {}
    sliced = compare_module.compare_type(pairs, mentions, entity, relations, entities, cache)
    assert sliced.equals(whole)
    assert ("neighbours", "shared_employer") in cache
    assert compare_module.compare_type(pairs.slice(3, 50), mentions, entity, relations, entities, cache).equals(
        whole.slice(3, 50))


def test_a_date_held_by_many_people_is_common_and_one_persons_duplicates_are_not():
    # 1 January 1960 for twelve people whose day and month were not known; 3 May 1971 for one
    # person delivered six times, twice with a typo in the given name; ten people with dates
    # of their own, delivered once
    rows = [person_row(f"r/a{i:02d}/persoon", GIVEN[i], FAMILY[i], "1960-01-01") for i in range(12)]
    rows += [person_row(f"r/b{c}/persoon", "jna" if c in (2, 4) else "jan", "bakker", "1971-05-03") for c in range(6)]
    rows += [person_row(f"r/c{i}/persoon", GIVEN[i], FAMILY[i], f"19{50 + i}-0{i % 9 + 1}-1{i % 9}") for i in range(10)]
    mentions = frame(rows).sort("mention_id")
    common = dict(zip(mentions["mention_id"], commonness(mentions, "birth_date_bf", ["match_key_2"])))
    # the person's six records count once: his date is as rare as a date delivered once
    assert common["r/b0/persoon"] == common["r/b2/persoon"] == common["r/c0/persoon"]
    assert common["r/a00/persoon"] == pytest.approx(12 * common["r/c0/persoon"])
    assert common["r/a00/persoon"] > 1.0 > common["r/c0/persoon"]

    pairs = pl.DataFrame({"mention_a": ["r/a00/persoon", "r/b0/persoon", "r/a00/persoon"],
                          "mention_b": ["r/a01/persoon", "r/b1/persoon", "r/c0/persoon"],
                          "entity_type": ["person"] * 3, "blocked_by": ["t"] * 3})
    features = compare(pairs, mentions, None, default_settings())
    # exact agreement carries the agreed date's commonness; other pairs none
    assert features["birth_date_dice_common"].to_list()[:2] == pytest.approx(
        [common["r/a00/persoon"], common["r/b0/persoon"]], rel=1e-7)
    assert features.schema["birth_date_dice_common"] == pl.Float32  # mostly NaN: half the memory
    assert math.isnan(features["birth_date_dice_common"][2])


def test_a_typo_in_the_first_letter_of_a_given_name_does_not_make_a_persons_date_common():
    # one person delivered four times, once as "ian" (another match key); a date of one's own;
    # two people on one date (another family name): they are two
    rows = [person_row(f"r/b{c}/persoon", "ian" if c == 3 else "jan", "bakker", "1971-05-03") for c in range(4)]
    rows += [person_row("r/c0/persoon", "piet", "smit", "1962-07-12"),
             person_row("r/d0/persoon", "kees", "visser", "1955-02-14"),
             person_row("r/d1/persoon", "anna", "mulder", "1955-02-14")]
    mentions = frame(rows).sort("mention_id")
    pairs = pl.DataFrame({"mention_a": ["r/b0/persoon", "r/b0/persoon", "r/d0/persoon"],
                          "mention_b": ["r/b1/persoon", "r/b3/persoon", "r/d1/persoon"],
                          "entity_type": ["person"] * 3, "blocked_by": ["t"] * 3})
    own, typo, shared = compare(pairs, mentions, None, default_settings())["birth_date_dice_common"].to_list()
    assert own == typo and shared == pytest.approx(2 * own)
    # counted over the match key alone, the typo makes two people of one, as common as the shared date
    keys_only = dict(zip(mentions["mention_id"], commonness(mentions, "birth_date_bf", ["match_key_2"])))
    assert keys_only["r/b0/persoon"] == keys_only["r/d0/persoon"] > keys_only["r/c0/persoon"]
    # a copy of the settings without the family name (the identity-conflict check's) counts keys
    # alone, and keeps that to itself in a shared cache
    entity, cache = default_settings().types["person"], {}
    narrow = dataclasses.replace(entity, comparisons=tuple(c for c in entity.comparisons if c.name == "birth_date_dice"))
    assert compare_type(pairs, mentions, narrow, None, None, cache)["birth_date_dice_common"][0] > own
    assert compare_type(pairs, mentions, entity, None, None, cache)["birth_date_dice_common"].to_list() == [own, typo, shared]


def test_twins_with_other_given_names_count_as_two_people_on_their_date():
    # twins: one date, one family name, given names apart (another match key each), both
    # delivered twice; a date of one's own. The family name alone would make them one person
    rows = [person_row(f"r/t{c}/persoon", given, "bakker", "1971-05-03")
            for c, given in enumerate(["anna", "anna", "maria", "maria"])]
    rows += [person_row("r/c0/persoon", "piet", "smit", "1962-07-12")]
    mentions = frame(rows).sort("mention_id")
    pairs = pl.DataFrame({"mention_a": ["r/t0/persoon", "r/t0/persoon"], "mention_b": ["r/t2/persoon", "r/t1/persoon"],
                          "entity_type": ["person"] * 2, "blocked_by": ["t"] * 2})
    twins, one_twin = compare(pairs, mentions, None, default_settings())["birth_date_dice_common"].to_list()
    own = commonness(mentions, "birth_date_bf", ["match_key_2"])[mentions["mention_id"].index_of("r/c0/persoon")]
    assert twins == one_twin == pytest.approx(2 * own)
    entity = default_settings().types["person"]
    family_only = dataclasses.replace(entity, comparisons=tuple(
        dataclasses.replace(c, common_values_alike={"family_name_dice": 0.9}) for c in entity.comparisons))
    # (then each date holds one person, as a typical date does)
    assert compare_type(pairs, mentions, family_only, None, None, {})["birth_date_dice_common"][0] == pytest.approx(1.0)


def test_keys_of_one_date_are_asked_about_once_per_pair_and_each_condition_only_after_the_ones_before():
    # three keys on one date, two on another, one alone: 3 + 1 unordered pairs
    frame_ = pl.DataFrame({"born": ["1", "1", "1", "1", "2", "2", "3"], "key": ["a", "a", "b", "c", "d", "e", "f"]})
    asked = []

    def first_two_rows_alike(a, b):
        asked.append(("first", sorted(zip(a.tolist(), b.tolist()))))
        return (a < 2) & (b < 3)

    def anything_alike(a, b):
        asked.append(("second", sorted(zip(a.tolist(), b.tolist()))))
        return np.ones(len(a), dtype=bool)

    common = commonness(frame_, "born", ["key"], alike=[first_two_rows_alike, anything_alike])
    # one mention per key (its first row): keys a (row 0), b (2), c (3); d (4), e (5)
    assert asked[0][0] == "first" and sorted(tuple(sorted(p)) for p in asked[0][1]) == [(0, 2), (0, 3), (2, 3), (4, 5)]
    assert asked[1] == ("second", [(0, 2)])
    # a, b one person, c another: two on date 1; d and e two on date 2 (the first condition refused them)
    assert common.tolist() == pytest.approx([2 / 1.8] * 4 + [2 / 1.8] * 2 + [1 / 1.8])


def test_a_cached_commonness_belongs_to_the_comparisons_it_was_counted_with():
    # one comparison name with other columns (a family name read from the given name) counts apart
    rows = [person_row(f"r/t{c}/persoon", given, "bakker", "1971-05-03") for c, given in enumerate(["anna", "maria"])]
    rows += [person_row("r/c0/persoon", "piet", "smit", "1962-07-12")]
    mentions = frame(rows).sort("mention_id")
    pairs = pl.DataFrame({"mention_a": ["r/t0/persoon"], "mention_b": ["r/t1/persoon"],
                          "entity_type": ["person"], "blocked_by": ["t"]})
    entity = default_settings().types["person"]
    family_only = dataclasses.replace(entity, comparisons=tuple(
        dataclasses.replace(c, common_values_alike={"family_name_dice": 0.9}) for c in entity.comparisons))
    on_given = dataclasses.replace(family_only, comparisons=tuple(
        dataclasses.replace(c, columns=("given_name_bf",)) if c.name == "family_name_dice" else c
        for c in family_only.comparisons))
    cache = {}
    one = compare_type(pairs, mentions, family_only, None, None, cache)["birth_date_dice_common"][0]
    two = compare_type(pairs, mentions, on_given, None, None, cache)["birth_date_dice_common"][0]
    # twins one person on the family name; two on the given name: 2 people against a typical 5/3
    assert (one, two) == pytest.approx((1.0, 1.2))
    assert two == compare_type(pairs, mentions, on_given, None, None, {})["birth_date_dice_common"][0]


def test_a_date_held_only_by_mentions_without_a_match_key_is_neutral():
    # forty records without a family name (no match key) on 1 January 1900, and one with a key:
    # nothing counts their people, so their date weighs as a typical one, not as the rarest
    rows = [person_row(f"r/x{i:02d}/persoon", GIVEN[i % len(GIVEN)], None, "1900-01-01") for i in range(40)]
    rows += [person_row(f"r/c{i}/persoon", GIVEN[i], FAMILY[i], f"19{50 + i}-0{i % 9 + 1}-1{i % 9}") for i in range(5)]
    rows += [person_row("r/y0/persoon", "jan", "bakker", "1960-01-01"), person_row("r/y1/persoon", "kees", None, "1960-01-01")]
    mentions = frame(rows).sort("mention_id")
    common = dict(zip(mentions["mention_id"], commonness(mentions, "birth_date_bf", ["match_key_2"])))
    assert all(math.isnan(common[f"r/x{i:02d}/persoon"]) for i in range(40))
    # beside a keyed mention, a keyless one counts nothing
    assert common["r/y1/persoon"] == common["r/y0/persoon"] == common["r/c0/persoon"] == pytest.approx(1.0)


def test_agreements_name_each_column_once_where_a_comparison_is_named_as_a_key_agreement():
    # settings refuse such a name; an entity made without them still writes its matches
    entity = dataclasses.replace(default_settings().types["person"], identity_keys=["bsn", "v_number", "match_key_1"])
    names = agreements(entity)
    assert names.count("match_key_1_agree") == 1 and len(names) == len(set(names))
    pairs = pl.LazyFrame({"match_key_1_agree": [1.0, None]}, schema={"match_key_1_agree": pl.Float32})
    assert as_written(pairs, entity).collect()["match_key_1_agree"].dtype == pl.Float64
