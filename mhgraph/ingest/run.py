"""``ingest``: a folder of delivered extracts in, mentions + relations + quarantine out.

Two ways to run the same code: in memory for a notebook (``ingest(folder)``), or streamed to
Parquet for extracts larger than memory (``ingest(folder, out_dir=...)``, what
``mhgraph ingest`` does). Either way each file is read in batches; a streamed run writes
each batch's rows into the Parquet files as one more part (row group) and keeps nothing.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from mhgraph import normalise
from mhgraph.errors import InputError
from mhgraph.file_names import shown_path
from mhgraph.run_folder import holds_a_run
from mhgraph.ingest.matching import PlannedFile, check_key_fingerprints, plan_files
from mhgraph.ingest.mentions import build_mentions, build_relations
from mhgraph.ingest.record_ids import SeenRecordIds
from mhgraph.ingest.readers import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS, ROW, open_extract, redact_expr
from mhgraph.ingest.schema import MENTION_SCHEMA, QUARANTINE_SCHEMA, RELATION_SCHEMA, conform, empty
from mhgraph.ingest.summary import FileReport, IngestSummary
from mhgraph.ingest.validate import PlaintextTally, RowValidator, check_header
from mhgraph.purpose import DEFAULT_RUN_PURPOSE, excluded_source, restrict_spec
from mhgraph.safe_output import write_csv_safe
from mhgraph.spec import SPEC_DIR, SourceSpec, load_specs

__all__ = ["TABLES", "Ingested", "ingest"]

log = logging.getLogger("mhgraph.ingest")

TABLES = {"mentions": MENTION_SCHEMA, "relations": RELATION_SCHEMA, "quarantine": QUARANTINE_SCHEMA}


class Ingested:
    """The result of :func:`ingest`: ``mentions``, ``relations``, ``quarantine`` (Polars
    frames, columns as ``docs/tables.md`` defines them), ``summary`` (its files shown as
    :func:`~mhgraph.file_names.shown_path` shows them, since it is written out) and
    ``read_files`` (the extracts read, as given: for their checksums, never written).

    After a streamed run the frames live in Parquet files and are read when asked for;
    :meth:`scan` gives a lazy view without reading them.
    """

    def __init__(self, tables: dict[str, pl.DataFrame | Path], summary: IngestSummary, read_files: list[Path]):
        self._tables = tables
        self.summary = summary
        self.read_files = list(read_files)

    def scan(self, name: str) -> pl.LazyFrame:
        table = self._tables[name]
        return table.lazy() if isinstance(table, pl.DataFrame) else pl.scan_parquet(table)

    @property
    def paths(self) -> dict[str, Path]:
        """Where a streamed run wrote the tables (empty for an in-memory run)."""
        return {name: t for name, t in self._tables.items() if isinstance(t, Path)}

    def _frame(self, name: str) -> pl.DataFrame:
        table = self._tables[name]
        return table if isinstance(table, pl.DataFrame) else pl.read_parquet(table)

    @property
    def mentions(self) -> pl.DataFrame:
        return self._frame("mentions")

    @property
    def relations(self) -> pl.DataFrame:
        return self._frame("relations")

    @property
    def quarantine(self) -> pl.DataFrame:
        return self._frame("quarantine")

    def __repr__(self) -> str:
        counts = ", ".join(f"{s['source']}: {s['rows_accepted']}/{s['rows_read']}" for s in self.summary["sources"])
        return f"Ingested(rows accepted/read per source: {counts})"


class _MemorySink:
    def __init__(self):
        self.parts: dict[str, list[pl.DataFrame]] = {name: [] for name in TABLES}

    def add(self, name: str, frame: pl.DataFrame) -> None:
        if frame.height:
            self.parts[name].append(frame)

    def finish(self) -> dict[str, pl.DataFrame]:
        return {name: pl.concat(parts) if parts else empty(TABLES[name]) for name, parts in self.parts.items()}

    def abort(self) -> None:
        self.parts.clear()


class _ParquetSink:
    """Writes each batch straight into the table's Parquet file as one more row group, so a
    table never has to fit in memory. One writer thread converts to Arrow, compresses and writes
    while the next batch is read (at most one batch waits). Files are written under a temporary
    name and moved into place only when the whole run succeeded."""

    def __init__(self, out_dir: Path):
        self.tables_dir = out_dir / "tables"
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        self.partial = {name: self.tables_dir / f".{name}.parquet.partial" for name in TABLES}
        self.writers = {
            name: pq.ParquetWriter(self.partial[name], empty(schema).to_arrow().schema, compression="zstd")
            for name, schema in TABLES.items()
        }
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mhgraph-ingest-writer")
        self.pending: deque[Future] = deque()

    def add(self, name: str, frame: pl.DataFrame) -> None:
        # Mentions go in one row group per entity type, so that a stage scanning one type reads
        # only that type's row groups (their statistics say which), and in them only the columns
        # it selects; a column a type never fills is all null there and costs a few bytes.
        parts = frame.partition_by("entity_type", maintain_order=True) if name == "mentions" else [frame]
        for part in parts:
            if part.height:  # converted to Arrow in the writer thread too, beside the next batch's reading
                self.pending.append(self.thread.submit(lambda writer, part: writer.write_table(part.to_arrow()),
                                                       self.writers[name], part))
        while len(self.pending) > len(TABLES):
            self.pending.popleft().result()

    def _close(self) -> None:
        try:
            while self.pending:
                self.pending.popleft().result()
        finally:
            self.thread.shutdown()
            for writer in self.writers.values():
                writer.close()

    def finish(self) -> dict[str, Path]:
        self._close()
        return {name: self.partial[name].replace(self.tables_dir / f"{name}.parquet") for name in TABLES}

    def abort(self) -> None:
        try:
            self._close()
        finally:
            for path in self.partial.values():
                path.unlink(missing_ok=True)


def _resolve_specs(specs: str | Path | list[SourceSpec] | None) -> list[SourceSpec]:
    if specs is None:
        return load_specs(SPEC_DIR)
    if isinstance(specs, (str, Path)):
        loaded = load_specs(specs)
        if not loaded:
            raise InputError("no spec files (*.toml) in the spec folder", file=str(specs))
        return loaded
    return list(specs)


class _SeenRecordIds(SeenRecordIds):
    """:class:`~mhgraph.ingest.record_ids.SeenRecordIds` that also knows the files the ids came from."""

    def __init__(self):
        super().__init__()
        self.files: list[str] = []

    def duplicates(self, clean: pl.DataFrame, spec: SourceSpec, file: str) -> pl.DataFrame:
        """Problem rows (``__row``, column, value, reason, message) for repeated ids; remembers the new ones."""
        if file not in self.files:
            self.files.append(file)
        file_index = self.files.index(file)
        ids = clean.select(ROW, pl.col(spec.record_id).alias("rid")).filter(pl.col("rid").is_not_null())
        repeated = self.repeated(spec.name, ids, file_index)
        where = pl.when(pl.col("first_file") == file_index).then(pl.lit("")).otherwise(
            pl.concat_str(pl.lit(" of "), pl.col("first_file").replace_strict(
                list(range(len(self.files))), [shown_path(f) for f in self.files], return_dtype=pl.String)))
        return repeated.select(
            ROW,
            column=pl.lit(spec.record_id),
            value=redact_expr(pl.col("rid")),
            reason=pl.lit("duplicate_record_id"),
            message=pl.concat_str(pl.lit("the record id was already used on row "), pl.col("first_row"), where,
                                  pl.lit("; only the first row is taken in")),
        )


def _ingest_file(item: PlannedFile, all_specs: list[SourceSpec], sink, seen: _SeenRecordIds,
                 max_quarantine_share: float | None, batch_bytes: int, batch_rows: int) -> FileReport:
    spec, file = item.spec, str(item.path)
    shown = shown_path(item.path)  # what logs and the quarantine say: never a plaintext identifier in a name
    shown_name = Path(shown).name
    extract = open_extract(item.path, spec, batch_bytes=batch_bytes, batch_rows=batch_rows)
    report = FileReport(shown, spec.name, spec.partner, spec.purpose, format=extract.format,
                        encoding=extract.encoding, delimiter=extract.delimiter,
                        key_fingerprint=(item.meta or {}).get("key_fingerprint"), sidecar=item.meta is not None,
                        rows_quarantined_by_partner=(item.meta or {}).get("rows_quarantined_by_partner"),
                        values_left_out_by_partner=dict((item.meta or {}).get("values_left_out_by_partner") or {}))
    log.info("reading %s as %s (%s%s)", shown, spec.name, extract.format,
             f", {extract.encoding}, delimiter {extract.delimiter!r}" if extract.delimiter else "")
    absent = [name for name, col in spec.delivered_columns.items() if col.optional and name not in extract.header]
    if absent:  # an extract delivered before the spec named these columns: read as it was then
        spec = spec.without_columns(set(absent))
        log.info("%s: optional column(s) %s absent, read as empty", shown_name, ", ".join(absent))
    header_warnings = check_header(extract.header, spec, all_specs, file)
    if absent:
        header_warnings.append(f"optional column(s) {', '.join(absent)} absent from the extract (delivered before "
                               "the spec named them): read as empty")
    report.optional_columns_absent = absent
    validator = RowValidator(spec, extract.native_date_formats)
    tally = PlaintextTally(validator.pseudonymous_columns)
    reasons: Counter = Counter()
    last_row, last_row_quarantined = 0, False
    sbi_short, sbi_zero_led = Counter(), Counter()  # per SBI column: codes that may have lost a zero, codes that kept one
    for batch_number, batch in enumerate(extract.batches(list(validator.columns))):
        checked = validator.validate(batch.frame, batch.may_hold_control_characters)
        tally.add(batch.frame, checked.problems)
        if batch_number == 0:
            tally.check(file)  # fail early on a plaintext column
        duplicates = seen.duplicates(checked.clean, spec, file)
        garbage = batch.garbage.with_columns(column=pl.lit(None, pl.String))
        problems = pl.concat([checked.problems, duplicates, garbage.select(checked.problems.columns)])
        bad_rows = problems[ROW].unique().implode()
        accepted = checked.clean.filter(~pl.col(ROW).is_in(bad_rows))
        mentions, relations = build_mentions(accepted, spec), build_relations(accepted, spec)
        # The record id is shown when it could be read and is not itself the faulty value.
        id_faulty = checked.problems.filter(pl.col("column") == spec.record_id)[ROW].implode()
        record_ids = batch.frame.select(ROW, pl.col(spec.record_id).alias("record_id")).filter(
            ~pl.col(ROW).is_in(id_faulty))
        quarantine = conform(
            problems.join(record_ids, on=ROW, how="left").sort(ROW, maintain_order=True).with_columns(
                file=pl.lit(shown), source=pl.lit(spec.name), row_number=pl.col(ROW)),
            QUARANTINE_SCHEMA,
        )
        sink.add("mentions", mentions)
        sink.add("relations", relations)
        sink.add("quarantine", quarantine)
        rows_in_batch = batch.frame.height + batch.garbage.height
        n_bad = problems[ROW].n_unique()
        report.rows_read += rows_in_batch
        report.rows_quarantined += n_bad
        report.rows_accepted += accepted.height
        report.blank_rows += batch.blank_rows
        report.mentions += mentions.height
        report.relations += relations.height
        for column in validator.sbi_columns:
            # Codes kept as delivered are counted on the rows accepted; a kept zero on any row read
            # shows that the column was written as text, whether or not its row was held back.
            short = normalise.sbi_code_may_have_lost_zero_expr(pl.col(column))
            sbi_short[column] += accepted.select(short.sum()).item()
            sbi_zero_led[column] += checked.clean.select(pl.col(column).str.starts_with("0").sum()).item()
        with_mention = dict(mentions.group_by("role").len().iter_rows())
        for block in spec.entities:
            missing = accepted.height - with_mention.get(block.role, 0)
            report.rows_without_mention[block.role] = report.rows_without_mention.get(block.role, 0) + missing
        reasons.update(dict(problems.group_by("reason").agg(pl.col(ROW).n_unique()).iter_rows()))
        batch_rows_seen = pl.concat([batch.frame[ROW], batch.garbage[ROW]])
        if batch_rows_seen.len():
            last_row = batch_rows_seen.max()
            last_row_quarantined = last_row in problems[ROW]
        log.info("%s: %d rows read, %d quarantined so far", shown_name, report.rows_read, report.rows_quarantined)
    tally.check(file)
    report.quarantined_by_reason = dict(sorted(reasons.items()))
    report.warnings = item.warnings + extract.warnings + header_warnings
    if report.rows_read == 0:
        report.warnings.append("the file has a header but no data rows")
    # A column in which some code kept its leading zero was written as text: its short codes are codes of
    # their own (1013, meat processing). Only where no code has one may the zeros have been lost.
    without_zero = [column for column, n in sbi_short.items() if n and not sbi_zero_led[column]]
    if without_zero:  # a guess could put a brewery (1105) among the farms (01105)
        report.warnings.append(f"{sum(sbi_short[c] for c in without_zero)} SBI code(s) of 1-4 digits starting with "
                               "1-3, or of the one digit 5-9, may have lost a leading zero (1130 for 01130, "
                               "agriculture; 8 for 08, quarrying), as no SBI code of "
                               f"their column ({', '.join(without_zero)}) starts with 0: kept as delivered, so they "
                               "match no sector of divisions 01-03 or 05-09; ask the partner to deliver SBI codes "
                               "as text")
    _check_complete(item, extract, report, last_row, last_row_quarantined)
    _check_quarantine_share(report, max_quarantine_share, file)
    log.info("%s: %d rows read, %d accepted, %d quarantined, %d mentions, %d relations", shown_name,
             report.rows_read, report.rows_accepted, report.rows_quarantined, report.mentions, report.relations)
    return report


def _check_complete(item: PlannedFile, extract, report: FileReport, last_row: int, last_row_quarantined: bool) -> None:
    """Refuse a truncated file: fewer rows than its sidecar says, or a last line cut off."""
    expected = (item.meta or {}).get("rows")
    if isinstance(expected, int) and expected != report.rows_read:
        raise InputError(
            f"the sidecar says the extract has {expected} data rows, but {report.rows_read} were read: the file "
            "is truncated or was changed after pseudonymisation; ask the partner to deliver it again",
            file=str(item.path))
    if not extract.ends_with_newline and last_row_quarantined:
        raise InputError(
            "the last line has no line end and could not be read: the file looks cut off (truncated); "
            "ask the partner to deliver it again", file=str(item.path), row=last_row)


def _check_quarantine_share(report: FileReport, max_share: float | None, file: str) -> None:
    if max_share is None or report.rows_read == 0:
        return
    share = report.rows_quarantined / report.rows_read
    if share > max_share:
        reasons = ", ".join(f"{r} {n}" for r, n in report.quarantined_by_reason.items())
        raise InputError(
            f"{report.rows_quarantined} of {report.rows_read} rows ({share:.1%}) were quarantined, more than the "
            f"allowed {max_share:.1%} (max_quarantine_share); reasons: {reasons}", file=file)


def _for_purpose(planned: list[PlannedFile], run_purpose: str) -> tuple[list[PlannedFile], list[dict]]:
    """The planned files a run with ``run_purpose`` may read, each with its spec cut to the
    attributes the run may use; and the files it leaves out, each with why."""
    kept, left_out = [], []
    for item in planned:
        spec = restrict_spec(item.spec, run_purpose)
        if spec is None:
            left_out.append({"file": shown_path(item.path), **excluded_source(item.spec, run_purpose)})
        else:
            kept.append(replace(item, spec=spec))
    return kept, left_out


def ingest(
    input_dir: str | Path,
    specs: str | Path | list[SourceSpec] | None = None,
    max_quarantine_share: float | None = None,
    *,
    accept_missing_sidecars: bool = False,
    run_purpose: str = DEFAULT_RUN_PURPOSE,
    out_dir: str | Path | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Ingested:
    """Read every extract in ``input_dir`` that a spec matches; validate, quarantine, and build
    the ``mentions``, ``relations`` and ``quarantine`` tables.

    ``specs``: a folder of spec files, a list of :class:`~mhgraph.spec.SourceSpec`, or
    ``None`` for the shipped specs. ``max_quarantine_share``: fail (``InputError``) when a
    file has a larger share of its rows quarantined. ``accept_missing_sidecars``: take in a file
    that has no sidecar instead of refusing it (the summary says so in capitals). ``out_dir``: stream the tables to
    ``out_dir/tables/*.parquet`` (plus ``out_dir/quarantine.csv`` and
    ``out_dir/ingest_summary.json``) instead of holding them in memory. ``batch_bytes`` /
    ``batch_rows``: the size of one batch for CSV / for Parquet and Excel. ``run_purpose``
    (see :mod:`mhgraph.purpose`): a file whose source that purpose does not permit is matched
    to its spec but not read, and listed in the summary's ``files_left_out`` with the reason;
    attributes the purpose does not permit are not read at all; the purpose the files
    were delivered for must permit every source ``run_purpose`` permits.

    Raises :class:`~mhgraph.errors.InputError` for a file that cannot be read as its spec
    says (see ``docs/source-specs.md``); bad rows go to the quarantine table instead.
    """
    all_specs = _resolve_specs(specs)
    planned, unmatched = plan_files(input_dir, all_specs, accept_missing_sidecars)
    if not planned:
        patterns = ", ".join(s.file for s in all_specs)
        raise InputError(f"no file in the folder matches a spec (expected names: {patterns})", file=str(input_dir))
    planned, left_out = _for_purpose(planned, run_purpose)
    if not planned:
        raise InputError(f"run purpose {run_purpose!r} permits none of the delivered files: "
                         + "; ".join(f"{Path(e['file']).name}: {e['why']}" for e in left_out), file=str(input_dir))
    fingerprint = check_key_fingerprints(planned, run_purpose)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None and holds_a_run(out):  # its tables would no longer match its pages and manifest
        raise InputError("the folder holds a finished run; ingest into a new folder", file=str(out))
    sink = _ParquetSink(out) if out else _MemorySink()
    seen = _SeenRecordIds()
    try:
        reports = [_ingest_file(item, all_specs, sink, seen, max_quarantine_share, batch_bytes, batch_rows)
                   for item in planned]
        tables = sink.finish()
    except BaseException:
        sink.abort()
        raise
    delivered = {item.spec.name for item in planned} | {entry["source"] for entry in left_out}
    summary = IngestSummary.build(
        reports, [shown_path(p) for p in unmatched], [s.name for s in all_specs if s.name not in delivered], fingerprint)
    summary["files_left_out"] = left_out
    result = Ingested(tables, summary, [item.path for item in planned])
    if out:
        write_csv_safe(result.scan("quarantine"), out / "quarantine.csv")
        (out / "ingest_summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return result
