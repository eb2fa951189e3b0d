"""The attacks of the privacy benchmark, on small populations drawn from the published
family-name list, and the Bloom-filter hardenings they are measured against."""

from __future__ import annotations

import base64
import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mhgraph import normalise
from mhgraph.crypto import HARDENINGS, Key, bloom_encode, dice, keyed_hash
from mhgraph.privacy_attacks import bigram_attack, frequency_attack, score_guesses

KEY = Key(b"attack tests - a key the attacker lacks")
LIST = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "nl_family_names_top1000_2007.csv"


@pytest.fixture(scope="module")
def published() -> dict[str, float]:
    known: dict[str, float] = {}
    with LIST.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            core = normalise.family_name_core(row["family_name"])
            known[core] = known.get(core, 0) + int(row["bearers_2007"])
    return known


@pytest.fixture(scope="module")
def people(published) -> list[str]:
    """20,000 family-name cores drawn from the published counts (seeded)."""
    names = sorted(published)
    weights = np.array([published[n] for n in names], dtype=float)
    rng = np.random.default_rng(7)
    return [names[i] for i in rng.choice(len(names), 20_000, p=weights / weights.sum())]


def test_the_frequency_attack_exposes_keyed_hashes_exactly_as_bloom_filters(people, published):
    filters = [bloom_encode(KEY, "family_name", v) for v in people]
    hashes = [keyed_hash(KEY, "family_name", v) for v in people]
    # the same frequency profile: the attack sees nothing else (ties are broken arbitrarily)
    assert sorted(Counter(filters).values()) == sorted(Counter(hashes).values())
    for codes in (filters, hashes):
        result = score_guesses(frequency_attack(codes, published), codes, people)
        assert result.correct >= 8 and result.share_records > 0.05


def test_the_bigram_attack_reaches_far_beyond_the_frequency_attack_and_learns_true_positions(people, published):
    filters = [bloom_encode(KEY, "family_name", v) for v in people]
    frequency = score_guesses(frequency_attack(filters, published), filters, people)
    guesses, stats = bigram_attack(filters, published)
    bigram = score_guesses(guesses, filters, people)
    assert bigram.correct > 3 * frequency.correct
    assert bigram.share_records > frequency.share_records + 0.1
    assert bigram.correct >= 0.8 * bigram.guesses
    learnt = stats["positions"]
    assert len(learnt) >= 10
    right = sum(set(p) <= set(KEY.bloom_positions("family_name", g)) for g, p in learnt.items())
    assert right >= 0.8 * len(learnt)


@pytest.mark.parametrize("hardening", ["blip", "salt"])
def test_per_record_hardening_leaves_the_frequency_attack_nothing(people, published, hardening):
    salts = [f"record {i}" if hardening == "blip" else str(1960 + i % 45) for i in range(len(people))]
    filters = [bloom_encode(KEY, "family_name", v, hardening, s) for v, s in zip(people, salts)]
    plain = score_guesses(frequency_attack([bloom_encode(KEY, "family_name", v) for v in people], published),
                          [bloom_encode(KEY, "family_name", v) for v in people], people)
    hardened = score_guesses(frequency_attack(filters, published), filters, people)
    assert hardened.records_reidentified < plain.records_reidentified / 5


def _ones(code: str) -> int:
    return int(np.unpackbits(np.frombuffer(base64.b64decode(code), dtype=np.uint8)).sum())


def test_hardenings_keep_similar_names_similar_and_do_what_they_say():
    assert set(HARDENINGS) == {"none", "balance", "xor", "blip", "salt"}
    balanced = [bloom_encode(KEY, "family_name", v, "balance") for v in ("jansen", "pietersen", "li")]
    assert {len(base64.b64decode(c)) for c in balanced} == {64} and {_ones(c) for c in balanced} == {256}
    folded = bloom_encode(KEY, "family_name", "jansen", "xor")
    assert len(base64.b64decode(folded)) == 16
    for hardening, salts in (("blip", ("row 1", "row 2")), ("salt", ("1980", "1980"))):
        a, b = (bloom_encode(KEY, "family_name", "jansen", hardening, s) for s in salts)
        c = bloom_encode(KEY, "family_name", "janssen", hardening, salts[0])
        assert dice(a, b) > 0.75 and dice(a, c) > 0.6, hardening
    assert bloom_encode(KEY, "family_name", "jansen", "blip", "row 1") != bloom_encode(KEY, "family_name", "jansen",
                                                                                      "blip", "row 2")
    assert bloom_encode(KEY, "family_name", "jansen", "salt", "1980") != bloom_encode(KEY, "family_name", "jansen",
                                                                                     "salt", "1981")
    with pytest.raises(ValueError, match="needs a per-record salt"):
        bloom_encode(KEY, "family_name", "jansen", "salt")
    with pytest.raises(ValueError, match="unknown hardening"):
        bloom_encode(KEY, "family_name", "jansen", "rot13")


def test_randomised_bits_harden_every_record_with_a_date_of_birth_and_spare_those_without():
    """Without a date of birth a record has no match keys, and its names are all the resolver
    can block on: those stay as they are; every other record of one name gets its own filter."""
    import polars as pl
    from ingest_helpers import plain_payroll

    from mhgraph.pseudonymise import pseudonymise_frame
    from mhgraph.spec import SPEC_DIR, load_spec

    spec = load_spec(SPEC_DIR / "belastingdienst_loonaangifte.toml")
    plain = plain_payroll(6).with_columns(werknemer_achternaam=pl.lit("Jansen"), werknemer_voornaam=pl.lit("Jan"),
                                          werknemer_geboortedatum=pl.Series([None, None] + ["1990-04-05"] * 4))
    delivered = {h: pseudonymise_frame(plain, spec, KEY, h)["werknemer_achternaam_bf"].to_list()
                 for h in ("none", "blip")}
    assert delivered["blip"][:2] == delivered["none"][:2]
    assert len(set(delivered["blip"][2:])) == 4 and not set(delivered["blip"][2:]) & set(delivered["none"])
    assert min(dice(delivered["none"][0], code) for code in delivered["blip"][2:]) > 0.75
