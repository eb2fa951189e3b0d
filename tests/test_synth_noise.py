"""Noise of the synthetic extracts: the rates measured in the data match the configured ones,
the log says exactly what the data shows, and every kind of noise is one the engine's
normalisers are meant to absorb (or, for typos, to tolerate)."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import polars as pl
import pytest

from mhgraph import normalise
from mhgraph.errors import InputError
from mhgraph.synth import NoiseConfig
from mhgraph.synth.measure import detect_noise, noise_rates
from mhgraph.synth.noise import (
    addition_variant,
    birth_date_typo,
    digit_slip,
    initials,
    legal_form_variant,
    particle_variant,
    postcode_typo,
    postcode_variant,
    strip_diacritics,
    transpose,
    typo,
)
from synth_helpers import SPECS, synthetic_set


def _within(measured: float, rate: float, n: int) -> bool:
    """Within four binomial standard deviations (plus half a per cent for small counts)."""
    return abs(measured - rate) <= 4 * math.sqrt(rate * (1 - rate) / max(n, 1)) + 0.005


def test_measured_rates_match_the_configured_rates():
    folder, summary = synthetic_set()
    detected, eligible = detect_noise(folder)
    rates = noise_rates(detected, eligible)
    config = NoiseConfig()
    assert set(rates) == {f for f in config.__dataclass_fields__}, "a kind of noise never had a chance"
    for kind, measured in rates.items():
        rate = getattr(config, kind)
        assert eligible[kind] >= 30, f"{kind}: only {eligible[kind]} eligible cells"
        assert _within(measured, rate, eligible[kind]), f"{kind}: measured {measured:.4f}, configured {rate}"
        # The generator counts a cell before pseudonymisation; a block that lost every
        # identifier is no mention, so the data cannot count it: a cell or two of difference.
        assert summary["noise"]["measured"][kind] == pytest.approx(measured, abs=2 / eligible[kind]), kind


def _person_role_of_column() -> dict[tuple[str, str], str]:
    return {(spec.name, column): block.role for spec in SPECS.values() for block in spec.entities
            if block.type == "person" for column in block.plaintext.values()}


def test_the_noise_log_agrees_with_the_data():
    folder, _ = synthetic_set()
    detected, _ = detect_noise(folder)
    assert detected.filter(pl.col("kind") == "unexplained").height == 0, detected.filter(pl.col("kind") == "unexplained")
    logged = pl.read_parquet(folder / "truth" / "noise.parquet")
    assert logged.columns == ["source", "record_id", "column", "kind"]
    assert logged.height == logged.unique().height
    # A person block that lost every identifier is no mention: its cells cannot be checked
    # from the data (an address that went missing still can, through its municipality).
    roles = _person_role_of_column()
    mentioned = set(pl.read_parquet(folder / "truth" / "mentions.parquet").select("source", "record_id", "role").iter_rows())
    checkable = [row for row in logged.iter_rows()
                 if (row[0], row[2]) not in roles or (row[0], row[1], roles[(row[0], row[2])]) in mentioned]
    assert len(checkable) >= 0.995 * logged.height
    assert set(checkable) == set(detected.select(logged.columns).iter_rows())


def test_noise_counted_straight_from_the_plaintext():
    """A few rates counted without the measuring module: BSNs, postcodes, employer KvK numbers."""
    folder, _ = synthetic_set()
    plain = {name: pl.read_parquet(folder / "truth" / "plaintext" / f"{name}.parquet") for name in SPECS}
    payroll = plain["belastingdienst_loonaangifte"]
    bsn_missing = payroll["werknemer_bsn"].null_count() / payroll.height
    assert bsn_missing < 0.02
    ind = plain["ind_verblijfsvergunningen"]
    assert 0.2 < ind["vreemdeling_bsn"].null_count() / ind.height < 0.4
    kvk = payroll["werkgever_kvk_nummer"].null_count() / payroll.height
    assert _within(kvk, 0.05, payroll.height)
    postcodes = payroll["werknemer_adres_postcode"].drop_nulls()
    odd = (~postcodes.str.contains(r"^[1-9]\d{3} [A-Z]{2}$")).mean()
    assert _within(odd, 0.2, postcodes.len())
    assert postcodes.map_elements(normalise.postcode, return_dtype=pl.String).null_count() == 0
    officers = plain["kvk_functionarissen"]["datum_aanvang"]
    assert _within(officers.str.contains(r"^\d{4}-\d{2}-\d{2}$").mean(), 0.85, officers.len())


@pytest.mark.parametrize("level,factor", [("low", 0.5), ("high", 2.0)])
def test_levels_scale_the_rates(level, factor):
    folder, summary = synthetic_set(900, 5, level)
    detected, eligible = detect_noise(folder)
    rates = noise_rates(detected, eligible)
    config = NoiseConfig()
    for kind in ("date_format", "postcode_format", "trade_name", "legal_form_variant", "bsn_missing_registers"):
        rate = min(1.0, getattr(config, kind) * factor)
        assert summary["noise"]["configured"][kind] == pytest.approx(rate)
        assert _within(rates[kind], rate, eligible[kind]), f"{level} {kind}: {rates[kind]:.3f} vs {rate}"


def test_no_noise_means_clean_extracts(tmp_path):
    from mhgraph.synth import synthesize

    summary = synthesize(tmp_path, persons=500, seed=9, noise=0, networks=1)
    assert pl.read_parquet(tmp_path / "truth" / "noise.parquet").height == 0
    detected, eligible = detect_noise(tmp_path)
    assert detected.height == 0 and sum(eligible.values()) > 1000
    assert all(rate == 0 for rate in summary["noise"]["measured"].values())


def test_level_names_and_numbers():
    assert NoiseConfig.from_level("medium") == NoiseConfig()
    assert NoiseConfig.from_level(3).typo == pytest.approx(0.06)
    assert NoiseConfig.from_level(10).lost_diacritics == 1.0
    with pytest.raises(InputError):
        NoiseConfig.from_level("loud")
    with pytest.raises(InputError):
        NoiseConfig.from_level(-1)


def _edits(a: str, b: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def test_each_kind_of_noise_is_realistic_and_recoverable_where_it_should_be():
    rng = np.random.default_rng(0)
    for name in ("Jansen", "Wiśniewski", "Nguyễn", "Kowalczyk", "Lotte", "Anna"):
        slipped = typo(rng, name)
        assert _edits(slipped, name) == 1 and slipped[0] == name[0]
        swapped = transpose(rng, name)
        assert sorted(swapped) == sorted(name) and _edits(swapped, name) == 2
    assert initials("Jan Pieter") == "J.P." and initials("Łukasz") == "Ł."
    assert strip_diacritics("Ștefănescu Öztürk Đặng") == "Stefanescu Ozturk Dang"
    for particle, core in (("van der", "Meer"), ("de", "Jong"), ("van 't", "Hof"), ("el", "Amrani"),
                           ("de la", "Cruz")):
        for _ in range(10):
            variant = particle_variant(rng, particle, core)
            assert variant != f"{particle} {core}"
            assert normalise.family_name_core(variant) == normalise.family_name_core(f"{particle} {core}")
    for _ in range(10):
        assert normalise.postcode(postcode_variant(rng, "1234 AB")) == "1234AB"
        number, addition = addition_variant(rng, "12", "A")
        assert (number, addition) != ("12", "A") and normalise.house_number(number, addition or None) == (12, "A")
        number, addition = addition_variant(rng, "7", "2")
        assert normalise.house_number(number, addition or None) == (7, "2")
        name = legal_form_variant(rng, "Delta Schoonmaak B.V.")
        assert name != "Delta Schoonmaak B.V."
        assert normalise.company_name(name) == normalise.company_name("Delta Schoonmaak B.V.")
    assert re.fullmatch(r"[A-Z]\.", initials("anna"))


def test_errors_no_normaliser_can_undo_stay_small_and_plausible():
    rng = np.random.default_rng(1)
    born = dt.date(1990, 2, 28)
    for _ in range(50):
        wrong = postcode_typo(rng, "6821 BX")
        assert normalise.postcode(wrong) not in (None, "6821BX")
        assert sum(a != b for a, b in zip(wrong, "6821 BX")) == 1 and wrong[0] == "6"
        slip = digit_slip(rng, "123456782")
        assert len(slip) == 9 and sum(a != b for a, b in zip(slip, "123456782")) == 1
        off = birth_date_typo(rng, born)
        assert off != born and (abs((off - born).days) <= 3 or abs(off.year - born.year) == 1)
        name = "Delta Schoonmaak B.V."
        slipped = typo(rng, name, 1, len(name) - len(" B.V."))
        assert slipped.endswith(" B.V.") and slipped != name
