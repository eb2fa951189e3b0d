"""Noise of the kinds partner registers really have, at configurable rates, with a log.

Each rate in :class:`NoiseConfig` is the chance that one eligible cell (or one person block,
for swapped names) gets that kind of noise. The kinds of one cell exclude one another, so
what a cell shows can always be told apart afterwards (see :mod:`mhgraph.synth.measure`);
the log holds one row per changed cell: ``source``, ``record_id``, ``column``, ``kind``.

>>> NoiseConfig.from_level("high").typo == 2 * NoiseConfig().typo
True
>>> rng = np.random.default_rng(0)
>>> particle_variant(rng, "van der", "Berg") in {"Berg, van der", "Berg", "Van der Berg", "vd Berg", "v.d. Berg"}
True
>>> initials("Jan-Willem"), strip_diacritics("Łukasz Wójcik")
('J.W.', 'Lukasz Wojcik')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import polars as pl

from mhgraph import normalise
from mhgraph.errors import InputError
from mhgraph.spec import SourceSpec
from mhgraph.synth.layout import TRADE_NAME_SOURCES, address_extras, company_attribute, entity_column, primary_format

__all__ = [
    "LEVELS",
    "NoiseConfig",
    "addition_variant",
    "apply_noise",
    "birth_date_typo",
    "digit_slip",
    "initials",
    "legal_form_variant",
    "particle_variant",
    "postcode_typo",
    "postcode_variant",
    "strip_diacritics",
    "transpose",
    "typo",
]

LEVELS = {"low": 0.5, "medium": 1.0, "high": 2.0}


@dataclass(frozen=True)
class NoiseConfig:
    """Noise rates at the ``medium`` level; ``from_level`` scales every rate."""

    typo: float = 0.02  # one letter replaced by a keyboard neighbour, doubled or dropped
    transposition: float = 0.01  # two neighbouring letters swapped
    swapped_names: float = 0.01  # given and family name written in each other's column (per person block)
    initials: float = 0.05  # given names written as initials, "J.P."
    lost_diacritics: float = 0.25  # of names with diacritics: "Wójcik" -> "Wojcik"
    particle_variant: float = 0.30  # of family names with a particle: "Berg, van der", "vd Berg", ...
    name_missing: float = 0.01
    birth_date_missing: float = 0.02
    day_month_swapped: float = 0.01  # of birth dates whose day could be a month
    date_format: float = 0.15  # of dates in registers that accept several formats: another accepted format
    postcode_format: float = 0.20  # "1234AB", "1234 ab", "1234ab"
    address_missing: float = 0.01  # street, house number and postcode left empty (town, municipality kept)
    addition_format: float = 0.50  # of additions: "12A", "12-a", "12 a", or a lower-case addition
    bsn_missing_payroll: float = 0.005  # the payroll nearly always has a BSN
    bsn_missing_registers: float = 0.30  # IND, KvK and municipal registers often do not
    trade_name: float = 0.30  # payroll, IND sponsor list and permits use the trade name
    legal_form_variant: float = 0.20  # "B.V." written "BV", "bv", "B.V" or left out
    employer_kvk_missing: float = 0.05  # payroll rows without the employer's KvK number
    # Errors no normaliser can undo: the engine has to live with them.
    addition_missing: float = 0.10  # of additions: left out, "12" for "12A" (same building, other address)
    postcode_typo: float = 0.003  # one character of the postcode wrong
    house_number_typo: float = 0.003  # house number off by one or two
    bsn_typo: float = 0.002  # one digit of the BSN wrong
    birth_date_typo: float = 0.01  # day of birth off by one to three, or year off by one
    company_typo: float = 0.01  # one keyboard slip in a company name

    @classmethod
    def from_level(cls, level: str | float) -> "NoiseConfig":
        """``low``, ``medium`` or ``high``, or a number that scales the medium rates."""
        if isinstance(level, str) and level in LEVELS:
            factor = LEVELS[level]
        else:
            try:
                factor = float(level)
            except (TypeError, ValueError):
                raise InputError(f"noise level must be one of {', '.join(LEVELS)} or a number, not {level!r}") from None
        if not factor >= 0:
            raise InputError(f"noise level must not be negative, got {level!r}")
        return cls().scaled(factor)

    def scaled(self, factor: float) -> "NoiseConfig":
        """Every rate times ``factor``, at most 1."""
        return NoiseConfig(**{f.name: min(1.0, getattr(self, f.name) * factor) for f in dataclasses.fields(self)})


# -- one value at a time ------------------------------------------------------------------------
_KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbours(ch: str) -> str:
    low = ch.lower()
    for r, row in enumerate(_KEYBOARD):
        c = row.find(low)
        if c >= 0:
            near = row[max(c - 1, 0) : c] + row[c + 1 : c + 2]
            for other in (r - 1, r + 1):
                if 0 <= other < len(_KEYBOARD):
                    near += _KEYBOARD[other][max(c - 1, 0) : c + 1]
            return near.replace(low, "")
    return "e"


def typo(rng: np.random.Generator, text: str, first: int = 1, last: int | None = None) -> str:
    """One keyboard slip in ``text[first:last]``: a neighbour key, a doubled or a dropped letter."""
    end = len(text) if last is None else last
    positions = [i for i, ch in enumerate(text) if first <= i < end and ch.isascii() and ch.isalpha()]
    if not positions:
        return text
    i = positions[int(rng.integers(len(positions)))]
    ch = text[i]
    op = int(rng.integers(3))
    if op == 1 and len(text) > 3:
        return text[:i] + text[i + 1 :]
    if op == 2:
        return text[:i] + ch + text[i:]
    near = _neighbours(ch)
    new = near[int(rng.integers(len(near)))]
    return text[:i] + (new.upper() if ch.isupper() else new) + text[i + 1 :]


def transpose(rng: np.random.Generator, text: str, first: int = 1) -> str:
    """Two different neighbouring letters from position ``first`` on swapped."""
    positions = [i for i in range(max(first, 1), len(text) - 1)
                 if text[i] != text[i + 1] and text[i].isalpha() and text[i + 1].isalpha()]
    if not positions:
        return text
    i = positions[int(rng.integers(len(positions)))]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def initials(text: str) -> str:
    """``"Jan Pieter"`` -> ``"J.P."``."""
    return "".join(part[0].upper() + "." for part in re.split(r"[ -]+", text.strip()) if part)


_SPECIAL = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "İ": "I", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O"})


def strip_diacritics(text: str) -> str:
    """What a system without diacritics makes of a name: ``"Ștefănescu"`` -> ``"Stefanescu"``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def particle_variant(rng: np.random.Generator, particle: str, core: str) -> str:
    """Another way registers write a family name with a particle (tussenvoegsel)."""
    options = [f"{core}, {particle}", core, particle[0].upper() + particle[1:] + " " + core]
    if particle in ("van der", "van den", "van de"):
        options += [f"vd {core}", f"v.d. {core}"]
    return options[int(rng.integers(len(options)))]


def postcode_variant(rng: np.random.Generator, postcode: str) -> str:
    compact = postcode.replace(" ", "")
    options = [compact, postcode.lower(), compact.lower()]
    return options[int(rng.integers(len(options)))]


def addition_variant(rng: np.random.Generator, number: str, addition: str) -> tuple[str, str]:
    """House number and addition written together (``12A``, ``12-a``, ``12 a``) or in lower case."""
    letter = addition.isalpha()
    options = [(f"{number}-{addition}", ""), (f"{number} {addition}", "")]
    if letter:
        options += [(f"{number}{addition}", ""), (f"{number}-{addition.lower()}", ""),
                    (f"{number} {addition.lower()}", ""), (number, addition.lower())]
    return options[int(rng.integers(len(options)))]


def digit_slip(rng: np.random.Generator, digits: str, first: int = 0) -> str:
    """One digit from position ``first`` on replaced by another."""
    i = int(rng.integers(first, len(digits)))
    other = "0123456789".replace(digits[i], "")
    return digits[:i] + other[int(rng.integers(len(other)))] + digits[i + 1 :]


def postcode_typo(rng: np.random.Generator, postcode: str) -> str:
    """``1234 AB`` with one digit (not the first) or one letter wrong; still a valid postcode."""
    if rng.random() < 0.4:
        i = 5 + int(rng.integers(2))
        letters = "ABCDEGHJKLMNPRSTVWXZ".replace(postcode[i], "")
        new = postcode[:i] + letters[int(rng.integers(len(letters)))] + postcode[i + 1 :]
        if new[5:] not in ("SA", "SD", "SS"):  # pairs PostNL does not use
            return new
    return digit_slip(rng, postcode[:4], first=1) + postcode[4:]


def birth_date_typo(rng: np.random.Generator, born: dt.date) -> dt.date:
    """The day off by one to three within the month, or the year off by one."""
    if rng.random() < 0.7:
        shifts = [d for d in (-3, -2, -1, 1, 2, 3) if 1 <= born.day + d <= 28]
        return born.replace(day=born.day + shifts[int(rng.integers(len(shifts)))])
    year = born.year + (1 if rng.random() < 0.5 else -1)
    return born.replace(year=year, day=min(born.day, 28) if born.month == 2 else born.day)


_SUFFIXES = {"B.V.": ("BV", "bv", "B.V", ""), "N.V.": ("NV", "nv", ""), "V.O.F.": ("VOF", "vof", ""),
             "C.V.": ("CV", "")}


def legal_form_variant(rng: np.random.Generator, name: str) -> str:
    for suffix, options in _SUFFIXES.items():
        if name.endswith(" " + suffix):
            other = options[int(rng.integers(len(options)))]
            return (name[: -len(suffix)] + other).rstrip()
    return name


def distinct_trade_name(trade_name: str, name: str) -> bool:
    """A trade name that is more than the statutory name without its legal form."""
    return normalise.company_name(trade_name) != normalise.company_name(name)


def has_legal_suffix(name: str) -> bool:
    return _suffix_length(name) > 0


def _suffix_length(name: str) -> int:
    """Length of a trailing legal form (" B.V.") in ``name``, 0 when it has none."""
    return next((len(s) + 1 for s in _SUFFIXES if name.endswith(" " + s)), 0)


# -- whole extracts ------------------------------------------------------------------------------
class _Cells:
    """The columns of one extract as Python lists, with the noise log and per-kind counts."""

    def __init__(self, spec: SourceSpec, frame: pl.DataFrame, rng: np.random.Generator, config: NoiseConfig,
                 counts: dict[str, list[int]]):
        self.spec, self.rng, self.config, self.counts = spec, rng, config, counts
        self.frame = frame
        self.n = frame.height
        self.columns: dict[str, list] = {}
        self.record_ids = frame[spec.record_id].to_list()
        self.log_rows: list[int] = []
        self.log_columns: list[str] = []
        self.log_kinds: list[str] = []

    def col(self, name: str) -> list:
        if name not in self.columns:
            self.columns[name] = self.frame[name].to_list()
        return self.columns[name]

    def present(self, name: str) -> np.ndarray:
        return np.array([v is not None and v != "" for v in self.col(name)], dtype=bool)

    def log(self, row: int, column: str, kind: str) -> None:
        self.log_rows.append(row)
        self.log_columns.append(column)
        self.log_kinds.append(kind)

    def count(self, kind: str, eligible: int, applied: int = 0) -> None:
        slot = self.counts.setdefault(kind, [0, 0])
        slot[0] += int(eligible)
        slot[1] += int(applied)

    def choose(self, kinds: list[tuple[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """Draw at most one kind per cell: kind ``k`` with chance ``rate_k`` where eligible."""
        u = self.rng.random(self.n)
        rates = [getattr(self.config, kind) for kind, _ in kinds]
        total = sum(rates)
        if total > 1:  # only at extreme levels: keep the kinds exclusive
            rates = [r / total for r in rates]
        low = np.zeros(self.n)
        out = {}
        for (kind, eligible), rate in zip(kinds, rates):
            high = low + rate * eligible
            out[kind] = np.flatnonzero((u >= low) & (u < high) & eligible)
            low = high
            self.count(kind, eligible.sum())
        return out

    def change(self, kind: str, rows, column: str, new_value) -> bool:
        values = self.col(column)
        if values[rows] == new_value:
            return False
        values[rows] = new_value
        self.log(rows, column, kind)
        return True

    def result(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        frame = self.frame.with_columns(
            [pl.Series(name, values, dtype=pl.String) for name, values in self.columns.items()]
        )
        record_ids = [self.record_ids[i] for i in self.log_rows]
        log = pl.DataFrame({
            "source": pl.Series([self.spec.name] * len(record_ids), dtype=pl.String),
            "record_id": pl.Series(record_ids, dtype=pl.String),
            "column": pl.Series(self.log_columns, dtype=pl.String),
            "kind": pl.Series(self.log_kinds, dtype=pl.String),
        })
        return frame, log


def apply_noise(rng: np.random.Generator, spec: SourceSpec, frame: pl.DataFrame, world, config: NoiseConfig,
                counts: dict[str, list[int]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Noise on one clean plaintext extract; returns the noisy extract and its log.

    ``counts`` collects, per kind, how many cells were eligible and how many changed.
    """
    cells = _Cells(spec, frame, rng, config, counts)
    for block in spec.entities:
        if block.type == "person" and block.plaintext:
            _person_noise(cells, block, world)
        elif block.type == "address" and block.plaintext:
            _address_noise(cells, block, world)
        elif block.type == "company" and block.plaintext:
            _company_noise(cells, block, world)
    _date_noise(cells, [name for name, col in spec.columns.items() if col.kind == "date"])
    return cells.result()


def _applied(cells: _Cells, kind: str, n: int) -> None:
    cells.count(kind, 0, n)


def _person_noise(cells: _Cells, block, world) -> None:
    rng, spec = cells.rng, cells.spec
    plain = block.plaintext
    index = cells.frame[entity_column(block.role)].to_numpy()
    exists = index >= 0
    safe = np.where(exists, index, 0)
    given_col, family_col = plain["given_name"], plain["family_name"]
    particle = world.persons["particle"][safe]
    core = world.persons["family"][safe]
    # Swapped given and family name: one decision per person block.
    given, family = cells.col(given_col), cells.col(family_col)
    both = exists & cells.present(given_col) & cells.present(family_col) & \
        np.array([g != f for g, f in zip(given, family)], dtype=bool)  # "Li Li" cannot be swapped
    swapped = both & (rng.random(cells.n) < cells.config.swapped_names)
    cells.count("swapped_names", both.sum())
    for i in np.flatnonzero(swapped).tolist():
        given[i], family[i] = family[i], given[i]
        cells.log(i, given_col, "swapped_names")
        cells.log(i, family_col, "swapped_names")
    _applied(cells, "swapped_names", swapped.sum())
    for column, is_given in ((given_col, True), (family_col, False)):
        values = cells.col(column)
        ok = exists & ~swapped & cells.present(column)
        diacritics = ok & np.array([v is not None and strip_diacritics(v) != v for v in values], dtype=bool)
        kinds = [("name_missing", ok), ("typo", ok), ("transposition", ok), ("lost_diacritics", diacritics)]
        kinds.append(("initials", ok) if is_given else ("particle_variant", ok & (particle != "")))
        chosen = cells.choose(kinds)
        for kind, rows in chosen.items():
            done = 0
            for i in rows.tolist():
                old = values[i]
                # Slips in a family name hit its core: a slip in a particle may make another particle.
                first = 1 if is_given or not particle[i] else len(particle[i]) + 1
                if kind == "name_missing":
                    new = None
                elif kind == "typo":
                    new = typo(rng, old, first)
                elif kind == "transposition":
                    new = transpose(rng, old, first)
                elif kind == "lost_diacritics":
                    new = strip_diacritics(old)
                elif kind == "initials":
                    new = initials(old)
                else:
                    new = particle_variant(rng, particle[i], core[i])
                done += cells.change(kind, i, column, new)
            _applied(cells, kind, done)
    if "birth_date" in plain:
        column = plain["birth_date"]
        values = cells.col(column)
        ok = exists & cells.present(column)
        born = world.persons["birth"][safe].astype("datetime64[D]").astype(object)
        swappable = ok & np.array([b.day <= 12 and b.day != b.month for b in born], dtype=bool)
        chosen = cells.choose([("birth_date_missing", ok), ("day_month_swapped", swappable), ("birth_date_typo", ok)])
        fmt = primary_format(spec)
        for i in chosen["birth_date_missing"].tolist():
            cells.change("birth_date_missing", i, column, None)
        for i in chosen["day_month_swapped"].tolist():
            b = born[i]
            cells.change("day_month_swapped", i, column, b.replace(month=b.day, day=b.month).strftime(fmt))
        for i in chosen["birth_date_typo"].tolist():
            cells.change("birth_date_typo", i, column, birth_date_typo(rng, born[i]).strftime(fmt))
        for kind, rows in chosen.items():
            _applied(cells, kind, len(rows))
        _date_noise(cells, [column])
    if "bsn" in plain:
        kind = "bsn_missing_payroll" if spec.partner == "belastingdienst" else "bsn_missing_registers"
        column = plain["bsn"]
        ok = exists & cells.present(column)
        chosen = cells.choose([(kind, ok), ("bsn_typo", ok)])
        values = cells.col(column)
        for i in chosen[kind].tolist():
            cells.change(kind, i, column, None)
        for i in chosen["bsn_typo"].tolist():
            cells.change("bsn_typo", i, column, digit_slip(rng, values[i]))
        for kind, rows in chosen.items():
            _applied(cells, kind, len(rows))


def _address_noise(cells: _Cells, block, world) -> None:
    rng = cells.rng
    plain = block.plaintext
    index = cells.frame[entity_column(block.role)].to_numpy()
    pc_col, nr_col, add_col = plain["postcode"], plain["house_number"], plain["addition"]
    street_col, _town_col = address_extras(block)
    ok = (index >= 0) & cells.present(pc_col)
    with_addition = ok & cells.present(add_col)
    chosen = cells.choose([("address_missing", ok), ("postcode_format", ok), ("postcode_typo", ok)])
    for i in chosen["address_missing"].tolist():
        for column in (pc_col, nr_col, street_col):
            cells.change("address_missing", i, column, None)
    _applied(cells, "address_missing", len(chosen["address_missing"]))
    postcodes = cells.col(pc_col)
    for i in chosen["postcode_format"].tolist():
        cells.change("postcode_format", i, pc_col, postcode_variant(rng, postcodes[i]))
    for i in chosen["postcode_typo"].tolist():
        cells.change("postcode_typo", i, pc_col, postcode_typo(rng, postcodes[i]))
    _applied(cells, "postcode_format", len(chosen["postcode_format"]))
    _applied(cells, "postcode_typo", len(chosen["postcode_typo"]))
    kept = ok.copy()
    kept[chosen["address_missing"]] = False
    numbers, additions = cells.col(nr_col), cells.col(add_col)
    chosen = cells.choose([("house_number_typo", kept), ("addition_format", with_addition & kept),
                           ("addition_missing", with_addition & kept)])
    for i in chosen["house_number_typo"].tolist():
        number = int(numbers[i])
        shift = [d for d in (-2, -1, 1, 2) if number + d >= 1]
        cells.change("house_number_typo", i, nr_col, str(number + shift[int(rng.integers(len(shift)))]))
    for i in chosen["addition_format"].tolist():
        number, addition = addition_variant(rng, numbers[i], additions[i])
        cells.change("addition_format", i, nr_col, number)
        cells.change("addition_format", i, add_col, addition or None)
    for i in chosen["addition_missing"].tolist():
        cells.change("addition_missing", i, add_col, None)
    for kind, rows in chosen.items():
        _applied(cells, kind, len(rows))


def _company_noise(cells: _Cells, block, world) -> None:
    plain, spec = block.plaintext, cells.spec
    index = cells.frame[entity_column(block.role)].to_numpy()
    exists = index >= 0
    safe = np.where(exists, index, 0)
    if "name" in plain:
        column = plain["name"]
        values = cells.col(column)
        ok = exists & cells.present(column)
        trade = world.companies["trade_name"][safe]
        name = world.companies["name"][safe]
        tradeable = ok & (spec.name in TRADE_NAME_SOURCES) & (company_attribute(block) == "name") & \
            np.array([distinct_trade_name(t, x) for t, x in zip(trade, name)], dtype=bool)
        suffixed = ok & np.array([v is not None and has_legal_suffix(v) for v in values], dtype=bool)
        chosen = cells.choose([("trade_name", tradeable), ("legal_form_variant", suffixed), ("company_typo", ok)])
        for i in chosen["trade_name"].tolist():
            cells.change("trade_name", i, column, trade[i])
        done = sum(cells.change("legal_form_variant", i, column, legal_form_variant(cells.rng, values[i]))
                   for i in chosen["legal_form_variant"].tolist())
        # A slip in the name itself, never in its legal form (that would be another legal form).
        slips = sum(cells.change("company_typo", i, column,
                                 typo(cells.rng, values[i], 1, len(values[i]) - _suffix_length(values[i])))
                    for i in chosen["company_typo"].tolist())
        _applied(cells, "trade_name", len(chosen["trade_name"]))
        _applied(cells, "legal_form_variant", done)
        _applied(cells, "company_typo", slips)
    if spec.partner == "belastingdienst" and "kvk_number" in plain:
        column = plain["kvk_number"]
        rows = cells.choose([("employer_kvk_missing", exists & cells.present(column))])["employer_kvk_missing"]
        for i in rows.tolist():
            cells.change("employer_kvk_missing", i, column, None)
        _applied(cells, "employer_kvk_missing", len(rows))


def _date_noise(cells: _Cells, columns: list[str]) -> None:
    """Dates written in another of the formats the register accepts."""
    formats = cells.spec.date_formats
    if len(formats) < 2:
        return
    for column in columns:
        values = cells.col(column)
        rows = cells.choose([("date_format", cells.present(column))])["date_format"]
        done = 0
        for i in rows.tolist():
            when = dt.datetime.strptime(values[i], formats[0])
            other = formats[1 + int(cells.rng.integers(len(formats) - 1))]
            done += cells.change("date_format", i, column, when.strftime(other))
        _applied(cells, "date_format", done)
