"""From the world's records to each partner's plaintext extract, and on to what it delivers.

:func:`clean_extract` lays the records of one source out in the columns of its spec: the
``plaintext`` columns of every entity block, the spec's own ``[columns]`` (dates in the
register's first date format, categories in the register's own codes), the record id, and
the extra columns a partner keeps (street and town), which ``pseudonymise`` drops. Hidden
``__entity__<role>`` columns keep the true entity of each block for the ground truth, from
which :func:`truth_mentions` lists the mentions of the delivered rows.

>>> key = synthetic_key(7)
>>> key.fingerprint == synthetic_key(7).fingerprint != synthetic_key(8).fingerprint
True
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from mhgraph.crypto import Key
from mhgraph.purpose import DEFAULT_RUN_PURPOSE
from mhgraph.spec import IDENTIFYING_FIELDS, SourceSpec
from mhgraph.synth.activity import Activity, minimum_share, wage_and_hours
from mhgraph.synth.layout import address_extras, company_attribute, entity_column, is_entity_column, primary_format
from mhgraph.synth.population import NO_DATE, WINDOW_END, WINDOW_START, World

__all__ = [
    "CREATED",
    "SOURCES",
    "CHUNK_ROWS",
    "clean_extract",
    "permit_numbers",
    "plaintext_only",
    "synthetic_key",
    "truth_mentions",
]

# The day the synthetic extracts were "made": fixed, so that output is byte-identical per seed.
CREATED = "2026-01-15"
# Rows of one extract that get noise and pseudonymisation at a time (bounds the Python objects).
CHUNK_ROWS = 100_000


def synthetic_key(seed: int, run_purpose: str = DEFAULT_RUN_PURPOSE) -> Key:
    """The delivery key of a synthetic data set for ``run_purpose``, derived from its seed
    through a shared key as partners derive theirs (:meth:`mhgraph.crypto.Key.for_purpose`).

    For synthetic data only: anyone who knows the seed can recompute it. Real extracts are
    pseudonymised with a secret key held apart from the data (``mhgraph.crypto.load_key``).
    """
    shared = Key(hashlib.sha256(f"mhgraph synthetic data, seed {seed}".encode()).digest())
    return shared.for_purpose(run_purpose)


def _take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[index]`` with ``None`` where ``index`` is negative."""
    out = np.full(len(index), None, dtype=object)
    ok = index >= 0
    out[ok] = values[index[ok]]
    return out


def _format_dates(days: np.ndarray, fmt: str) -> pl.Series:
    raw = pl.Series("d", np.asarray(days, dtype=np.int64))
    dates = pl.select(pl.when(raw == NO_DATE).then(None).otherwise(raw).cast(pl.Int32).cast(pl.Date)).to_series()
    return dates.dt.strftime(fmt)


def _codes(spec: SourceSpec, column: str, canonical: np.ndarray) -> np.ndarray:
    """Canonical category values in the register's own codes (e.g. ``verleend`` -> ``V``)."""
    mapping = spec.columns[column].mapping
    if not mapping:
        return canonical
    inverse = {v: k for k, v in mapping.items()}
    return np.array([inverse.get(v) if v is not None else None for v in canonical], dtype=object)


def permit_numbers(rng: np.random.Generator, activity: Activity) -> np.ndarray:
    """Permit numbers in each municipality's own style, in order of application per year.

    Arnhem ``ARN-2024-0012``, Eindhoven ``Z/24/000123``, Emmen ``Z2024-000123``.
    """
    p = activity.permits
    years = p["applied_on"].astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    out = np.empty(p.size, dtype=object)
    styles = {"gemeente_arnhem": "ARN-{y}-{s:04d}", "gemeente_eindhoven": "Z/{yy:02d}/{s:06d}",
              "gemeente_emmen": "Z{y}-{s:06d}"}
    for partner, style in styles.items():
        for year in np.unique(years[p["partner"] == partner]).tolist():
            rows = np.flatnonzero((p["partner"] == partner) & (years == year))
            rows = rows[np.lexsort((rows, p["applied_on"][rows]))]
            seq = np.cumsum(rng.integers(1, 4, rows.size))
            for r, s in zip(rows.tolist(), seq.tolist()):
                out[r] = style.format(y=year, yy=year % 100, s=s)
    return out


# -- per source: which records, which entity in which role, which spec columns -------------------
def _payroll(world: World, act: Activity, spec: SourceSpec, numbers):
    """One row per employment period and calendar year (the wage-tax declaration year)."""
    e = act.employments
    start = np.maximum(e["start"], WINDOW_START)
    until = np.where(e["end"] == NO_DATE, WINDOW_END, e["end"])
    first_year = start.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    last_year = until.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    parts = np.where(until >= start, last_year - first_year + 1, 0)
    row = np.repeat(np.arange(e.size), parts)
    year = first_year[row] + (np.arange(row.size) - np.repeat(np.cumsum(parts) - parts, parts))
    year_start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    year_end = (year - 1969).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) - 1
    part_start = np.maximum(start[row], year_start)
    part_until = np.minimum(until[row], year_end)
    part_end = np.where((part_until == until[row]) & (e["end"][row] == NO_DATE), NO_DATE, part_until)
    share = minimum_share(world.persons["birth"][e["person"][row]], part_start)
    wage, hours = wage_and_hours(part_start, part_until, e["factor"][row], e["part_time"][row], share)
    moved = world.address_on(e["person"][row], part_start)
    registered = np.where(e["address"][row] == world.address_on(e["person"][row], start[row]), moved, e["address"][row])
    roles = {"werkgever": e["company"][row], "werknemer": e["person"][row], "werknemer_adres": registered}
    columns = {"datum_aanvang": part_start, "datum_einde": part_end,
               "brutoloon": np.array([f"{w:.2f}" for w in wage.tolist()], dtype=object),
               "uren": np.array([f"{h:.0f}" for h in hours.tolist()], dtype=object),
               "contractsoort": e["contract"][row]}
    return roles, columns, None


def _kvk_companies(world: World, act: Activity, spec: SourceSpec, numbers):
    c = world.companies
    alive = (c["registered"] <= WINDOW_END) & ((c["dissolved"] == NO_DATE) | (c["dissolved"] >= WINDOW_START))
    index = np.flatnonzero(alive)
    roles = {"bedrijf": index, "handelsnaam": index, "vestiging": c["address"][index]}
    columns = {"rechtsvorm": c["legal_form"][index], "sbi_code": c["sbi_code"][index],
               "datum_inschrijving": c["registered"][index], "datum_opheffing": c["dissolved"][index]}
    return roles, columns, None


def _kvk_officers(world: World, act: Activity, spec: SourceSpec, numbers):
    o = act.officers
    keep = np.flatnonzero(((o["end"] == NO_DATE) | (o["end"] >= WINDOW_START)) & (o["start"] <= WINDOW_END))
    roles = {"functionaris": o["person"][keep], "bedrijf": o["company"][keep], "woonadres": o["address"][keep]}
    columns = {"functie": o["role"][keep], "datum_aanvang": o["start"][keep], "datum_einde": o["end"][keep]}
    return roles, columns, None


def _ind_sponsors(world: World, act: Activity, spec: SourceSpec, numbers):
    s = act.sponsors
    roles = {"referent": s["company"]}
    columns = {"status": s["status"], "datum_erkenning": s["recognised_on"], "datum_wijziging": s["status_on"]}
    return roles, columns, None


def _ind_permits(world: World, act: Activity, spec: SourceSpec, numbers):
    r = act.residence
    roles = {"vreemdeling": r["person"], "referent": r["sponsor"], "adres": r["address"]}
    columns = {"verblijfsdoel": r["purpose"], "geldig_vanaf": r["valid_from"], "geldig_tot": r["valid_to"]}
    return roles, columns, None


def _municipal(partner: str, per_manager: bool, roles_of: dict[str, str], columns_of: dict[str, str],
               numbered: bool):
    """A municipal permit register: roles and columns named per municipality."""

    def build(world: World, act: Activity, spec: SourceSpec, numbers):
        p = act.permits
        rows = np.flatnonzero(p["partner"] == partner)
        if per_manager:  # one row per permit and manager
            second = rows[p["manager_2"][rows] >= 0]
            rows = np.concatenate([rows, second])
            manager = np.concatenate([p["manager_1"][rows[: rows.size - second.size]], p["manager_2"][second]])
            managers = {"manager": manager}
        else:
            managers = {"manager_1": p["manager_1"][rows], "manager_2": p["manager_2"][rows]}
        source = {"permit": rows, "holder_company": p["holder_company"][rows],
                  "holder_person": p["holder_person"][rows], "premises": p["premises"][rows], **managers}
        roles = {role: source[what] for role, what in roles_of.items()}
        values = {"number": numbers[rows], "type": p["type"][rows], "status": p["status"][rows],
                  "bibob": p["bibob"][rows], "decided_on": p["decided_on"][rows]}
        columns = {col: values[what] for col, what in columns_of.items()}
        for col in columns:
            if spec.columns.get(col) is not None and spec.columns[col].kind == "category":
                columns[col] = _codes(spec, col, columns[col])
        return roles, columns, (numbers[rows] if numbered else None)

    return build


SOURCES = {
    "belastingdienst_loonaangifte": _payroll,
    "kvk_inschrijvingen": _kvk_companies,
    "kvk_functionarissen": _kvk_officers,
    "ind_referenten": _ind_sponsors,
    "ind_verblijfsvergunningen": _ind_permits,
    "gemeente_arnhem_vergunningen": _municipal(
        "gemeente_arnhem", True,
        {"vergunning": "permit", "houder_bedrijf": "holder_company", "houder_persoon": "holder_person",
         "beheerder": "manager", "inrichting": "premises"},
        {"vergunningnummer": "number", "soort": "type", "status": "status", "bibob_uitkomst": "bibob",
         "datum_besluit": "decided_on"}, numbered=False),
    "gemeente_eindhoven_vergunningen": _municipal(
        "gemeente_eindhoven", False,
        {"vergunning": "permit", "exploitant_bedrijf": "holder_company", "exploitant_persoon": "holder_person",
         "leidinggevende": "manager_1", "pand": "premises"},
        {"categorie": "type", "status_code": "status", "bibob_advies": "bibob", "datum_besluit": "decided_on"},
        numbered=True),
    "gemeente_emmen_vergunningen": _municipal(
        "gemeente_emmen", False,
        {"vergunning": "permit", "aanvrager_bedrijf": "holder_company", "aanvrager_persoon": "holder_person",
         "beheerder_1": "manager_1", "beheerder_2": "manager_2", "locatie": "premises"},
        {"type_vergunning": "type", "besluit": "status", "bibob": "bibob", "besluitdatum": "decided_on"},
        numbered=True),
}

_ID_PREFIX = {"belastingdienst_loonaangifte": "LA", "kvk_inschrijvingen": "INS", "kvk_functionarissen": "F",
              "ind_referenten": "REF", "ind_verblijfsvergunningen": "IND", "gemeente_arnhem_vergunningen": ""}


def clean_extract(rng: np.random.Generator, spec: SourceSpec, world: World, act: Activity,
                  numbers: np.ndarray) -> pl.DataFrame:
    """The extract as the partner would hold it without any noise, rows in random order."""
    if spec.name not in SOURCES:
        raise ValueError(f"the synthetic generator has no records for source {spec.name!r}")
    roles, columns, record_ids = SOURCES[spec.name](world, act, spec, numbers)
    n = len(next(iter(roles.values())))
    order = rng.permutation(n)
    roles = {k: np.asarray(v, dtype=np.int64)[order] for k, v in roles.items()}
    columns = {k: np.asarray(v)[order] for k, v in columns.items()}
    if record_ids is None:
        prefix = _ID_PREFIX[spec.name]
        width = max(6, len(str(n)))
        record_ids = np.array([f"{prefix}{i + 1:0{width}d}" if prefix else str(i + 1) for i in range(n)], dtype=object)
    else:
        record_ids = np.asarray(record_ids)[order]
    out: dict[str, pl.Series] = {spec.record_id: pl.Series(spec.record_id, record_ids.tolist(), dtype=pl.String)}
    fmt = primary_format(spec)
    p, c, a = world.persons, world.companies, world.addresses
    eu = world.is_eu(np.arange(p.size))
    family = np.array([f"{x} {y}" if x else y for x, y in zip(p["particle"], p["family"])], dtype=object)
    for block in spec.entities:
        index = roles.get(block.role, np.full(n, -1, dtype=np.int64)) if block.type != "permit" else None
        plain = block.plaintext
        values: dict[str, object] = {}
        if block.type == "person":
            values = {"bsn": _take(p["bsn"], index), "given_name": _take(p["given"], index),
                      "family_name": _take(family, index),
                      "v_number": _take(np.where(eu, None, p["v_all"]), index),
                      "birth_date": _format_dates(np.where(index >= 0, p["birth"][np.maximum(index, 0)], NO_DATE), fmt)}
        elif block.type == "company":
            values = {"kvk_number": _take(c["kvk_number"], index), "wage_tax_number": _take(c["wage_tax_number"], index),
                      "name": _take(c[company_attribute(block)], index)}
        elif block.type == "address":
            values = {"postcode": _take(a["postcode"], index),
                      "house_number": _take(a["house_number"].astype(str).astype(object), index),
                      "addition": _take(np.where(a["addition"] == "", None, a["addition"]), index)}
            street, town = address_extras(block)
            out[street] = pl.Series(street, _take(a["street"], index).tolist(), dtype=pl.String)
            out[town] = pl.Series(town, _take(a["town"], index).tolist(), dtype=pl.String)
            out[block.fields["municipality"]] = pl.Series(
                block.fields["municipality"], _take(a["municipality"], index).tolist(), dtype=pl.String)
        for name, column in plain.items():
            value = values[name]
            series = value if isinstance(value, pl.Series) else pl.Series(column, list(value), dtype=pl.String)
            out[column] = series.alias(column)
        out[entity_column(block.role)] = pl.Series(
            entity_column(block.role), roles[block.role] if block.role in roles else np.full(n, -1), dtype=pl.Int64)
    for name, column in spec.columns.items():
        if name in out or name not in columns:
            continue
        value = columns[name]
        if column.kind == "date":
            out[name] = _format_dates(value, fmt).alias(name)
        else:
            out[name] = pl.Series(name, value.tolist(), dtype=pl.String)
    return pl.DataFrame(list(out.values()))


def plaintext_only(frame: pl.DataFrame) -> pl.DataFrame:
    """The extract without the hidden truth columns: what the partner really holds."""
    return frame.select([c for c in frame.columns if not is_entity_column(c)])


def truth_mentions(spec: SourceSpec, frame: pl.DataFrame, delivered: pl.DataFrame, numbers: np.ndarray) -> pl.DataFrame:
    """One row per entity block of a delivered row whose identifying fields are not all empty."""
    record_ids = delivered[spec.record_id]
    parts = []
    for block in spec.entities:
        columns = [block.fields[f] for f in IDENTIFYING_FIELDS[block.type] if f in block.fields]
        if not columns:
            continue
        present = delivered.select(
            pl.any_horizontal([pl.col(c).is_not_null() & (pl.col(c).cast(pl.String) != "") for c in columns])
        ).to_series().fill_null(False).to_numpy()
        index = frame[entity_column(block.role)].to_numpy()
        rows = np.flatnonzero(present & (index >= 0))
        if block.type == "permit":
            entity = [f"permit:{spec.partner}:{numbers[i]}" for i in index[rows].tolist()]
        else:
            entity = [f"{block.type}:{i:06d}" for i in index[rows].tolist()]
        ids = record_ids.gather(rows).to_list()
        parts.append(pl.DataFrame({
            "mention_id": [f"{spec.name}/{r}/{block.role}" for r in ids],
            "source": [spec.name] * rows.size,
            "record_id": ids,
            "role": [block.role] * rows.size,
            "entity_type": [block.type] * rows.size,
            "entity_id": entity,
        }, schema={k: pl.String for k in ("mention_id", "source", "record_id", "role", "entity_type", "entity_id")}))
    return pl.concat(parts)
