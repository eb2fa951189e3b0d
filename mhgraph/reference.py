"""Reference figures the synthetic population and the indicators share.

>>> minimum_hourly_wage(datetime.date(2024, 3, 1))
13.27
>>> youth_minimum_share(17), youth_minimum_share(30)
(0.395, 1.0)
"""

from __future__ import annotations

import bisect
import datetime

__all__ = ["HIGH_RISK_SBI_PREFIXES", "MINIMUM_HOURLY_WAGE", "YOUTH_MINIMUM_SHARE", "minimum_hourly_wage",
           "youth_minimum_share"]

# Statutory gross minimum wage per hour for workers aged 21 and over (Wet minimumloon en
# minimumvakantiebijslag). Before 2024 the law set a monthly amount; the hourly figure here is
# that amount on a 40-hour week, the lowest hourly rate an employer could lawfully pay then.
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

# Statutory youth minimum wage (minimumjeugdloon) as a share of the adult minimum, by age on
# the day worked; unchanged from 1 July 2019 through 2025. Ages 21 and over earn the full rate;
# 15 stands for 15 and younger.
YOUTH_MINIMUM_SHARE: dict[int, float] = {15: 0.30, 16: 0.345, 17: 0.395, 18: 0.50, 19: 0.60, 20: 0.80}

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


def minimum_hourly_wage(day: datetime.date) -> float:
    """The statutory hourly minimum wage in force on ``day`` (the earliest known before 2022)."""
    starts = [start for start, _ in MINIMUM_HOURLY_WAGE]
    index = max(bisect.bisect_right(starts, day) - 1, 0)
    return MINIMUM_HOURLY_WAGE[index][1]


def youth_minimum_share(age: int) -> float:
    """The share of the adult minimum wage that is the legal minimum at ``age`` (whole years)."""
    if age >= 21:
        return 1.0
    return YOUTH_MINIMUM_SHARE[max(int(age), 15)]
