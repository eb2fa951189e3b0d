"""Measure the noise of a synthetic data set from the data itself.

:func:`detect_noise` compares every identifying cell of ``truth/plaintext`` with the clean
attributes of the true entity behind it (found through ``truth/mentions``) and says which
kind of noise explains the difference; a difference no kind explains is reported as
``unexplained``. :func:`noise_rates` turns that into a rate per kind. Neither reads the
noise log, so both can check it.

>>> import tempfile, mhgraph.synth as synth
>>> out = tempfile.mkdtemp()
>>> _ = synth.synthesize(out, persons=800, seed=3)
>>> detected, eligible = detect_noise(out)
>>> int((detected["kind"] == "unexplained").sum())
0
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from mhgraph import normalise
from mhgraph.spec import SourceSpec, load_specs
from mhgraph.synth.layout import TRADE_NAME_SOURCES, address_extras, company_attribute, primary_format
from mhgraph.synth.noise import distinct_trade_name, has_legal_suffix, strip_diacritics

__all__ = ["detect_noise", "noise_rates"]

_INITIALS = re.compile(r"(?:[^\W\d_]\.)+")

# The column whose change counts once per block, for kinds that change several columns.
_ONCE_PER_BLOCK = {"swapped_names", "address_missing", "addition_format"}


def _is_transposition(a: str, b: str) -> bool:
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _is_one_edit(a: str, b: str) -> bool:
    """One letter replaced, inserted or dropped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _is_birth_date_slip(found, clean) -> bool:
    """Day off by one to three in the same month, or the year off by one."""
    same_month = found.year == clean.year and found.month == clean.month and 1 <= abs(found.day - clean.day) <= 3
    other_year = abs(found.year - clean.year) == 1 and found.month == clean.month and abs(found.day - clean.day) <= 1
    return same_month or other_year


def _name_kind(value: str | None, clean: str, given: bool) -> str | None:
    if value is None:
        return "name_missing"
    if value == clean:
        return None
    if value == strip_diacritics(clean) and strip_diacritics(clean) != clean:
        return "lost_diacritics"
    if given and _INITIALS.fullmatch(value) and value[0] == clean[0].upper():
        return "initials"
    if not given and normalise.family_name_core(value) == normalise.family_name_core(clean):
        return "particle_variant"
    if _is_transposition(value, clean):
        return "transposition"
    if _is_one_edit(value, clean):
        return "typo"
    return "unexplained"


class _Detector:
    def __init__(self, spec: SourceSpec, plain: pl.DataFrame, mentions: pl.DataFrame, truth: dict[str, dict]):
        self.spec, self.truth = spec, truth
        self.rows = plain.to_dicts()
        mine = mentions.filter(pl.col("source") == spec.name)
        self.entity = {(r, role): e for r, role, e in zip(mine["record_id"], mine["role"], mine["entity_id"])}
        self.found: list[tuple[str, str, str, str, str]] = []
        self.role = ""
        self.eligible: dict[str, int] = {}

    def note(self, record: str, column: str, kind: str | None) -> None:
        if kind is not None:
            self.found.append((self.spec.name, record, column, kind, self.role))

    def eligible_for(self, kind: str, n: int = 1) -> None:
        self.eligible[kind] = self.eligible.get(kind, 0) + n

    def entity_of(self, row: dict, role: str) -> dict | None:
        entity = self.entity.get((row[self.spec.record_id], role))
        return self.truth[entity] if entity is not None else None

    def dates(self, column: str) -> None:
        formats = self.spec.date_formats
        if len(formats) < 2:
            return
        for row in self.rows:
            value = row[column]
            if value is None:
                continue
            self.eligible_for("date_format")
            parsed = normalise.parse_date(value, formats)
            if parsed is None:
                self.note(row[self.spec.record_id], column, "unexplained")
            elif parsed.strftime(primary_format(self.spec)) != value:
                self.note(row[self.spec.record_id], column, "date_format")

    def person(self, block) -> None:
        self.role = block.role
        plain, rid = block.plaintext, self.spec.record_id
        g_col, f_col = plain["given_name"], plain["family_name"]
        for row in self.rows:
            person = self.entity_of(row, block.role)
            if person is None:
                continue
            record = row[rid]
            given, family = row[g_col], row[f_col]
            swappable = person["given_name"] != person["family_name"]
            if swappable:
                self.eligible_for("swapped_names")
            if swappable and given == person["family_name"] and family == person["given_name"]:
                self.note(record, g_col, "swapped_names")
                self.note(record, f_col, "swapped_names")
            else:
                for column, value, clean, is_given in ((g_col, given, person["given_name"], True),
                                                       (f_col, family, person["family_name"], False)):
                    for kind in ("name_missing", "typo", "transposition"):
                        self.eligible_for(kind)
                    if strip_diacritics(clean) != clean:
                        self.eligible_for("lost_diacritics")
                    if is_given:
                        self.eligible_for("initials")
                    elif person["particle"]:
                        self.eligible_for("particle_variant")
                    self.note(record, column, _name_kind(value, clean, is_given))
            if "birth_date" in plain:
                value, clean = row[plain["birth_date"]], person["birth_date"]
                self.eligible_for("birth_date_missing")
                self.eligible_for("birth_date_typo")
                swappable = clean.day <= 12 and clean.day != clean.month
                if swappable:
                    self.eligible_for("day_month_swapped")
                parsed = normalise.parse_date(value, self.spec.date_formats) if value is not None else None
                if value is None:
                    kind = "birth_date_missing"
                elif parsed == clean:
                    kind = None
                elif swappable and parsed == clean.replace(month=clean.day, day=clean.month):
                    kind = "day_month_swapped"
                elif parsed is not None and _is_birth_date_slip(parsed, clean):
                    kind = "birth_date_typo"
                else:
                    kind = "unexplained"
                self.note(record, plain["birth_date"], kind)
            if "bsn" in plain:
                kind = "bsn_missing_payroll" if self.spec.partner == "belastingdienst" else "bsn_missing_registers"
                self.eligible_for(kind)
                self.eligible_for("bsn_typo")
                value, clean = row[plain["bsn"]], person["bsn"]
                if value is None:
                    self.note(record, plain["bsn"], kind)
                elif value != clean:
                    slip = len(value) == len(clean) and sum(a != b for a, b in zip(value, clean)) == 1
                    self.note(record, plain["bsn"], "bsn_typo" if slip else "unexplained")
        if "birth_date" in plain:
            self.dates(plain["birth_date"])

    def address(self, block) -> None:
        self.role = block.role
        plain, rid = block.plaintext, self.spec.record_id
        pc_col, nr_col, add_col = plain["postcode"], plain["house_number"], plain["addition"]
        street_col, _ = address_extras(block)
        municipality = block.fields["municipality"]
        for row in self.rows:
            record = row[rid]
            if row[municipality] is None:
                continue  # no address in this row at all
            self.eligible_for("address_missing")
            self.eligible_for("postcode_format")
            self.eligible_for("postcode_typo")
            if row[pc_col] is None:
                for column in (pc_col, nr_col, street_col):
                    self.note(record, column, "address_missing" if row[column] is None else "unexplained")
                continue
            address = self.entity_of(row, block.role)
            if address is None:
                self.note(record, pc_col, "unexplained")
                continue
            value, clean = row[pc_col], address["postcode"]
            if value != clean:
                if normalise.postcode(value) == normalise.postcode(clean):
                    kind = "postcode_format"
                elif len(value) == len(clean) and sum(a != b for a, b in zip(value, clean)) == 1:
                    kind = "postcode_typo"
                else:
                    kind = "unexplained"
                self.note(record, pc_col, kind)
            number, addition = row[nr_col], row[add_col]
            clean_nr, clean_add = str(address["house_number"]), address["addition"] or None
            self.eligible_for("house_number_typo")
            if clean_add:
                self.eligible_for("addition_format")
                self.eligible_for("addition_missing")
            if (number, addition) != (clean_nr, clean_add):
                if clean_add and number == clean_nr and addition is None:
                    kind = "addition_missing"
                elif clean_add and normalise.house_number(number, addition) == normalise.house_number(clean_nr, clean_add):
                    kind = "addition_format"
                elif addition == clean_add and number.isdigit() and 1 <= abs(int(number) - int(clean_nr)) <= 2:
                    kind = "house_number_typo"
                else:
                    kind = "unexplained"
                if number != clean_nr:
                    self.note(record, nr_col, kind)
                if addition != clean_add:
                    self.note(record, add_col, kind)

    def company(self, block) -> None:
        self.role = block.role
        plain, rid = block.plaintext, self.spec.record_id
        attribute = company_attribute(block)
        for row in self.rows:
            company = self.entity_of(row, block.role)
            if company is None:
                continue
            record = row[rid]
            if "name" in plain:
                value, clean = row[plain["name"]], company[attribute]
                trade = company["trade_name"]
                tradeable = self.spec.name in TRADE_NAME_SOURCES and attribute == "name" and \
                    distinct_trade_name(trade, clean)
                if tradeable:
                    self.eligible_for("trade_name")
                if has_legal_suffix(clean):
                    self.eligible_for("legal_form_variant")
                self.eligible_for("company_typo")
                if value == clean:
                    kind = None
                elif tradeable and value == trade:
                    kind = "trade_name"
                elif value is not None and normalise.company_name(value) == normalise.company_name(clean):
                    kind = "legal_form_variant"
                elif value is not None and _is_one_edit(value, clean):
                    kind = "company_typo"
                else:
                    kind = "unexplained"
                self.note(record, plain["name"], kind)
            if "kvk_number" in plain:
                value = row[plain["kvk_number"]]
                if self.spec.partner == "belastingdienst":
                    self.eligible_for("employer_kvk_missing")
                    kind = "employer_kvk_missing" if value is None else None
                else:
                    kind = None
                if value is not None and value != company["kvk_number"]:
                    kind = "unexplained"
                self.note(record, plain["kvk_number"], kind)


def _truth(truth_dir: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for name in ("persons", "companies", "addresses"):
        for row in pl.read_parquet(truth_dir / f"{name}.parquet").to_dicts():
            out[row["entity_id"]] = row
    return out


def detect_noise(out_dir: str | Path) -> tuple[pl.DataFrame, dict[str, int]]:
    """Every noisy cell of ``out_dir/truth/plaintext`` with the kind that explains it (columns
    ``source``, ``record_id``, ``column``, ``kind``, ``role``), and how many cells (blocks, for
    kinds that change several columns) were eligible for each kind."""
    truth_dir = Path(out_dir) / "truth"
    truth = _truth(truth_dir)
    mentions = pl.read_parquet(truth_dir / "mentions.parquet")
    found: list[tuple[str, str, str, str, str]] = []
    eligible: dict[str, int] = {}
    for spec in load_specs():
        plain = pl.read_parquet(truth_dir / "plaintext" / f"{spec.name}.parquet")
        detector = _Detector(spec, plain, mentions, truth)
        for block in spec.entities:
            if not block.plaintext:
                continue
            getattr(detector, block.type)(block)
        detector.role = ""
        for name, column in spec.columns.items():
            if column.kind == "date":
                detector.dates(name)
        found += detector.found
        for kind, n in detector.eligible.items():
            eligible[kind] = eligible.get(kind, 0) + n
    detected = pl.DataFrame(found, schema={"source": pl.String, "record_id": pl.String, "column": pl.String,
                                          "kind": pl.String, "role": pl.String}, orient="row")
    return detected, eligible


def noise_rates(detected: pl.DataFrame, eligible: dict[str, int]) -> dict[str, float]:
    """Changed cells (blocks, for kinds that change several columns at once) per eligible one."""
    rates = {}
    for kind, n in sorted(eligible.items()):
        hits = detected.filter(pl.col("kind") == kind)
        if kind in _ONCE_PER_BLOCK:
            hits = hits.unique(["source", "record_id", "role"])
        rates[kind] = hits.height / n if n else 0.0
    return rates
