import dataclasses
import importlib
import logging
import random

import numpy as np
import polars as pl
import pytest
from resolve_helpers import FAMILY, GIVEN, KEY, frame, person_row, population, typo

from mhgraph.crypto import bloom_encode, keyed_hash
from mhgraph.resolve import block, blocking_quality, default_settings
from mhgraph.resolve.bits import bloom_words, decode_bloom, dice_at_least, dice_at_least_apart, dice_pairs, dice_words
from mhgraph.resolve.block import _rule_codes, _similar_enough, pairs_from_blocks, similarity_sort_key, type_mentions

block_module = importlib.import_module("mhgraph.resolve.block")  # the attribute "block" of the package is the function


def _truth(truth: dict) -> pl.DataFrame:
    return pl.DataFrame({"mention_id": list(truth), "entity_id": [str(v) for v in truth.values()]})


def test_blocking_finds_the_true_pairs_of_a_generated_set():
    mentions, truth = population(300, copies=3, seed=3, bsn_share=0.0)
    pairs = block(mentions, default_settings())
    quality = blocking_quality(pairs, _truth(truth))
    assert quality["true_pairs"] == 900
    assert quality["pair_completeness"] >= 0.95
    assert quality["reduction_ratio"] >= 0.8
    # the pairs that are missed are between two noisy copies: each still pairs with a third one
    linked = pl.DataFrame({"mention_id": list(truth), "person": list(truth.values())})
    proposed = pairs.join(linked.rename({"mention_id": "mention_a", "person": "pa"}), on="mention_a").join(
        linked.rename({"mention_id": "mention_b", "person": "pb"}), on="mention_b").filter(pl.col("pa") == pl.col("pb"))
    reached = set(proposed["mention_a"]) | set(proposed["mention_b"])
    assert len(reached) >= 0.99 * len(truth)
    assert (pairs["mention_a"] < pairs["mention_b"]).all()
    assert pairs.select("mention_a", "mention_b").is_unique().all()


def test_one_huge_block_is_windowed_not_quadratic(caplog):
    n = 2000
    # no identity keys: every mention is its own representative, so the block really is huge
    rows = [person_row(f"s/{i:05d}/p", "jan", "jansen", "1980-01-01") for i in range(n)]
    settings = default_settings()
    person = settings.types["person"]
    with caplog.at_level(logging.INFO, logger="mhgraph.resolve.block"):
        pairs = block(frame(rows), settings)
    rules = len(person.blocking)
    worst = max(r.window for r in person.blocking)
    # each rule: at most `window` neighbours per mention
    assert n * worst / 2 <= pairs.height <= rules * n * worst
    assert pairs.height < n * (n - 1) // 2 / 10
    assert "oversized" in caplog.text


def _fuzzy(pairs: pl.DataFrame, identity_keys) -> pl.DataFrame:
    return pairs.filter(~pl.col("blocked_by").is_in(list(identity_keys)))


def _partners(pairs: pl.DataFrame, mention: str) -> set:
    return set(pairs.filter(pl.col("mention_a") == mention)["mention_b"]) | \
        set(pairs.filter(pl.col("mention_b") == mention)["mention_a"])


def test_a_person_repeated_under_one_bsn_is_blocked_once_per_blocking_value():
    n = 2000
    # payroll: one employee on every row, same BSN, same name and date filters
    rows = [person_row(f"loon/{i:05d}/werknemer", "jan", "jansen", "1980-01-01", bsn="123456782") for i in range(n)]
    # three mentions without BSN of the same name, a namesake with another BSN, a stranger
    rows += [person_row(f"kvk/{i}/functionaris", "jan", "jansen", "1980-01-01") for i in range(3)]
    rows += [person_row("ind/1/referent", "jan", "janssen", "1980-01-01", bsn="111222333"),
             person_row("gem/1/houder", "fatima", "el amrani", "1991-03-04")]
    settings = default_settings()
    person = settings.types["person"]
    pairs = block(frame(rows), settings)
    assert pairs.filter(pl.col("blocked_by") == "bsn").height == n - 1
    fuzzy = _fuzzy(pairs, person.identity_keys)
    # 6 representatives (the BSN group, 3 without BSN, the namesake, the stranger): at most 15 pairs,
    # where every mention of the group used to be paired with up to `window` others per rule
    assert fuzzy.height <= 15
    assert not fuzzy.filter(pl.col("mention_a").str.starts_with("loon/") & pl.col("mention_b").str.starts_with("loon/")).height
    group = {f"loon/{i:05d}/werknemer" for i in range(n)}
    for i in range(3):  # each mention without BSN still meets the group, through its representative
        assert _partners(fuzzy, f"kvk/{i}/functionaris") & group
    assert not _partners(pairs, "gem/1/houder")


def test_a_group_is_represented_once_per_value_not_only_by_its_first_mention():
    # the lowest mention of the BSN group carries another name; the keyless mention must still
    # meet the group through the member that shares its name
    rows = [person_row("a/1/p", "piet", "bakker", "1970-05-05", bsn="123456782"),
            person_row("a/2/p", "jan", "jansen", "1980-01-01", bsn="123456782"),
            person_row("a/3/p", "jan", "jansen", "1980-01-01", bsn="123456782"),
            person_row("b/1/p", "jan", "jansen", "1980-01-01")]
    pairs = block(frame(rows), default_settings())
    assert _partners(_fuzzy(pairs, ("bsn", "v_number")), "b/1/p") == {"a/2/p"}


def _company(mention_id, kvk=None, name=None):
    return {"mention_id": mention_id, "entity_type": "company",
            "kvk_number": keyed_hash(KEY, "kvk_number", kvk), "wage_tax_number": None,
            "name_bf": bloom_encode(KEY, "company_name", name)}


def test_an_employer_repeated_on_every_payroll_row_is_blocked_once():
    n = 2000
    rows = [_company(f"loon/{i:05d}/werkgever", kvk="12345678", name="schoonmaakbedrijf de ster") for i in range(n)]
    rows += [_company("gem/1/houder", name="schoonmaakbedrijf de ster"),
             _company("gem/2/houder", name="schoonmaakbedrijf de sterr"),
             _company("kvk/1/bedrijf", kvk="87654321", name="schoonmaakbedrijf de ster"),
             _company("kvk/2/bedrijf", kvk="11223344", name="uitzendbureau noord")]
    settings = default_settings()
    company = settings.types["company"]
    pairs = block(frame(rows), settings)
    assert pairs.filter(pl.col("blocked_by") == "kvk_number").height == n - 1
    fuzzy = _fuzzy(pairs, company.identity_keys)
    # 5 representatives: at most 10 pairs, where the old blocks paired thousands of payroll rows
    assert fuzzy.height <= 10
    group = {f"loon/{i:05d}/werkgever" for i in range(n)}
    assert _partners(fuzzy, "gem/1/houder") & group
    assert _partners(fuzzy, "kvk/1/bedrijf") & group
    assert not _partners(pairs, "kvk/2/bedrijf")


def test_pairs_from_blocks_windows_only_the_oversized_block():
    codes = np.array([0] * 6 + [1] * 3 + [-1])
    left, right, report = pairs_from_blocks(codes, np.arange(10), max_block_size=4, window=1)
    found = set(zip(left.tolist(), right.tolist()))
    assert found == {(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (6, 7), (6, 8), (7, 8)}
    assert report["oversized"] == 1 and report["oversized_mentions"] == 6


def test_a_pair_filter_asked_as_pairs_are_made_keeps_what_filtering_afterwards_keeps():
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 12, 400)
    codes[rng.random(400) < 0.1] = -1
    sort_key = rng.integers(0, 1000, 400)
    all_left, all_right, report = pairs_from_blocks(codes, sort_key, max_block_size=20, window=3)
    assert report["oversized"] > 0  # both all-pairs blocks and windowed ones are filtered

    def keep(left, right):
        return (left + right) % 3 == 0

    left, right, _ = pairs_from_blocks(codes, sort_key, max_block_size=20, window=3, keep=keep)
    expected = {(a, b) for a, b in zip(all_left.tolist(), all_right.tolist()) if (a + b) % 3 == 0}
    assert set(zip(left.tolist(), right.tolist())) == expected and len(left) == len(expected) > 0


def test_a_rules_minimum_dice_keeps_exactly_the_window_pairs_that_reach_it():
    # common names make oversized windowed blocks; 150 people born on one day an oversized date block
    people, _ = population(700, copies=2, seed=12, bsn_share=0.3)
    rng = random.Random(13)
    one_day = [person_row(f"day/r{i:04d}/p", rng.choice(GIVEN), rng.choice(FAMILY), "1990-05-17",
                          None if i % 4 else str(200000000 + i)) for i in range(150)]
    settings = default_settings()
    person = settings.types["person"]
    mentions = type_mentions(pl.concat([people, frame(one_day)], how="diagonal"), "person", settings.columns("person"))
    sort_key = similarity_sort_key(mentions, ["given_name_bf", "family_name_bf", "birth_date_bf"])
    filtered = [rule for rule in person.blocking if rule.min_dice]
    assert {len(rule.min_dice) for rule in filtered} == {1, 2}
    oversized = dropped = 0
    for rule in filtered:
        keep = _similar_enough(mentions, rule, {})
        for codes in _rule_codes(mentions, rule, None):
            left, right, report = pairs_from_blocks(codes, sort_key, rule.max_block_size, rule.window, keep)
            every_left, every_right, _ = pairs_from_blocks(codes, sort_key, rule.max_block_size, rule.window)
            reached = np.ones(len(every_left), dtype=bool)
            for column, minimum in rule.min_dice.items():
                reached &= ~(dice_pairs(*decode_bloom(mentions[column]), every_left, every_right) < minimum)
            expected = set(zip(every_left[reached].tolist(), every_right[reached].tolist()))
            assert set(zip(left.tolist(), right.tolist())) == expected and len(left) == len(expected)
            oversized += report["oversized"]
            dropped += int((~reached).sum())
    assert oversized > 0 and dropped > 0


def test_a_minimum_dice_is_tested_as_the_dice_is_computed_at_every_boundary():
    rng = np.random.default_rng(7)
    matrix = np.zeros((400, 32), dtype=np.uint8)
    for row, ones in enumerate(rng.integers(0, 60, 400)):  # filters of 0 to 59 bits set, many Dice values met exactly
        matrix[row, rng.choice(32, size=min(ones // 8 + 1, 32), replace=False)] = rng.integers(1, 256)
    present = rng.random(400) < 0.95
    words, bits = bloom_words(matrix)
    left, right = rng.integers(0, 400, 20000), rng.integers(0, 400, 20000)
    dice = dice_words(words, bits, present, left, right)
    for minimum in (0.0, 0.3, 0.4, 0.5, 0.65, 0.9, 1.0):
        reached = ~(dice < minimum)
        np.testing.assert_array_equal(dice_at_least(words, bits, present, left, right, minimum), reached)
        apart = dice_at_least_apart(np.ascontiguousarray(words.T), bits, present, 3, minimum)
        np.testing.assert_array_equal(apart, ~(dice_words(words, bits, present, np.arange(397), np.arange(3, 400)) < minimum))
    assert 0 < (dice == 0.5).sum() and 0 < (~(dice < 0.5)).sum() < len(dice)


@pytest.mark.parametrize("distance", [0, 4, 5, -1])
def test_dice_of_rows_apart_refuses_a_distance_outside_the_rows(distance):
    words, bits = bloom_words(np.arange(16, dtype=np.uint8).reshape(4, 4))
    with pytest.raises(ValueError, match="strictly between 0 and the 4 rows"):
        dice_at_least_apart(np.ascontiguousarray(words.T), bits, np.ones(4, dtype=bool), distance, 0.5)
    assert len(dice_at_least_apart(np.ascontiguousarray(words.T), bits, np.ones(4, dtype=bool), 3, 0.5)) == 1


def test_dice_of_filters_whose_width_is_no_whole_number_of_words_counts_every_byte():
    rng = np.random.default_rng(6)
    matrix = rng.integers(0, 256, (50, 44), dtype=np.uint8)  # 44 bytes: padded to 48 for the word count
    present = rng.random(50) < 0.9
    left, right = rng.integers(0, 50, 300), rng.integers(0, 50, 300)
    bits = np.unpackbits(matrix, axis=1).astype(int)
    both = (bits[left] & bits[right]).sum(axis=1)
    expected = 2 * both / (bits[left].sum(axis=1) + bits[right].sum(axis=1))
    expected[~(present[left] & present[right])] = np.nan
    for pairs in (left[:5], left):  # few pairs count the rows of each pair, many count every row once
        n = len(pairs)
        np.testing.assert_array_equal(dice_pairs(matrix, present, pairs, right[:n]), expected[:n])
    words, row_bits = bloom_words(matrix)
    assert words.shape == (50, 6) and row_bits.tolist() == bits.sum(axis=1).tolist()
    np.testing.assert_array_equal(dice_words(words, row_bits, present, left, right), expected)


def test_blocking_does_not_depend_on_row_order():
    mentions, _ = population(100, copies=2, seed=4)
    settings = default_settings()
    first = block(mentions, settings).sort("mention_a", "mention_b")
    shuffled = block(mentions.sample(fraction=1.0, shuffle=True, seed=9), settings).sort("mention_a", "mention_b")
    assert first.equals(shuffled)


def test_identity_keys_link_addresses_and_permits_within_a_partner():
    mentions = pl.DataFrame({
        "mention_id": ["a/1/adres", "b/1/adres", "c/1/adres", "g/1/vergunning", "g/2/vergunning", "h/1/vergunning"],
        "entity_type": ["address"] * 3 + ["permit"] * 3,
        "partner": ["x", "y", "z", "gemeente_arnhem", "gemeente_arnhem", "gemeente_emmen"],
        "address_key": ["k1", "k1", None, None, None, None],
        "building_key": ["b1", "b1", "b1", None, None, None],
        "permit_number": [None, None, None, "ARN-1", "ARN-1", "ARN-1"],
    })
    pairs = block(mentions, default_settings())
    assert sorted(pairs.select("mention_a", "mention_b", "blocked_by").rows()) == [
        ("a/1/adres", "b/1/adres", "address_key"),
        ("g/1/vergunning", "g/2/vergunning", "partner+permit_number"),
    ]


def _hardened_person(mention_id: str, given: str, family: str, born: str) -> dict:
    """A person row as pseudonymise delivers it: name filters hardened when a date of birth is there."""
    row = person_row(mention_id, given, family, born)
    for column, domain, value in (("given_name_bf", "given_name", given), ("family_name_bf", "family_name", family)):
        row[column] = bloom_encode(KEY, domain, value, "blip", mention_id)
    return row


def test_equal_dates_of_birth_pair_records_with_a_typo_in_both_names():
    rng = random.Random(4)
    rows, people, born_on = [], {}, []
    for i in range(300):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        born = f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        rows.append(_hardened_person(f"s/{i:04d}/a", given, family, born))
        rows.append(_hardened_person(f"s/{i:04d}/b", typo(given, rng), typo(family, rng), born))
        people[i] = (f"s/{i:04d}/a", f"s/{i:04d}/b")
        born_on.append(born)
    # a stranger born on the same day as person 0, with other names, is not paired by the rule
    rows.append(_hardened_person("s/9999/a", "xavier", "quintero", born_on[0]))
    settings = default_settings()

    def found(pairs: pl.DataFrame) -> int:
        proposed = set(zip(pairs["mention_a"], pairs["mention_b"]))
        return sum(pair in proposed for pair in people.values())

    def rules(keep):
        person = settings.types["person"]
        return dataclasses.replace(settings, types={**settings.types, "person": dataclasses.replace(
            person, blocking=tuple(r for r in person.blocking if keep(r.name)))})

    assert found(block(frame(rows), settings)) >= 0.97 * len(people)
    # the rule on its own finds them, and (nearly) only them
    by_rule = block(frame(rows), rules(lambda name: name == "birth_date+names"))
    assert found(by_rule) >= 0.9 * len(people)
    assert by_rule.height <= found(by_rule) * 1.05
    assert "s/9999/a" not in set(by_rule["mention_a"]) | set(by_rule["mention_b"])
    # without it, the other rules miss many of these pairs (all name words, which a delivery may
    # lack, find them too)
    assert found(block(frame(rows), rules(lambda name: name not in ("birth_date+names", "birth_date+all_names_lsh",
                                                                   "dated_all_names_lsh")))) < 0.9 * len(people)


def test_equal_dates_of_birth_pair_records_with_two_typos_in_each_name_at_a_bounded_cost():
    rng = random.Random(8)
    rows, people = [], []
    for i in range(300):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        born = f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        rows.append(_hardened_person(f"s/{i:04d}/a", given, family, born))
        rows.append(_hardened_person(f"s/{i:04d}/b", typo(typo(given, rng), rng), typo(typo(family, rng), rng), born))
        people.append((f"s/{i:04d}/a", f"s/{i:04d}/b"))
    # sixty strangers born on one day
    strangers = [_hardened_person(f"t/{j:04d}/a", rng.choice(GIVEN), rng.choice(FAMILY), "1970-05-05") for j in range(60)]
    settings = default_settings()

    def date_rule(min_dice=None):
        person = settings.types["person"]
        rule = next(r for r in person.blocking if r.name == "birth_date+names")
        rule = dataclasses.replace(rule, min_dice=min_dice or rule.min_dice)
        return dataclasses.replace(settings, types={**settings.types, "person": dataclasses.replace(person, blocking=(rule,))})

    def found(pairs: pl.DataFrame) -> int:
        proposed = set(zip(pairs["mention_a"], pairs["mention_b"]))
        return sum(pair in proposed for pair in people)

    shipped = found(block(frame(rows), date_rule()))
    assert shipped >= 0.85 * len(people)
    # at Dice 0.4 on each name a fifth of them is lost
    assert found(block(frame(rows), date_rule({"given_name_bf": 0.4, "family_name_bf": 0.4}))) <= shipped - 0.15 * len(people)
    # strangers sharing a date are rarely alike on both names
    assert block(frame(strangers), date_rule()).height <= 0.05 * 60 * 59 / 2


def test_a_month_written_wrongly_and_a_typo_in_one_name_still_pair():
    rng = random.Random(6)
    rows, people = [], []
    for i in range(200):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        year, month, day = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(13, 28)
        other_month = rng.choice([m for m in range(1, 13) if m != month])
        rows.append(_hardened_person(f"s/{i:04d}/a", given, family, f"{year}-{month:02d}-{day}"))
        rows.append(_hardened_person(f"s/{i:04d}/b", given, typo(family, rng), f"{year}-{other_month:02d}-{day}"))
        people.append((f"s/{i:04d}/a", f"s/{i:04d}/b"))

    def found(settings) -> int:
        pairs = block(frame(rows), settings)
        proposed = set(zip(pairs["mention_a"], pairs["mention_b"]))
        return sum(pair in proposed for pair in people)

    settings = default_settings()
    shipped = found(settings)
    assert shipped >= 0.85 * len(people)
    # asking the dates of birth to be more alike than a wrong month often leaves loses many
    person = settings.types["person"]
    strict = tuple(dataclasses.replace(r, min_dice={**r.min_dice, "birth_date_bf": 0.75})
                   if "birth_date_bf" in r.min_dice else r for r in person.blocking)
    assert found(dataclasses.replace(settings, types={**settings.types,
                                                      "person": dataclasses.replace(person, blocking=strict)})) \
        <= shipped - 0.15 * len(people)


def _without_bound(settings):
    """``settings`` with no bound on person pairs per mention."""
    person = settings.types["person"]
    return dataclasses.replace(settings, types={**settings.types, "person": dataclasses.replace(
        person, blocking=tuple(dataclasses.replace(r, max_pairs_per_mention=0) for r in person.blocking))})


def _common_name_without_dates() -> list[dict]:
    """"jan de jong" twice without a date of birth, at one postcode: both pass every rule's date
    filter, so among 1,500 namesakes with dates each would be paired with more than a hundred."""
    rng = random.Random(8)
    postcode = lambda code: bloom_encode(KEY, "postcode", code)  # noqa: E731
    rows = [{**person_row(f"s/0000/{side}", "jan", "de jong", None), "postcode_bf": postcode("1234AB")}
            for side in "xy"]
    for i in range(1, 1501):
        born = f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        rows.append({**_hardened_person(f"s/{i:04d}/y", "jan", "de jong", born),
                     "postcode_bf": postcode(f"{rng.randint(1000, 9999)}{rng.choice(['AA', 'BX', 'KL'])}")})
    return rows


def test_a_common_name_without_a_date_of_birth_keeps_a_bounded_number_of_its_most_similar_pairs():
    rows = _common_name_without_dates()
    settings = default_settings()
    person = settings.types["person"]
    before, after = block(frame(rows), _without_bound(settings)), block(frame(rows), settings)
    assert len(_partners(before, "s/0000/x")) > 100
    assert "s/0000/y" in _partners(before, "s/0000/x")
    # each rule leaves every mention at most its bound of pairs, and the true pair is among them
    cap = max(r.max_pairs_per_mention for r in person.blocking)
    ends = pl.concat([after.select("blocked_by", mention="mention_a"), after.select("blocked_by", mention="mention_b")])
    assert ends.group_by("blocked_by", "mention").len()["len"].max() <= cap
    x_before, x_after = _partners(before, "s/0000/x"), _partners(after, "s/0000/x")
    # only the three rules that let a missing date pass pair it with namesakes (and one more with y)
    assert len(x_after) <= 3 * cap + 1 < len(x_before)
    assert "s/0000/y" in x_after
    assert after.height < before.height


def test_when_linking_files_pairs_inside_one_file_do_not_use_up_a_mentions_bound():
    # 41 records of "jan de jong" without a date of birth in file a, one in file b: inside file
    # a each record has 40 namesakes, more than its bound, yet only its pair across the files counts
    rows = [person_row(f"a/{i:04d}/p", "jan", "de jong", None, source="a_register") for i in range(41)]
    rows.append(person_row("b/0000/p", "jan", "de jong", None, source="b_register"))
    settings = dataclasses.replace(default_settings(), link_only_across="source")
    person = settings.types["person"]
    before, after = block(frame(rows), _without_bound(settings)), block(frame(rows), settings)
    assert len(_partners(before, "b/0000/p")) == 41
    assert after["mention_a"].str.starts_with("a/").all() and after["mention_b"].str.starts_with("b/").all()
    # the record in file b keeps its bound of partners in file a, per rule
    cap = max(r.max_pairs_per_mention for r in person.blocking)
    assert cap < 41
    assert cap <= len(_partners(after, "b/0000/p")) <= 41
    assert after.group_by("blocked_by").len()["len"].max() <= cap


def test_rules_run_side_by_side_propose_what_they_propose_one_after_another(monkeypatch, caplog):
    # namesakes fill oversized blocks (sorted by similarity) and crowd mentions over their bound:
    # the two things the rules build once and share while they run side by side
    mentions = frame(_common_name_without_dates())
    settings = default_settings()
    monkeypatch.setattr(block_module, "BLOCKING_THREADS", 1)
    alone = block(mentions, settings)
    monkeypatch.setattr(block_module, "BLOCKING_THREADS", 2)
    with caplog.at_level(logging.INFO, logger="mhgraph.resolve.block"):
        side_by_side = block(mentions, settings)
    assert "oversized" in caplog.text and "most similar pairs" in caplog.text
    assert alone.height > 1000 and side_by_side.equals(alone)


@pytest.mark.parametrize("in_rule_order", [True, False])
def test_each_pair_once_named_by_the_lowest_rule_that_proposed_it(in_rule_order):
    rng = np.random.default_rng(5)
    # in rule order as blocking gives them (the pairs of each rule in turn), or shuffled
    codes, rules = rng.integers(0, 50, 400), rng.integers(0, 7, 400).astype(np.int16)
    rules = np.sort(rules) if in_rule_order else rules
    got_codes, got_rules = block_module._first_rule_per_pair(codes, rules, 7)
    first = {}
    for code, rule in zip(codes.tolist(), rules.tolist()):
        first[code] = min(first.get(code, rule), rule)
    assert got_codes.tolist() == sorted(first)
    assert got_rules.tolist() == [first[c] for c in sorted(first)]
    # codes too large to pack with the rule number (2**61 needs 62 bits, 3 more for 7 rules) take
    # the other sort, with the same answer
    big = codes.astype(np.int64) + 2**61
    big_codes, big_rules = block_module._first_rule_per_pair(big, rules, 7)
    assert (big_codes - 2**61).tolist() == sorted(first) and big_rules.tolist() == got_rules.tolist()
