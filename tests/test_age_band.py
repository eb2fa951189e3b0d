"""The age band of the payroll: computed by the partner in `mhgraph pseudonymise`, taken in by
ingest as `age_band` of EMPLOYED_BY, and used by the wage rule against the youth minimum."""

import datetime as dt

import polars as pl
import pytest

from ingest_helpers import KEY, plain_payroll
from mhgraph.errors import InputError
from mhgraph.graph import build_graph_tables
from mhgraph.indicators import wage_below_minimum
from mhgraph.indicators.age import youth_bands_from_other_periods
from mhgraph.ingest import ingest
from mhgraph.pseudonymise import pseudonymise, pseudonymise_frame
from mhgraph.reference import AGE_BAND_YEARS, AGE_BANDS, age_band, band_of_age, minimum_hourly_wage
from mhgraph.spec import SpecError, find_spec, load_spec

PAYROLL = find_spec("belastingdienst_loonaangifte")


def _four_workers() -> pl.DataFrame:
    """Four employees of one shop from 1 March 2024: aged 16, 19, 20 (birthday on the start day)
    and 34; all paid EUR 7.00 an hour."""
    plain = plain_payroll(4).with_columns(
        werkgever_kvk_nummer=pl.lit("60000001"), werkgever_loonheffingennummer=pl.lit("800000001L01"),
        werkgever_naam=pl.lit("IJssalon Venetië"), datum_aanvang=pl.lit("2024-03-01"),
        datum_einde=pl.lit("2024-08-31"), uren=pl.lit("400"), brutoloon=pl.lit("2800.00"))
    return plain.with_columns(werknemer_geboortedatum=pl.Series(["2007-06-30", "2005-01-15", "2004-03-01",
                                                                  "1990-03-02"]))


def test_the_band_is_the_age_in_completed_years_on_the_first_day():
    out = pseudonymise_frame(_four_workers(), PAYROLL, KEY)
    assert out["werknemer_leeftijdsklasse"].to_list() == ["16", "19", "20", "21+"]
    assert "werknemer_geboortedatum" not in out.columns  # the date of birth never leaves the partner
    assert age_band(dt.date(2008, 2, 29), dt.date(2024, 2, 28)) == "15-"
    assert age_band(dt.date(2008, 2, 29), dt.date(2029, 3, 1)) == "21+"
    assert age_band(None, dt.date(2024, 1, 1)) is None and age_band(dt.date(2024, 5, 1), dt.date(2024, 1, 1)) is None


def test_a_band_the_partner_holds_wins_and_an_unknown_date_gives_no_band():
    plain = _four_workers().with_columns(
        leeftijdsklasse=pl.Series(["", "18", "23", None]),
        werknemer_geboortedatum=pl.Series(["2007-06-30", "2005-01-15", "2004-03-01", "not known"]))
    out = pseudonymise_frame(plain, PAYROLL, KEY)
    assert out["werknemer_leeftijdsklasse"].to_list() == ["16", "18", "21+", None]
    with pytest.raises(InputError, match=r"row 3.*'leeftijdsklasse'|'leeftijdsklasse'.*row 3"):
        pseudonymise_frame(plain.with_columns(leeftijdsklasse=pl.Series(["", "", "jong", ""])), PAYROLL, KEY)


def test_partner_date_formats_of_the_period_start_are_understood(tmp_path):
    spec_text = PAYROLL.path.read_text(encoding="utf-8")
    assert 'age_band_of = "werknemer_geboortedatum"' in spec_text
    plain = _four_workers().with_columns(datum_aanvang=pl.lit("01-03-2024"))
    assert pseudonymise_frame(plain, PAYROLL, KEY)["werknemer_leeftijdsklasse"].to_list() == ["16", "19", "20", "21+"]
    broken = tmp_path / "payroll.toml"
    broken.write_text(spec_text.replace('on = "datum_aanvang"', 'on = "brutoloon"'), encoding="utf-8")
    with pytest.raises(SpecError, match="derived.werknemer_leeftijdsklasse"):
        load_spec(broken)


def test_the_band_reaches_employed_by_and_the_wage_rule_reads_it(tmp_path):
    plain_file = tmp_path / "loonaangifte.csv"
    _four_workers().write_csv(plain_file)
    key_file = tmp_path / "shared.key"
    key_file.write_bytes(b"mhgraph ingest tests - shared key 2025")
    delivered = tmp_path / "delivered"
    pseudonymise(plain_file, "belastingdienst_loonaangifte", delivered, key_file=key_file, created="2025-01-15")
    result = ingest(delivered)
    jobs = result.relations.filter(pl.col("type") == "EMPLOYED_BY").sort("record_id")
    assert jobs["age_band"].to_list() == ["16", "19", "20", "21+"]
    resolution = result.mentions.select("mention_id", "entity_type", entity_id=pl.col("mention_id"))
    employer = result.mentions.filter(pl.col("role") == "werkgever")
    resolution = resolution.with_columns(  # one shop: its four mentions are one company
        entity_id=pl.when(pl.col("mention_id").is_in(employer["mention_id"].to_list())).then(pl.lit("C-shop"))
        .otherwise("entity_id"))
    nodes, edges = build_graph_tables(result.mentions, result.relations, resolution)
    assert edges.filter(pl.col("type") == "EMPLOYED_BY")["age_band"].sort().to_list() == ["16", "19", "20", "21+"]
    # EUR 7.00 is above the youth minimum of a 16-year-old (4.58) and below that of a 19-year-old
    # (7.96), a 20-year-old (10.62) and an adult (13.27)
    hit = wage_below_minimum(nodes, edges, min_employees=1, min_share=0.0)
    assert hit.height == 1 and hit["reason"][0].startswith("3 of 4 employees (75%)")
    assert "unknown age" not in hit["reason"][0] and "onbekend" not in hit["reason_nl"][0]  # none: no clause
    without_band = edges.with_columns(age_band=pl.lit(None, dtype=pl.String))
    assert wage_below_minimum(nodes, without_band, min_employees=1)["reason"][0].startswith("4 of 4")


def test_youth_minimum_tables_match_the_published_hourly_amounts():
    # Rijksoverheid / UWV, minimum (youth) wage per hour from 1 January 2024 and 1 January 2023
    published_2024 = {"21+": 13.27, "20": 10.62, "19": 7.96, "18": 6.64, "17": 5.24, "16": 4.58, "15-": 3.98}
    published_2023 = {"21+": 11.16, "20": 8.93, "19": 6.70, "18": 5.58, "17": 4.41, "16": 3.85, "15-": 3.35}
    assert set(published_2024) == set(AGE_BANDS)
    for band in AGE_BANDS:
        assert minimum_hourly_wage(dt.date(2024, 6, 30), band) == published_2024[band]
        assert minimum_hourly_wage(dt.date(2023, 1, 1), band) == published_2023[band]


def test_band_limits_hold_exactly_the_ages_band_of_age_gives_them():
    assert tuple(AGE_BAND_YEARS) == AGE_BANDS
    for age in range(0, 40):
        youngest, end = AGE_BAND_YEARS[band_of_age(age)]
        assert youngest <= age < end, age


def test_inferred_bands_come_back_for_the_employment_periods_only():
    edges = pl.DataFrame({"relation_id": ["r1", "h1", "r2"], "type": ["EMPLOYED_BY", "REGISTERED_AT", "EMPLOYED_BY"],
                          "from_entity": ["P1"] * 3, "to_entity": ["C1", "A1", "C1"],
                          "valid_from": [dt.date(2023, 1, 1), dt.date(2023, 1, 1), dt.date(2024, 1, 1)],
                          "age_band": [None, None, "16"]})
    out = youth_bands_from_other_periods(edges)
    assert out.select("relation_id", "age_band", "age_band_inferred").rows() == [("r1", "15-", True), ("r2", "16", False)]
