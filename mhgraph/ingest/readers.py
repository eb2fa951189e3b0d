"""Readers for delivered extracts: CSV, Parquet and Excel, read in batches, everything as text.

A reader opens one file, finds its header, encoding and delimiter, and then yields
:class:`RawBatch` objects: a frame of string columns (values trimmed, empty as null) plus the
rows that could not even be split into fields (wrong field count, broken quotes, NUL bytes),
which go straight to quarantine. Nothing is typed or checked here; that is
:mod:`mhgraph.ingest.validate`'s job.

CSV files are read in blocks of whole lines (``batch_bytes``), so a file of many gigabytes
needs memory for one block only. Each line is one record: a quoted value may hold the
delimiter or a doubled quote, but not a line break (delivered extracts hold hashes, codes and
dates, never free text). Encoding: a UTF-8 byte-order mark wins; otherwise the spec's
``[read] encoding`` is checked against the first megabyte and corrected with a warning when
the file is evidently in the other of UTF-8 / Windows-1252. Lines that are not valid in the
file's encoding (a file that mixes encodings) are read as Windows-1252 and reported.

>>> import tempfile, pathlib
>>> from mhgraph.spec import load_spec, SPEC_DIR
>>> spec = load_spec(SPEC_DIR / "ind_referenten.toml")
>>> path = pathlib.Path(tempfile.mkdtemp()) / "ind_referenten.csv"
>>> _ = path.write_bytes("\\ufeffreferent_id;status\\nR1;erkend\\n".encode())
>>> extract = open_extract(path, spec)
>>> extract.header, extract.delimiter, extract.encoding
(['referent_id', 'status'], ';', 'utf-8')
>>> next(extract.batches(["referent_id", "status"])).frame.row(0)
(1, 'R1', 'erkend')
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from mhgraph.errors import InputError, describe_read_error
from mhgraph.spec import SourceSpec

__all__ = [
    "CsvExtract",
    "ExcelExtract",
    "Extract",
    "ParquetExtract",
    "RawBatch",
    "ROW",
    "POSTCODE_PATTERN",
    "REDACT_MIN_CHARS",
    "open_extract",
    "redact_expr",
    "redact",
    "shape_expr",
]

log = logging.getLogger("mhgraph.ingest")

ROW = "__row"  # 1-based data-row number, carried through every batch
DEFAULT_BATCH_BYTES = 16 * 1024 * 1024  # peak memory grows by about 16x the batch
DEFAULT_BATCH_ROWS = 250_000
SAMPLE_BYTES = 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024  # a longer line is garbage, not a record
DELIMITERS = (",", ";", "\t", "|")
FALLBACK_ENCODING = "windows-1252"

_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes kept by errors="surrogateescape"
_QUOTED = r'"(?:[^"]|"")*"'
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_FIELD_MARK = "\x1f"
_REGEX_DELIMITER = {",": ",", ";": ";", "\t": r"\t", "|": r"\|"}
# A Dutch postcode standing on its own: 1234AB, 1234ab or 1234 AB (not "2024 in", which is text).
POSTCODE_PATTERN = r"(?:^|[^\p{L}\p{N}])[1-9]\d{3}(?:\s?[A-Z]{2}|[a-z]{2})(?:[^\p{L}\p{N}]|$)"
REDACT_MIN_CHARS = 8  # a shorter value is shown by its length only
_GARBAGE_COLUMNS = {ROW: pl.Int64, "value": pl.String, "reason": pl.String, "message": pl.String}


def shape_expr(expr: pl.Expr) -> pl.Expr:
    """What a value is made of, without any of its characters.

    >>> pl.select(shape_expr(pl.lit("Lange Nieuwstraat 88 6531TS"))).item()
    'postcode-like'
    """
    return (
        pl.when(expr.str.contains(r"^\d+$")).then(pl.lit("digits"))
        .when(expr.str.contains(POSTCODE_PATTERN)).then(pl.lit("postcode-like"))
        .when(expr.str.contains(r"^[\p{L} ]+$")).then(pl.lit("letters and spaces"))
        .when(expr.str.contains(r"^[0-9a-f]+$")).then(pl.lit("hex digits"))
        .when(expr.str.contains(r"^[\p{L}\p{N}]+$")).then(pl.lit("letters and digits"))
        .otherwise(pl.lit("mixed characters"))
    )


def redact_expr(expr: pl.Expr, conceal: bool = False) -> pl.Expr:
    """A value as a report may show it: never the value itself.

    ``conceal`` (pseudonymous columns, plaintext identifiers, whole lines): only the length
    and the shape of the value. Otherwise the first three characters and the length of a
    value of at least :data:`REDACT_MIN_CHARS` characters, and only the length of a shorter
    one, since three characters of it say too much. Control characters in the kept
    characters are shown as ``?`` so that a NUL byte or a line break cannot break a CSV report.
    """
    length = expr.str.len_chars()
    if conceal:
        return pl.when(expr.str.contains(r"^\d+$")).then(pl.concat_str(pl.lit("("), length, pl.lit(" digits)"))).otherwise(
            pl.concat_str(pl.lit("("), length, pl.lit(" chars: "), shape_expr(expr), pl.lit(")")))
    head = expr.str.slice(0, 3).str.replace_all(r"[\x00-\x1f\x7f]", "?")
    return pl.when(length >= REDACT_MIN_CHARS).then(pl.concat_str(head, pl.lit("… ("), length, pl.lit(" chars)"))).otherwise(
        pl.concat_str(pl.lit("("), length, pl.lit(" chars)")))


def redact(value: str, conceal: bool = False) -> str:
    """:func:`redact_expr` for one value.

    >>> redact("LA0001234"), redact("Jan"), redact("123456782", conceal=True), redact("Jan de Vries", conceal=True)
    ('LA0… (9 chars)', '(3 chars)', '(9 digits)', '(12 chars: letters and spaces)')
    """
    return pl.select(redact_expr(pl.lit(value, dtype=pl.String), conceal)).item()


@dataclass
class RawBatch:
    """One batch of rows as text: ``frame`` has ``__row`` plus the requested columns;
    ``garbage`` holds rows that could not be split into fields (``__row``, value, reason,
    message); ``blank_rows`` counts empty lines, which are skipped."""

    frame: pl.DataFrame
    garbage: pl.DataFrame
    blank_rows: int = 0
    # False when the reader saw that no value of the batch holds a control character.
    may_hold_control_characters: bool = True


@dataclass
class Extract:
    """An opened extract. ``header`` is the list of column names as delivered."""

    path: Path
    format: str
    header: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Date formats the medium itself guarantees (typed Excel and Parquet dates arrive as ISO text).
    native_date_formats: tuple[str, ...] = ()
    # False when a CSV does not end with a line break: its last line may have been cut off.
    ends_with_newline: bool = True

    def batches(self, columns: list[str]) -> Iterator[RawBatch]:
        raise NotImplementedError

    def number_columns(self, columns: list[str]) -> frozenset[str]:
        """Those of ``columns`` every value of which the medium holds as a number (an Excel column
        of number cells, a Parquet integer or float column): their text lost the leading zeros an
        identifier may have."""
        return frozenset()


def open_extract(path: str | Path, spec: SourceSpec, *, batch_bytes: int = DEFAULT_BATCH_BYTES,
                 batch_rows: int = DEFAULT_BATCH_ROWS, expected_columns: list[str] | None = None,
                 delimiter: str | None = None, encoding: str | None = None) -> Extract:
    """Open ``path`` with the reader its suffix calls for.

    A CSV's delimiter is the one whose split of the header names most of ``expected_columns``
    (default: the spec's delivered columns); a ``delimiter`` or ``encoding`` given here is
    used as it is, without sniffing (a partner who knows the export names it).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("the file does not exist", file=str(path))
    if path.stat().st_size == 0:
        raise InputError("the file is empty (0 bytes): expected a header line and data rows", file=str(path))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        expected = list(expected_columns or spec.delivered_columns)
        return CsvExtract.open(path, spec, batch_bytes, expected, delimiter, encoding)
    if suffix == ".parquet":
        return ParquetExtract.open(path, batch_rows)
    if suffix == ".xlsx":
        return ExcelExtract.open(path, batch_rows)
    # the file is named as shown; its extension alone could show digits a redacted name hides
    raise InputError("unsupported file type: expected a name ending in .csv, .parquet or .xlsx", file=str(path))


def _empty_garbage() -> pl.DataFrame:
    return pl.DataFrame(schema=_GARBAGE_COLUMNS)


def _text_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Trim every value; empty becomes null."""
    return frame.with_columns(
        pl.col(c).str.strip_chars().replace("", None) for c in frame.columns if c != ROW
    )


# --------------------------------------------------------------------------------------- CSV


def split_fields(lines: pl.Expr, delimiter: str) -> pl.Expr:
    """Split CSV lines into a list of fields, honouring double-quoted values.

    >>> pl.select(split_fields(pl.lit('a,"b,""c"" d",'), ",")).item().to_list()
    ['a', 'b,"c" d', '']
    """
    sep = _REGEX_DELIMITER[delimiter]
    tokens = lines.str.extract_all(rf'{_QUOTED}|[^{sep}"]+|{sep}')
    element = pl.element()
    unquoted = element.str.slice(1, element.str.len_chars() - 2).str.replace_all('""', '"', literal=True)
    rejoined = tokens.list.eval(
        pl.when(element == delimiter).then(pl.lit(_FIELD_MARK))
        .when(element.str.starts_with('"')).then(unquoted)
        .otherwise(element)
    ).list.join("")
    return rejoined.str.split(_FIELD_MARK)


def _find_undecodable(text: str, position: int) -> int:
    match = _UNDECODABLE.search(text, position)
    return match.start() if match else -1


def _lines_with(data, find, newline, rows_before: int):
    """``(start, end, row_number)`` of each line of ``data`` where ``find(data, pos)`` hits.

    Only the hit lines are visited, so a clean block costs one scan by ``find``.
    """
    position, counted, row = 0, 0, rows_before
    while position <= len(data):
        hit = find(data, position)
        if hit < 0:
            return
        start = data.rfind(newline, 0, hit) + 1
        end = data.find(newline, hit)
        end = len(data) if end == -1 else end
        row += data.count(newline, counted, start)
        counted = start
        yield start, end, row + 1
        position = end + 1


def _detect_encoding(sample: bytes, declared: str | None) -> tuple[str, str | None]:
    """The encoding to read with, and a warning when it differs from the declared one."""
    declared_name = codecs.lookup(declared).name if declared else None
    try:
        sample.decode("utf-8")
        valid_utf8 = True
    except UnicodeDecodeError as exc:
        # A multi-byte character cut off at the end of the sample is not an error.
        valid_utf8 = exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data"
    if valid_utf8:
        non_ascii = not sample.isascii()
        if declared_name and declared_name != "utf-8" and non_ascii:
            return "utf-8", f"the spec declares encoding {declared}, but the file is UTF-8; read as UTF-8"
        return declared_name or "utf-8", None
    if _UTF8_MULTIBYTE.search(sample):
        # Valid UTF-8 characters next to invalid bytes: a file that mixes encodings. Read it
        # as UTF-8; the lines that are not are read as Windows-1252 and reported.
        return "utf-8", None
    if declared_name in (None, "utf-8"):
        warning = (f"the spec declares encoding {declared}, but the file is not UTF-8; read as Windows-1252"
                   if declared else None)
        return "cp1252", warning
    return declared_name, None


def _detect_delimiter(header_line: str, spec: SourceSpec, expected: set[str]) -> tuple[str, str | None]:
    """The delimiter whose split of the header names the most ``expected`` columns."""
    candidates = ([spec.delimiter] if spec.delimiter else []) + [d for d in DELIMITERS if d != spec.delimiter]

    def names(delimiter: str) -> list[str]:
        return _header_names(header_line, delimiter)

    scored = [(sum(n in expected for n in names(d)), len(names(d)), d) for d in candidates]
    best_matches = max(s[0] for s in scored)
    if best_matches == 0:  # no spec column at all: keep the split with most columns for the error
        chosen = max(scored, key=lambda s: s[1])[2]
    else:
        chosen = next(d for matches, _, d in scored if matches == best_matches)
    warning = None
    if spec.delimiter and chosen != spec.delimiter and best_matches > 0:
        warning = f"the spec declares delimiter {spec.delimiter!r}, but the file uses {chosen!r}; read with {chosen!r}"
    return chosen, warning


def _named_encoding(name: str, path: Path) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InputError(f"unknown encoding {name!r}: use for instance utf-8 or windows-1252", file=str(path)) from None


def _header_names(header_line: str, delimiter: str) -> list[str]:
    fields = pl.select(split_fields(pl.lit(header_line, dtype=pl.String), delimiter)).item().to_list()
    return [name.strip() for name in fields]


@dataclass
class CsvExtract(Extract):
    batch_bytes: int = DEFAULT_BATCH_BYTES
    data_offset: int = 0

    @classmethod
    def open(cls, path: Path, spec: SourceSpec, batch_bytes: int, expected: list[str],
             delimiter: str | None = None, encoding: str | None = None) -> CsvExtract:
        with open(path, "rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
            fh.seek(-1, 2)
            ends_with_newline = fh.read(1) == b"\n"
        if sample.startswith(_UTF16_BOMS):
            raise InputError("the file is UTF-16; export it as UTF-8 or Windows-1252", file=str(path))
        bom = len(_UTF8_BOM) if sample.startswith(_UTF8_BOM) else 0
        if not sample[bom:].strip():
            raise InputError("the file is empty: expected a header line and data rows", file=str(path))
        warnings: list[str] = []
        if encoding:
            encoding = _named_encoding(encoding, path)
        elif bom:
            encoding = "utf-8"
            if spec.encoding and codecs.lookup(spec.encoding).name != "utf-8":
                warnings.append(f"the spec declares encoding {spec.encoding}, but the file starts with a "
                                "UTF-8 byte-order mark; read as UTF-8")
        else:
            encoding, warning = _detect_encoding(sample, spec.encoding)
            warnings += [warning] if warning else []
        end = sample.find(b"\n", bom)
        if end == -1:
            if len(sample) == SAMPLE_BYTES:
                raise InputError(f"no line break in the first {SAMPLE_BYTES} bytes: not a CSV extract", file=str(path))
            end = len(sample)
        header_line = sample[bom:end].decode(encoding, errors="replace").rstrip("\r")
        if delimiter is None:
            delimiter, warning = _detect_delimiter(header_line, spec, set(expected))
            warnings += [warning] if warning else []
        elif delimiter not in _REGEX_DELIMITER:
            raise InputError(f"delimiter {delimiter!r} is not one of {', '.join(map(repr, DELIMITERS))}", file=str(path))
        return cls(
            path=path, format="csv", header=_header_names(header_line, delimiter), encoding=encoding,
            delimiter=delimiter, warnings=warnings, ends_with_newline=ends_with_newline,
            batch_bytes=batch_bytes, data_offset=end + 1,
        )

    def batches(self, columns: list[str]) -> Iterator[RawBatch]:
        indices = {name: self.header.index(name) for name in columns}
        rows_before = 0
        with open(self.path, "rb") as fh:
            fh.seek(self.data_offset)
            carry = b""
            while True:
                block = fh.read(self.batch_bytes)
                data = carry + block
                if not block:
                    if data:
                        yield self._parse(data, rows_before, indices)
                    return
                cut = data.rfind(b"\n")
                if cut == -1:
                    if len(data) > MAX_LINE_BYTES:
                        raise InputError(f"a line longer than {MAX_LINE_BYTES} bytes after row {rows_before}: "
                                         "not a CSV extract, or the line breaks are missing", file=str(self.path))
                    carry = data
                    continue
                carry = data[cut + 1 :]
                batch = self._parse(data[: cut + 1], rows_before, indices)
                rows_before += batch.frame.height + batch.garbage.height + batch.blank_rows
                yield batch

    def _to_utf8(self, data: bytes, rows_before: int) -> bytes:
        """``data`` as UTF-8; lines not valid in the file's encoding are read as Windows-1252."""
        if self.encoding == "utf-8":
            try:
                data.decode("utf-8")
                return data
            except UnicodeDecodeError:
                pass
        text = data.decode(self.encoding, errors="surrogateescape")
        if _UNDECODABLE.search(text):
            text = self._repair_lines(text, rows_before)
        return text.encode("utf-8")

    def _repair_lines(self, text: str, rows_before: int) -> str:
        """Decode the lines that hold undecodable bytes with the fallback encoding, and say so."""
        fallback = FALLBACK_ENCODING if self.encoding == "utf-8" else self.encoding
        parts, rows, previous = [], [], 0
        for start, end, row in _lines_with(text, _find_undecodable, "\n", rows_before):
            raw = text[start:end].encode(self.encoding, errors="surrogateescape")
            parts += [text[previous:start], raw.decode(fallback, errors="replace")]
            rows.append(row)
            previous = end
        parts.append(text[previous:])
        shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
        how = (f"were read as {FALLBACK_ENCODING}" if fallback != self.encoding
               else "had their undefined bytes replaced by \ufffd")
        self.warnings.append(f"{len(rows)} row(s) were not valid {self.encoding} and {how} (rows {shown}): "
                             "the file mixes encodings")
        return "".join(parts)

    def _nul_rows(self, data: bytes, rows_before: int) -> tuple[bytes, pl.DataFrame]:
        """Rows holding NUL bytes (quarantined whole), and ``data`` with the NULs removed."""
        found = list(_lines_with(data, lambda d, pos: d.find(b"\x00", pos), b"\n", rows_before))
        rows = [row for _, _, row in found]
        values = [data[start:end].decode("utf-8", errors="replace") for start, end, _ in found]
        garbage = pl.DataFrame({ROW: rows, "raw": values}, schema={ROW: pl.Int64, "raw": pl.String}).select(
            ROW,
            value=redact_expr(pl.col("raw"), conceal=True),
            reason=pl.lit("nul_bytes"),
            message=pl.lit("the row holds NUL bytes: the export is damaged or not a text file; re-export the row"),
        )
        return data.replace(b"\x00", b""), garbage

    def _parse(self, data: bytes, rows_before: int, indices: dict[str, int]) -> RawBatch:
        data = self._to_utf8(data, rows_before)
        nul_garbage = _empty_garbage()
        if b"\x00" in data:
            data, nul_garbage = self._nul_rows(data, rows_before)
        # One string per line: NUL (never left in the data) as the separator, no quoting.
        lines = pl.read_csv(
            data, has_header=False, separator="\x00", quote_char=None, schema={"line": pl.String},
            empty_string_is_null=False, raise_if_empty=False,
        ).with_row_index(ROW, offset=rows_before + 1).with_columns(pl.col(ROW).cast(pl.Int64))
        expected_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        if lines.height != expected_lines:  # row numbers would be wrong: refuse rather than guess
            raise InputError(f"could not split rows {rows_before + 1}-{rows_before + expected_lines} into lines "
                             f"({lines.height} found, {expected_lines} expected)", file=str(self.path))
        # Count the fields of every line with its quoted values taken out; a quote left over
        # is a value opened and never closed. Only lines with the header's field count go on
        # to Polars' own CSV parser, so that each line is exactly one row.
        # A block without a quote (most are) has no quoted value to take out.
        quoted = b'"' in data
        unquoted = pl.col("line").str.replace_all(_QUOTED, "") if quoted else pl.col("line")
        width = len(self.header)
        lines = lines.with_columns(
            nul=pl.col(ROW).is_in(nul_garbage[ROW].implode()),
            fields=unquoted.str.count_matches(self.delimiter, literal=True) + 1,
            bad_quoting=unquoted.str.contains('"', literal=True) if quoted else pl.lit(False),
        )
        blank = (pl.col("line").is_null() | (pl.col("line").str.strip_chars() == "")) & ~pl.col("nul")
        blank_rows = lines.filter(blank).height
        content = lines.filter(~blank & ~pl.col("nul"))
        wrong = pl.col("bad_quoting") | (pl.col("fields") != width)
        unsplit = content.filter(wrong)
        # The garbage rows' values and messages are a plan of regexes: built only when there are any.
        garbage = _empty_garbage() if unsplit.is_empty() else unsplit.select(
            ROW,
            value=redact_expr(pl.col("line"), conceal=True),
            reason=pl.when(pl.col("bad_quoting")).then(pl.lit("bad_quoting")).otherwise(pl.lit("wrong_field_count")),
            message=pl.when(pl.col("bad_quoting"))
            .then(pl.lit("a quote opens a value but does not close it on the same line"))
            .otherwise(pl.concat_str(
                pl.lit("the row has "), pl.col("fields"),
                pl.when(pl.col("fields") == 1).then(pl.lit(" field")).otherwise(pl.lit(" fields")),
                pl.lit(f" but the header has {width}: "),
                self._other_delimiter_expr(unquoted, width).fill_null(
                    pl.lit(f"a value holds an unquoted {self.delimiter!r} or the line is cut off")),
            )),
        )
        good = content.filter(~wrong)
        frame = self._parse_good_lines(data if good.height == lines.height else None, good, indices)
        has_control = len(data.translate(None, _CONTROL_BYTES)) != len(data)
        return RawBatch(_text_columns(frame), pl.concat([nul_garbage, garbage]).sort(ROW), blank_rows, has_control)

    def _other_delimiter_expr(self, unquoted: pl.Expr, width: int) -> pl.Expr:
        """Where a line holds none of the file's own delimiter (outside quotes) and splits into the
        header's ``width`` fields on another of :data:`DELIMITERS` (a row typed or pasted in from a
        file of another separator), that it may have been written so; null elsewhere. A line that
        does hold the file's delimiter (a cut-off row whose values hold tabs, a stray ';') is not
        offered that cause."""
        others = [d for d in DELIMITERS if d != self.delimiter] if width > 1 else []
        return pl.when(~unquoted.str.contains(self.delimiter, literal=True)).then(pl.coalesce(
            pl.when(unquoted.str.count_matches(d, literal=True) + 1 == width).then(
                pl.lit(f"it splits into {width} on {d!r}: it may have been written with {d!r}; write the row with "
                       f"{self.delimiter!r}, as the rest of the file"))
            for d in others
        )) if others else pl.lit(None, dtype=pl.String)

    def _parse_good_lines(self, data: bytes | None, good: pl.DataFrame, indices: dict[str, int]) -> pl.DataFrame:
        """Parse lines known to hold the header's field count; ``data`` is the block itself
        when every line of it is good (no copy needed)."""
        if good.height == 0:
            return pl.DataFrame(schema={ROW: pl.Int64, **{name: pl.String for name in indices}})
        source = data if data is not None else good["line"].str.join("\n").item().encode()
        wanted = sorted(set(indices.values()))
        # Every column named (a file may hold columns the spec does not read), the wanted ones kept.
        parsed = pl.scan_csv(
            source, has_header=False, separator=self.delimiter, quote_char='"', raise_if_empty=False,
            schema={f"c{i}": pl.String for i in range(len(self.header))},
        ).select(f"c{i}" for i in wanted).collect()
        if parsed.height != good.height:  # row numbers would be wrong: refuse rather than guess
            raise InputError(f"could not parse rows {good[ROW].min()}-{good[ROW].max()} "
                             f"({parsed.height} parsed, {good.height} expected)", file=str(self.path))
        return parsed.select(pl.Series(ROW, good[ROW]), *(pl.col(f"c{i}").alias(name) for name, i in indices.items()))


# ---------------------------------------------------------------------------- Parquet, Excel

_ISO_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S")


@dataclass
class ParquetExtract(Extract):
    batch_rows: int = DEFAULT_BATCH_ROWS

    @classmethod
    def open(cls, path: Path, batch_rows: int) -> ParquetExtract:
        try:
            header = list(pl.read_parquet_schema(path))
        except Exception as exc:  # polars raises several error types for a damaged file
            raise InputError(f"not a readable Parquet file ({describe_read_error(exc)})", file=str(path)) from None
        return cls(path=path, format="parquet", header=header, native_date_formats=_ISO_DATE_FORMATS,
                   batch_rows=batch_rows)

    def number_columns(self, columns: list[str]) -> frozenset[str]:
        return frozenset(name for name, dtype in pl.read_parquet_schema(self.path).items()
                         if name in columns and dtype.is_numeric())

    def batches(self, columns: list[str]) -> Iterator[RawBatch]:
        scan = pl.scan_parquet(self.path).select(columns)
        as_text = [_as_text(pl.col(c), dtype) for c, dtype in scan.collect_schema().items()]
        rows_before = 0
        for chunk in scan.select(as_text).collect_batches(chunk_size=self.batch_rows):
            frame = chunk.with_row_index(ROW, offset=rows_before + 1).with_columns(pl.col(ROW).cast(pl.Int64))
            rows_before += chunk.height
            yield _blank_rows_removed(_text_columns(frame))


def _as_text(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A typed Parquet column as the text a partner would have written: a date or a timestamp as
    its date (the time of day says nothing about a date column), a float that holds a whole number
    as that number ("1234567", not "1234567.0", which would read as the 8 digits 12345670).

    >>> frame = pl.DataFrame({"x": [1234567.0, 2.5, None]})
    >>> frame.select(_as_text(pl.col("x"), pl.Float64))["x"].to_list()
    ['1234567', '2.5', None]
    """
    if dtype == pl.Date or dtype.base_type() == pl.Datetime:
        return column.dt.strftime("%Y-%m-%d")
    if dtype.is_float():
        whole = column.is_finite() & (column == column.floor())
        return pl.when(whole).then(column.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(column.cast(pl.String))
    return column.cast(pl.String)


def _blank_rows_removed(frame: pl.DataFrame) -> RawBatch:
    data = [c for c in frame.columns if c != ROW]
    blank = pl.all_horizontal(pl.col(c).is_null() for c in data) if data else pl.lit(False)
    return RawBatch(frame.filter(~blank), _empty_garbage(), frame.filter(blank).height)


def _excel_number_columns(workbook, path: Path, header: list[str], columns: list[str]) -> frozenset[str]:
    """Those of ``columns`` the first sheet of ``workbook`` (an open ``fastexcel`` reader) holds
    as number cells only: their types inferred from all rows (a column mixing text and numbers is
    text), for these columns only; a boolean cell reads as a number there, so a column with one is
    not."""
    wanted = [name for name in columns if name in header]
    if not wanted:
        return frozenset()
    reader_log = logging.getLogger("fastexcel")
    level = reader_log.level
    reader_log.setLevel(logging.ERROR)  # an empty column is text: no warning of a type it could not tell
    try:
        typed = workbook.load_sheet(0, schema_sample_rows=None, use_columns=[header.index(name) for name in wanted])
        dtypes = [column.dtype for column in typed.selected_columns]
    except Exception as exc:  # fastexcel raises its own error types for damaged workbooks
        raise InputError(f"not a readable Excel workbook ({describe_read_error(exc)})", file=str(path)) from None
    finally:
        reader_log.setLevel(level)
    return frozenset(name for name, dtype in zip(wanted, dtypes) if dtype in ("int", "float"))


@dataclass
class ExcelExtract(Extract):
    batch_rows: int = DEFAULT_BATCH_ROWS
    sheet: pl.DataFrame | None = None
    # The workbook as read when the extract was opened (a ``fastexcel`` reader over its bytes):
    # the types of the number columns come from it, not from a file that may have changed since.
    workbook: object = None

    @classmethod
    def open(cls, path: Path, batch_rows: int) -> ExcelExtract:
        import fastexcel

        try:
            workbook = fastexcel.read_excel(path.read_bytes())
            # One dtype for every column needs fastexcel 0.12 (pyproject.toml); to_polars, not
            # pl.DataFrame(sheet), which takes a sheet only from later releases.
            sheet = workbook.load_sheet(0, header_row=None, dtypes="string").to_polars()
        except Exception as exc:  # fastexcel raises its own error types for damaged workbooks
            raise InputError(f"not a readable Excel workbook ({describe_read_error(exc)})", file=str(path)) from None
        if sheet.height == 0:
            raise InputError("the first sheet is empty: expected a header row and data rows", file=str(path))
        header = [("" if v is None else str(v)).strip() for v in sheet.row(0)]
        while header and header[-1] == "":
            header.pop()
        data = sheet.slice(1).select(sheet.columns[: len(header)])
        return cls(path=path, format="xlsx", header=header, native_date_formats=_ISO_DATE_FORMATS,
                   batch_rows=batch_rows, sheet=data.rename(dict(zip(data.columns, map(str, range(len(header)))))),
                   workbook=workbook)

    def number_columns(self, columns: list[str]) -> frozenset[str]:
        columns = list(dict.fromkeys(columns))  # a column two entities read (a company's KvK number) is asked once
        booleans = self.sheet.select(pl.col(str(self.header.index(name))).is_in(["true", "false"]).any().alias(name)
                                     for name in columns if name in self.header)
        numbers = _excel_number_columns(self.workbook, self.path, self.header, columns)
        return frozenset(name for name in numbers if not booleans[name].item())

    def batches(self, columns: list[str]) -> Iterator[RawBatch]:
        frame = self.sheet.select(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW),
            *(pl.col(str(self.header.index(name))).cast(pl.String).alias(name) for name in columns),
        )
        # Typed date cells arrive as "2024-01-31 13:45:00" (an Excel serial date 45000.5 too): the date
        # is the day; its time of day says nothing about a date column.
        frame = frame.with_columns(pl.col(c).str.replace(r"^(\d{4}-\d{2}-\d{2}) \d{2}:\d{2}:\d{2}(?:\.\d+)?$", "$1")
                                   for c in columns)
        for start in range(0, max(frame.height, 1), self.batch_rows):
            yield _blank_rows_removed(_text_columns(frame.slice(start, self.batch_rows)))
