"""Reference figures the synthetic population, pseudonymisation and the indicators share.

>>> minimum_hourly_wage(datetime.date(2024, 3, 1))
13.27
>>> minimum_hourly_wage(datetime.date(2024, 3, 1), "18")
6.64
>>> age_band(datetime.date(2006, 5, 2), datetime.date(2024, 5, 1))
'17'
>>> youth_minimum_share(17), youth_minimum_share(30)
(0.395, 1.0)
"""

from __future__ import annotations

import bisect
import datetime
import decimal

__all__ = ["AGE_BANDS", "AGE_BAND_YEARS", "HIGH_RISK_SBI_PREFIXES", "MINIMUM_HOURLY_WAGE", "YOUTH_MINIMUM_SHARE", "age_band",
           "band_of_age", "minimum_hourly_wage", "youth_minimum_share"]

# Statutory gross minimum wage per hour for workers aged 21 and over (Wet minimumloon en
# minimumvakantiebijslag, art. 8 and 14; amounts as published by the Rijksoverheid, "Bedragen
# minimumloon", and UWV for each half year). Before 2024 the law set a monthly amount; the
# hourly figure here is that amount on a 40-hour week, the lowest hourly rate an employer could
# lawfully pay then. Periods starting before the first date here are not judged.
MINIMUM_HOURLY_WAGE: tuple[tuple[datetime.date, float], ...] = (
    (datetime.date(2022, 1, 1), 9.96),
    (datetime.date(2022, 7, 1), 10.14),
    (datetime.date(2023, 1, 1), 11.16),
    (datetime.date(2023, 7, 1), 11.51),
    (datetime.date(2024, 1, 1), 13.27),
    (datetime.date(2024, 7, 1), 13.68),
    (datetime.date(2025, 1, 1), 14.06),
    (datetime.date(2025, 7, 1), 14.40),
    (datetime.date(2026, 1, 1), 14.71),
)

# Coarse age at the start of an employment period, as the payroll partner delivers it
# (`werknemer_leeftijdsklasse`, see docs/data-contract.md): 15 or younger, each year from 16 to
# 20, and 21 or older.
AGE_BANDS = ("15-", "16", "17", "18", "19", "20", "21+")
# The ages in completed years each band holds, as [youngest, oldest + 1): "15-" holds every age
# up to 15, "21+" every age from 21 (band_of_age below reads them).
AGE_BAND_YEARS: dict[str, tuple[float, float]] = {
    "15-": (0.0, 16.0), **{str(age): (float(age), age + 1.0) for age in range(16, 21)}, "21+": (21.0, float("inf"))}

# Statutory youth minimum wage as a share of the adult minimum, per age band (Wet minimumloon en
# minimumvakantiebijslag art. 9 with the Besluit minimumjeugdloonpercentages; percentages in force
# since 1 July 2019, published by the Rijksoverheid as "Percentages minimumjeugdloon"). The
# published hourly youth amounts are the adult amount times this share, rounded to the cent.
# Under 15 no minimum applies at all; the band "15-" takes the 15-year rate.
YOUTH_MINIMUM_SHARE = {"15-": 0.30, "16": 0.345, "17": 0.395, "18": 0.50, "19": 0.60, "20": 0.80, "21+": 1.0}

# SBI 2008 codes of sectors where labour exploitation is most often found (context only,
# never a flag on its own): agriculture, food processing, construction, horeca, logistics,
# temp agencies, cleaning, hairdressing/beauty/massage.
HIGH_RISK_SBI_PREFIXES = {
    "01": "agriculture and horticulture",
    "10": "food processing",
    "41": "construction",
    "43": "specialised construction",
    "49": "road transport",
    "52": "warehousing and logistics",
    "55": "accommodation",
    "56": "food and beverage service (horeca)",
    "78": "employment and temp agencies",
    "812": "cleaning",
    "9602": "hairdressing, beauty and nail care",
    "9604": "sauna, massage and wellness",
}


def minimum_hourly_wage(day: datetime.date, band: str = "21+") -> float:
    """The statutory hourly minimum wage in force on ``day`` for age band ``band`` (the earliest
    known before 2022), rounded to the cent as the official tables are."""
    starts = [start for start, _ in MINIMUM_HOURLY_WAGE]
    index = max(bisect.bisect_right(starts, day) - 1, 0)
    exact = decimal.Decimal(str(MINIMUM_HOURLY_WAGE[index][1])) * decimal.Decimal(str(YOUTH_MINIMUM_SHARE[band]))
    return float(exact.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP))


def age_band(born: datetime.date | None, on: datetime.date | None) -> str | None:
    """The age band (:data:`AGE_BANDS`) of a person born on ``born`` on the day ``on``, from the
    age in completed years; ``None`` when a date is unknown or ``on`` lies before ``born``."""
    if born is None or on is None or on < born:
        return None
    return band_of_age(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))


def band_of_age(years: int) -> str:
    """The age band of an age in completed years.

    >>> [band_of_age(n) for n in (14, 17, 30)]
    ['15-', '17', '21+']
    """
    return next(band for band, (_, end) in AGE_BAND_YEARS.items() if years < end)


def youth_minimum_share(age: int) -> float:
    """The share of the adult minimum wage that is the legal minimum at ``age`` (whole years)."""
    return YOUTH_MINIMUM_SHARE[band_of_age(int(age))]
