"""Batches whose columns are split into chunks: the checks give the same answer whatever the chunking.

Polars' CSV reader parses a large block in parallel and hands back columns of several chunks;
filtering such a frame keeps the chunks, some of them empty. ``pl.format`` (Polars >= 1.35)
panics with ``assertion failed: i < self.len()`` on a string column whose chunks have an empty
one between two non-empty ones (pola-rs/polars#25339), which is exactly what the failing rows
of a batch look like when two bad values sit in different chunks. Every text the ingest builds
per row therefore uses ``pl.concat_str``; these tests hold that to account.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from mhgraph.ingest import ingest
from mhgraph.ingest.readers import open_extract, redact_expr
from mhgraph.ingest.validate import RowValidator
from mhgraph.spec import SPEC_DIR, load_spec

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def chunked(frame: pl.DataFrame, sizes: list[int]) -> pl.DataFrame:
    """``frame`` as consecutive chunks of the given sizes (the last one takes the rest)."""
    parts, start = [], 0
    for size in sizes:
        parts.append(frame.slice(start, size))
        start += size
    parts.append(frame.slice(start))
    return pl.concat(parts, rechunk=False)


def test_an_empty_chunk_between_two_values_is_the_layout_that_breaks_pl_format():
    frame = chunked(pl.DataFrame({"v": ["onbekend", "x", "onbekend"]}), [1, 1])
    failing = frame.filter(pl.Series([True, False, True]))
    assert [len(c) for c in failing["v"].get_chunks()] == [1, 0, 1]
    assert failing.select(redact_expr(pl.col("v"))).to_series().to_list() == ["onb… (8 chars)"] * 2
    assert failing.select(redact_expr(pl.col("v"), conceal=True)).to_series().to_list() == [
        "(8 chars: letters and spaces)"] * 2


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.sampled_from(["onbekend", "1234,56", "31-02-2024", "=1+1", "", "abc", "Jan de Vries"]),
                    min_size=1, max_size=30),
    sizes=st.lists(st.integers(0, 6), max_size=6),
    keep=st.lists(st.booleans(), min_size=30, max_size=30),
)
def test_redaction_does_not_depend_on_chunking(values, sizes, keep):
    frame = chunked(pl.DataFrame({"v": values}), sizes).filter(pl.Series(keep[: len(values)]))
    for conceal in (False, True):
        assert (frame.select(redact_expr(pl.col("v"), conceal)).to_series().to_list()
                == frame.rechunk().select(redact_expr(pl.col("v"), conceal)).to_series().to_list())


def _sample_payroll_with(folder: Path, bad: dict[str, str], rows: list[int]) -> Path:
    """The sample payroll extract with ``bad`` values in the given 0-based ``rows``, plus its sidecar."""
    payroll = "belastingdienst_loonaangifte.csv"
    folder.mkdir(parents=True, exist_ok=True)
    frame = pl.read_csv(SAMPLE / payroll, infer_schema=False)
    frame.with_columns(
        pl.when(pl.int_range(pl.len()).is_in(rows)).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
        for column, value in bad.items()).write_csv(folder / payroll)
    shutil.copy(SAMPLE / f"{payroll}.meta.json", folder)
    return folder / payroll


def test_every_check_message_survives_a_batch_read_in_chunks(tmp_path):
    spec = load_spec(SPEC_DIR / "belastingdienst_loonaangifte.toml")
    bad = {"brutoloon": "onbekend", "uren": "-3", "datum_aanvang": "31-02-2024", "contractsoort": "stage",
           "regelnummer": "=HYPERLINK(1)", "werknemer_adres_gemeente": "Lange Nieuwstraat 88 6531TS",
           "werknemer_bsn": "111222333"}
    path = _sample_payroll_with(tmp_path, bad, [0, 3000, 9000])
    (batch,) = open_extract(path, spec).batches(list(spec.delivered_columns))
    assert batch.frame["brutoloon"].n_chunks() > 1  # what Polars' parallel CSV reader hands back
    validator = RowValidator(spec)
    problems = validator.validate(batch.frame).problems
    assert problems.equals(validator.validate(batch.frame.rechunk()).problems)
    assert problems.group_by("reason").agg(pl.col("__row").n_unique()).sort("reason").rows() == [
        ("bad_date", 3), ("formula", 3), ("not_a_number", 3), ("out_of_range", 3), ("plaintext_identifier", 3),
        ("unknown_category", 3), ("unknown_municipality", 3)]


def test_two_unreadable_wages_far_apart_in_a_large_file_are_quarantined(tmp_path):
    """The reported crash: two wages written 'onbekend', 3,000 rows apart in one batch."""
    folder = _sample_payroll_with(tmp_path / "in", {"brutoloon": "onbekend"}, [0, 3000]).parent
    result = ingest(folder)
    (source,) = result.summary["sources"]
    assert source["rows_quarantined"] == 2 and source["quarantined_by_reason"] == {"not_a_number": 2}
    assert result.quarantine.select("row_number", "value").rows() == [(1, "onb… (8 chars)"), (3001, "onb… (8 chars)")]
