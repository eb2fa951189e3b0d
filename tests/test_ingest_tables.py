"""Clean extracts in: the mentions, relations and quarantine tables as docs/tables.md defines them."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from ingest_helpers import deliver, plain_eindhoven, plain_payroll, plain_referenten, spec_with_file_pattern
from polars.testing import assert_frame_equal

from mhgraph.errors import InputError
from mhgraph.ingest import MENTION_SCHEMA, QUARANTINE_SCHEMA, RELATION_SCHEMA, ingest
from mhgraph.pseudonymise import check_plaintext
from mhgraph.spec import SPEC_DIR, load_spec

DOCS = Path(__file__).resolve().parents[1] / "docs" / "tables.md"
PAYROLL = "belastingdienst_loonaangifte.csv"
_DOC_TYPES = {"str": pl.String, "i64": pl.Int64, "date": pl.Date, "f64": pl.Float64}


def _documented(table: str) -> dict[str, pl.DataType]:
    """Columns and types of one table, read from docs/tables.md."""
    section = DOCS.read_text(encoding="utf-8").split(f"## `{table}`")[1].split("\n## ")[0]
    columns = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        names_cell, type_cell = [cell.strip() for cell in line.strip("|").split("|")[:2]]
        for name in re.findall(r"`([^`]+)`", names_cell):
            kind = type_cell if "," not in type_cell else ("date" if name.endswith("_on") else "str")
            columns[name] = _DOC_TYPES[kind]
    return columns


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in")
    deliver(folder, "belastingdienst_loonaangifte", plain_payroll(30))
    deliver(folder, "ind_referenten", plain_referenten())
    deliver(folder, "gemeente_eindhoven_vergunningen", plain_eindhoven())
    (folder / "notes.txt").write_text("not an extract")
    return ingest(folder)


@pytest.mark.parametrize("table, schema", [("mentions", MENTION_SCHEMA), ("relations", RELATION_SCHEMA),
                                           ("quarantine", QUARANTINE_SCHEMA)])
def test_tables_follow_the_documented_contract(ingested, table, schema):
    assert schema == _documented(table)
    frame = getattr(ingested, table)
    assert dict(frame.schema) == schema  # every column, in the documented order and type


def test_mention_and_relation_ids(ingested):
    mentions, relations = ingested.mentions, ingested.relations
    assert mentions.height == 30 * 3 + 6 + 4 * 4 and relations.height == 30 * 2 + 4 * 3
    expected = pl.format("{}/{}/{}", "source", "record_id", "role")
    assert mentions.select((pl.col("mention_id") == expected).all()).item()
    assert mentions["mention_id"].is_unique().all()
    assert relations["relation_id"].is_unique().all()
    assert set(relations["from_mention"]) | set(relations["to_mention"]) <= set(mentions["mention_id"])
    employed = relations.filter(pl.col("type") == "EMPLOYED_BY").row(0, named=True)
    assert employed["relation_id"] == f"belastingdienst_loonaangifte/{employed['record_id']}/EMPLOYED_BY/werknemer/werkgever"
    assert employed["from_mention"] == f"belastingdienst_loonaangifte/{employed['record_id']}/werknemer"
    assert mentions.filter(pl.col("source") == "ind_referenten")["sponsor_status"].to_list() == [
        "erkend", "geschorst", "ingetrokken"] * 2


def test_provenance_on_every_row(ingested):
    for frame in (ingested.mentions, ingested.relations):
        assert frame.select(pl.col("source", "partner", "purpose", "record_id").is_null().any()).row(0) == (False,) * 4
    partners = dict(ingested.mentions.select("source", "partner").unique().iter_rows())
    assert partners == {"belastingdienst_loonaangifte": "belastingdienst", "ind_referenten": "ind",
                        "gemeente_eindhoven_vergunningen": "gemeente_eindhoven"}


def test_summary_accounts_for_every_file(ingested):
    summary = ingested.summary
    assert summary["balanced"] is True
    assert [(s["source"], s["rows_read"], s["mentions"], s["relations"]) for s in summary["sources"]] == [
        ("belastingdienst_loonaangifte", 30, 90, 60), ("gemeente_eindhoven_vergunningen", 4, 16, 12),
        ("ind_referenten", 6, 6, 0)]
    assert [Path(f).name for f in summary["unmatched_files"]] == ["notes.txt"]
    assert "kvk_functionarissen" in summary["sources_without_file"]
    text = summary.format()
    assert "notes.txt" in text and "30 rows read, 30 accepted, 0 quarantined" in text
    frame = summary.to_frame()
    assert frame.height == 3 and frame["rows_accepted"].sum() == 40


def test_block_without_identifying_fields_gives_no_mention(tmp_path):
    plain = plain_payroll(4).with_columns(
        # row 2: employer delivered without any identifier; row 3: address without postcode
        **{c: pl.when(pl.col("regelnummer") == "L000002").then(None).otherwise(pl.col(c))
           for c in ("werkgever_loonheffingennummer", "werkgever_kvk_nummer", "werkgever_naam")},
        werknemer_adres_postcode=pl.when(pl.col("regelnummer") == "L000003").then(None)
        .otherwise(pl.col("werknemer_adres_postcode")),
    )
    deliver(tmp_path, "belastingdienst_loonaangifte", plain)
    result = ingest(tmp_path)
    roles = result.mentions.group_by("record_id").agg(pl.col("role").sort()).sort("record_id")
    assert roles.rows() == [
        ("L000001", ["werkgever", "werknemer", "werknemer_adres"]),
        ("L000002", ["werknemer", "werknemer_adres"]),
        ("L000003", ["werkgever", "werknemer"]),  # a municipality alone identifies no address
        ("L000004", ["werkgever", "werknemer", "werknemer_adres"]),
    ]
    types = result.relations.group_by("record_id").agg(pl.col("type").sort()).sort("record_id")
    assert types.rows() == [
        ("L000001", ["EMPLOYED_BY", "REGISTERED_AT"]), ("L000002", ["REGISTERED_AT"]),
        ("L000003", ["EMPLOYED_BY"]), ("L000004", ["EMPLOYED_BY", "REGISTERED_AT"]),
    ]
    source = result.summary["sources"][0]
    assert source["rows_accepted"] == 4
    assert source["rows_without_mention"] == {"werknemer": 0, "werkgever": 1, "werknemer_adres": 1}
    assert "rows without a mention (no identifying value): werkgever 1, werknemer_adres 1" in result.summary.format()
    assert result.summary.to_frame()["without_mention_werkgever"].to_list() == [1]


def test_plaintext_columns_are_normalised(tmp_path):
    plain = plain_payroll(4).with_columns(
        datum_aanvang=pl.Series(["2024-01-31", "31-01-2024", "31/01/2024", "20240131"]),
        brutoloon=pl.Series(["1.234,56", "1234,56", "1,234.56", "1234.56"]),
        contractsoort=pl.Series(["Onbepaalde Tijd", "BEPAALDE TIJD", "oproep", " uitzend "]),
        werknemer_adres_gemeente=pl.Series(["  BERGEN OP ZOOM ", "capelle aan den ijssel", "'S-GRAVENHAGE", "Emmen"]),
    )
    deliver(tmp_path, "belastingdienst_loonaangifte", plain)
    result = ingest(tmp_path)
    employed = result.relations.filter(pl.col("type") == "EMPLOYED_BY").sort("record_id")
    assert employed["valid_from"].to_list() == [dt.date(2024, 1, 31)] * 4
    assert employed["wage"].to_list() == [1234.56] * 4
    assert employed["contract_type"].to_list() == ["onbepaalde tijd", "bepaalde tijd", "oproep", "uitzend"]
    towns = result.mentions.filter(pl.col("entity_type") == "address").sort("record_id")["municipality"]
    assert towns.to_list() == ["Bergen op Zoom", "Capelle aan den IJssel", "'s-Gravenhage", "Emmen"]


def test_streamed_run_equals_in_memory_run_whatever_the_batch_size(tmp_path):
    folder = tmp_path / "in"
    plain = plain_payroll(60).with_columns(  # a duplicate id far from its first use: another batch
        regelnummer=pl.when(pl.col("regelnummer") == "L000055").then(pl.lit("L000003")).otherwise(pl.col("regelnummer")))
    deliver(folder, "belastingdienst_loonaangifte", plain)
    deliver(folder, "ind_referenten", plain_referenten())
    in_memory = ingest(folder)
    streamed = ingest(folder, out_dir=tmp_path / "out", batch_bytes=3000, batch_rows=2)
    for table in ("relations", "quarantine"):
        assert_frame_equal(in_memory.scan(table).collect(), streamed.scan(table).collect())
    # streamed mentions come one entity type per row group: the same rows, in file order within each type
    by_type = [frame.sort("entity_type", maintain_order=True) for frame in (in_memory.mentions, streamed.mentions)]
    assert_frame_equal(*by_type)
    stored = pq.ParquetFile(tmp_path / "out" / "tables" / "mentions.parquet")
    types = [stored.read_row_group(i, columns=["entity_type"]).column(0).unique().to_pylist()
             for i in range(stored.num_row_groups)]
    assert stored.num_row_groups > 2 and all(len(one) == 1 for one in types)
    assert streamed.quarantine.select("row_number", "reason").rows() == [(55, "duplicate_record_id")]
    assert in_memory.summary == streamed.summary
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ingest_summary.json", "quarantine.csv", "tables"]
    assert sorted(p.name for p in (tmp_path / "out" / "tables").iterdir()) == [
        "mentions.parquet", "quarantine.parquet", "relations.parquet"]


def test_a_failed_streamed_run_leaves_no_tables(tmp_path):
    folder = tmp_path / "in"
    deliver(folder, "belastingdienst_loonaangifte", plain_payroll(10))
    (folder / PAYROLL).write_bytes((folder / PAYROLL).read_bytes()[:-300])
    with pytest.raises(InputError):
        ingest(folder, out_dir=tmp_path / "out")
    assert list((tmp_path / "out" / "tables").iterdir()) == []


def test_glob_spec_in_a_spec_folder_and_duplicates_across_files(tmp_path):
    specs = spec_with_file_pattern(tmp_path / "specs", "belastingdienst_loonaangifte", "loonaangifte_*.csv").parent
    folder = tmp_path / "in"
    for month, seed in (("2024-01", 1), ("2024-02", 2)):
        written = deliver(tmp_path / month, "belastingdienst_loonaangifte", plain_payroll(5, seed=seed))
        folder.mkdir(exist_ok=True)
        shutil.copy(written, folder / f"loonaangifte_{month}.csv")
        shutil.copy(f"{written}.meta.json", folder / f"loonaangifte_{month}.csv.meta.json")
    (folder / PAYROLL).write_text("not read: no spec in the folder matches it")
    result = ingest(folder, specs=specs)
    assert [Path(s["file"]).name for s in result.summary["sources"]] == ["loonaangifte_2024-01.csv",
                                                                          "loonaangifte_2024-02.csv"]
    assert [Path(f).name for f in result.summary["unmatched_files"]] == [PAYROLL]
    # the same record ids in the second month's file are duplicates within the source
    quarantine = result.quarantine
    assert quarantine.height == 5 and set(quarantine["reason"]) == {"duplicate_record_id"}
    assert quarantine["message"][0] == (
        f"the record id was already used on row 1 of {folder / 'loonaangifte_2024-01.csv'}; "
        "only the first row is taken in")
    assert result.summary["files_without_sidecar"] == [] and result.summary["key_fingerprint"] is not None


def test_parquet_extract_with_typed_columns(tmp_path):
    delivered = deliver(tmp_path / "csv", "belastingdienst_loonaangifte", plain_payroll(5))
    frame = pl.read_csv(delivered, infer_schema=False).with_columns(
        pl.col("datum_aanvang").str.to_date(), pl.col("brutoloon").cast(pl.Float64), pl.col("uren").cast(pl.Int64))
    specs = tmp_path / "specs"
    specs.mkdir()
    text = (SPEC_DIR / "belastingdienst_loonaangifte.toml").read_text(encoding="utf-8")
    (specs / "loon.toml").write_text(text.replace("loonaangifte.csv", "loonaangifte.parquet"), encoding="utf-8")
    (tmp_path / "in").mkdir()
    frame.write_parquet(tmp_path / "in" / "belastingdienst_loonaangifte.parquet")
    shutil.copy(f"{delivered}.meta.json", tmp_path / "in" / "belastingdienst_loonaangifte.parquet.meta.json")
    result = ingest(tmp_path / "in", specs=specs)
    employed = result.relations.filter(pl.col("type") == "EMPLOYED_BY")
    assert employed["valid_from"].to_list() == frame["datum_aanvang"].to_list()
    assert employed["wage"].to_list() == frame["brutoloon"].to_list()
    assert result.summary["sources"][0]["format"] == "parquet"


def test_crlf_blank_lines_and_quoted_delimiters(tmp_path):
    plain = plain_payroll(6).with_columns(werknemer_adres_gemeente=pl.lit("Nuenen, Gerwen en Nederwetten"))
    deliver(tmp_path, "belastingdienst_loonaangifte", plain)
    lines = (tmp_path / PAYROLL).read_bytes().split(b"\n")
    lines.insert(3, b"")  # a blank line after data row 2
    (tmp_path / PAYROLL).write_bytes(b"\r\n".join(lines))
    result = ingest(tmp_path)
    source = result.summary["sources"][0]
    assert (source["rows_read"], source["rows_accepted"], source["blank_rows"]) == (6, 6, 1)
    # row numbers count lines as the partner sees them, the blank one included
    assert result.mentions.filter(pl.col("role") == "werknemer")["row_number"].to_list() == [1, 2, 4, 5, 6, 7]
    assert set(result.mentions["municipality"].drop_nulls()) == {"Nuenen, Gerwen en Nederwetten"}


def test_header_only_extract(tmp_path):
    deliver(tmp_path, "ind_referenten", plain_referenten(0))
    result = ingest(tmp_path)
    assert result.mentions.height == 0 and dict(result.mentions.schema) == MENTION_SCHEMA
    assert "the file has a header but no data rows" in result.summary["sources"][0]["warnings"]


def test_no_matching_file_is_an_error(tmp_path):
    (tmp_path / "readme.txt").write_text("nothing here")
    with pytest.raises(InputError, match="no file in the folder matches a spec"):
        ingest(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        ingest(tmp_path / "missing")


def test_duplicate_ids_over_many_batches_match_a_plain_count(tmp_path):
    import random

    rng = random.Random(3)
    ids = [f"R{rng.randint(1, 150):04d}" for _ in range(240)]
    deliver(tmp_path, "belastingdienst_loonaangifte", plain_payroll(240).with_columns(regelnummer=pl.Series(ids)))
    seen, expected = set(), []
    for row, record_id in enumerate(ids, start=1):
        if record_id in seen:
            expected.append(row)
        seen.add(record_id)
    result = ingest(tmp_path, batch_bytes=4000)  # about 8 rows per batch: 30 batches
    duplicates = result.quarantine.filter(pl.col("reason") == "duplicate_record_id")
    assert duplicates["row_number"].to_list() == expected
    first_rows = {record_id: ids.index(record_id) + 1 for record_id in set(ids)}
    for row, message in duplicates.select("row_number", "message").iter_rows():
        assert message.startswith(f"the record id was already used on row {first_rows[ids[row - 1]]};")
    assert result.mentions.filter(pl.col("role") == "werknemer")["record_id"].to_list() == sorted(
        first_rows, key=first_rows.get)


def _ingest_sbi_codes(folder: Path, codes: list[str], dates: list[str] | None = None, specs: Path | None = None):
    """Ingest a KvK registration extract with these SBI codes (and registration dates, else all
    valid) as the shipped spec or those in ``specs`` read it: (the codes read, the SBI warnings)."""
    n = len(codes)
    plain = pl.DataFrame({
        "inschrijving_id": [f"I{i}" for i in range(n)], "bedrijf_kvk_nummer": [f"6100000{i}" for i in range(n)],
        "bedrijf_naam": [f"Bedrijf {c} BV" for c in "ABCDEFGH"[:n]], "vestiging_adres_postcode": ["6811AB"] * n,
        "vestiging_adres_huisnummer": [str(i + 1) for i in range(n)], "rechtsvorm": ["BV"] * n, "sbi_code": codes,
        "datum_inschrijving": dates or ["2020-01-01"] * n, "vestiging_adres_gemeente": ["Arnhem"] * n,
        "handelsnaam": [None] * n, "vestiging_adres_toevoeging": [None] * n}, schema_overrides={"handelsnaam": pl.String,
        "vestiging_adres_toevoeging": pl.String})
    deliver(folder, "kvk_inschrijvingen", plain)
    result = ingest(folder, specs)
    companies = result.mentions.filter(pl.col("sbi_code").is_not_null() & (pl.col("role") == "bedrijf")).sort(
        "record_id")
    return companies["sbi_code"].to_list(), [w for s in result.summary["sources"] for w in s["warnings"] if "SBI" in w]


def test_sbi_codes_lose_dots_and_spaces_and_short_codes_beside_a_kept_zero_are_codes_of_their_own(tmp_path):
    """``10.13`` and ``10 13`` are the code ``1013``; ``01.13.0`` kept its leading zero, so the file's
    column's codes were written as text and ``1013`` and ``1130`` are codes as delivered: no warning."""
    codes, warnings = _ingest_sbi_codes(tmp_path, ["10.13", " 10 13", "01.13.0", "1130", "4120"])
    assert codes == ["1013", "1013", "01130", "1130", "4120"]
    assert warnings == []


def test_short_sbi_codes_in_a_column_where_no_code_kept_a_leading_zero_are_warned_of_naming_it(tmp_path):
    """With no code starting with 0, ``1130`` may be ``01130`` (a farm) read as a number, and so may
    ``1013``, ``113`` and the group ``11`` (``011``): kept as delivered and counted in a warning;
    ``4120``, ``41`` and the 5-digit codes could not."""
    codes, warnings = _ingest_sbi_codes(tmp_path, ["10.13", "1130", "4120", "49410", "113", "11", "41"])
    assert codes == ["1013", "1130", "4120", "49410", "113", "11", "41"]
    assert len(warnings) == 1 and warnings[0].startswith("4 SBI code(s)") and "no SBI code of their column (sbi_code) starts with 0" in warnings[0]


def test_a_value_that_is_no_sbi_2008_code_is_quarantined_and_shows_no_kept_zero(tmp_path):
    """``0``, ``00000`` (no division 00), ``0x1`` and ``101300`` (6 digits) are no SBI code: their rows
    are quarantined by file, row and column, and none of them counts as a code that kept its leading
    zero, so ``1130`` is still warned of. The partner side holds the same rows back."""
    values = ["0", "0x1", "00000", "1130", "101300", "4120"]
    codes, warnings = _ingest_sbi_codes(tmp_path, values)
    assert codes == ["1130", "4120"]
    assert len(warnings) == 1 and warnings[0].startswith("1 SBI code(s) of 1-4 digits")
    quarantine = ingest(tmp_path).quarantine
    assert quarantine.select("file", "row_number", "column", "reason").rows() == [
        (str(tmp_path / "kvk_inschrijvingen.csv"), row, "sbi_code", "bad_sbi_code") for row in (1, 2, 3, 5)]
    assert quarantine["message"].str.contains("expected an SBI 2008 code").all()
    spec = load_spec(SPEC_DIR / "kvk_inschrijvingen.toml")
    plain = pl.DataFrame({"__row": list(range(1, 7)), "sbi_code": values})
    assert check_plaintext(plain, spec).filter(pl.col("column") == "sbi_code")["__row"].to_list() == [1, 2, 3, 5]


def test_an_sbi_placeholder_is_empty_and_a_lone_division_digit_is_a_lost_zero(tmp_path):
    """``-``, ``n.v.t.`` and ``N/A`` stand for no code: their rows are delivered without one, on
    either side. ``1`` (division ``01`` read as a number) is kept and warned of as ``113`` is."""
    values = ["-", "n.v.t.", "1", "113", "N/A", "4120"]
    codes, warnings = _ingest_sbi_codes(tmp_path, values)
    assert codes == ["1", "113", "4120"]
    assert len(warnings) == 1 and warnings[0].startswith("2 SBI code(s)")
    result = ingest(tmp_path)
    assert result.quarantine.height == 0 and result.mentions.filter(pl.col("role") == "bedrijf").height == 6
    plain = pl.DataFrame({"__row": list(range(1, 7)), "sbi_code": values})
    assert check_plaintext(plain, load_spec(SPEC_DIR / "kvk_inschrijvingen.toml")).height == 0


@pytest.mark.parametrize("digit", ["5", "6", "7", "8", "9"])
def test_a_lone_digit_of_divisions_05_to_09_is_a_lost_zero_as_one_of_01_to_03_is(tmp_path, digit):
    """``8`` (division ``08``, quarrying, read as a number) is kept and warned of as ``1`` is, on
    either side; ``4`` (there is no division ``04``) is no code and stays held back."""
    values = [digit, "1", "4", "4120"]
    codes, warnings = _ingest_sbi_codes(tmp_path, values)
    assert codes == [digit, "1", "4120"]
    assert len(warnings) == 1 and warnings[0].startswith("2 SBI code(s)") and "one digit 5-9" in warnings[0]
    quarantine = ingest(tmp_path).quarantine
    assert quarantine.select("row_number", "column", "reason").rows() == [(3, "sbi_code", "bad_sbi_code")]
    plain = pl.DataFrame({"__row": list(range(1, 5)), "sbi_code": values})
    assert check_plaintext(plain, load_spec(SPEC_DIR / "kvk_inschrijvingen.toml"))["__row"].to_list() == [3]


def test_an_sbi_column_two_entities_read_is_counted_once(tmp_path):
    specs = tmp_path / "specs"
    spec = spec_with_file_pattern(specs, "kvk_inschrijvingen", "kvk_inschrijvingen.csv")
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace('name_bf = "handelsnaam_bf" }', 'name_bf = "handelsnaam_bf", sbi_code = "sbi_code" }'),
                    encoding="utf-8")
    _, warnings = _ingest_sbi_codes(tmp_path / "in", ["1130", "4120", "113"], specs=specs)
    assert len(warnings) == 1 and warnings[0].startswith("2 SBI code(s)")


def test_a_zero_led_sbi_code_on_a_quarantined_row_still_shows_the_column_was_text(tmp_path):
    """The row of ``01130`` is quarantined for its date, but its code was read: the column kept its zeros."""
    codes, warnings = _ingest_sbi_codes(tmp_path, ["1130", "01130", "4120"],
                                        dates=["2020-01-01", "2020-13-45", "2020-01-01"])
    assert codes == ["1130", "4120"]
    assert warnings == []
