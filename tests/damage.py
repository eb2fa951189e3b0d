"""Damage to the real extract layouts, for the property tests and the fuzzing run.

Every shipped spec's layout is taken from ``data/sample`` (the delivered extracts) and
``data/sample/truth/plaintext`` (what the partner holds before ``mhgraph pseudonymise``). A
hypothesis strategy draws a list of damages — a bad value in a cell, a field too many or too
few, a line cut off, junk, NUL bytes, a line in another encoding, blank lines, a repeated row,
a byte-order mark, CRLF line ends — which :func:`write_damaged` applies to a few rows.

:func:`ingest_holds` and :func:`pseudonymise_holds` state the property: the file is either
refused as a whole with an :class:`~mhgraph.errors.InputError` naming it, or every row is
accounted for — taken in, or quarantined with a known reason — and nothing else happens.
"""

from __future__ import annotations

import codecs
import json
from collections import Counter
from pathlib import Path

import polars as pl
from hypothesis import strategies as st

from mhgraph.crypto import Key
from mhgraph.errors import InputError
from mhgraph.ingest import ingest
from mhgraph.ingest.validate import REASONS
from mhgraph.pseudonymise import PLAINTEXT_REASONS, META_SUFFIX, pseudonymise_file, read_meta
from mhgraph.spec import load_specs

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
SPECS = {spec.name: spec for spec in load_specs()}
CSV_LAYOUTS = sorted(name for name, spec in SPECS.items() if spec.file.endswith(".csv"))
KEY = Key(b"mhgraph damage tests - a shared key")
ROWS = 12
OUTCOMES: Counter = Counter()  # what the examples came to, for the fuzzing run's report

NASTY_VALUES = [
    "onbekend", "31-02-2024", "1990-13-45", "=HYPERLINK(\"http://x\")", "+31 6 1234", "@SUM(A1)", "-1", "NaN",
    "1e400", "0x10", "", " ", "\x00", "\x07bel", "a\tb", "Z" * 5000, "Súdwest-Fryslân", "ü", "😀", "\u202e",
    "111222333", "1234 AB", "12345678", "\"", "\"\"", "a,b", "a;b", "a|b", "x\ry", "'", "null", "None", "-", "٣",
]
values = st.one_of(st.sampled_from(NASTY_VALUES), st.text(max_size=40))


@st.composite
def damages(draw, rows: int = ROWS) -> list[tuple]:
    """A list of damages to ``rows`` data rows (0-based row indices)."""
    row = st.integers(0, rows - 1)
    one = st.one_of(
        st.tuples(st.just("cell"), row, st.integers(0, 40), values),
        st.tuples(st.just("field_too_few"), row),
        st.tuples(st.just("field_too_many"), row),
        st.tuples(st.just("cut_line"), row, st.integers(0, 200)),
        st.tuples(st.just("junk_line"), row, st.binary(max_size=60)),
        st.tuples(st.just("nul"), row, st.integers(0, 200)),
        st.tuples(st.just("windows_1252_line"), row),
        st.tuples(st.just("blank_line"), row),
        st.tuples(st.just("repeat_row"), row),
        st.tuples(st.just("bom")),
        st.tuples(st.just("crlf")),
    )
    return draw(st.lists(one, min_size=1, max_size=6))


def layout_rows(path: Path, rows: int = ROWS) -> tuple[list[str], list[list[str | None]]]:
    """Header and the first ``rows`` rows of a real extract, as text."""
    frame = (pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, infer_schema=False)).head(rows)
    frame = frame.with_columns(pl.all().cast(pl.String))
    return frame.columns, [list(r) for r in frame.iter_rows()]


def _quote(value: str | None, delimiter: str) -> str:
    if value is None:
        return ""
    if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_damaged(path: Path, header: list[str], rows: list[list[str | None]], ops: list[tuple],
                  delimiter: str = ",") -> None:
    """Write ``header`` and ``rows`` as CSV with ``ops`` applied."""
    rows = [list(r) for r in rows]
    for op in ops:
        if op[0] == "cell":
            rows[op[1]][op[2] % len(header)] = op[3]
    lines: list[bytes] = [delimiter.join(header).encode()]
    for index, row in enumerate(rows):
        line = delimiter.join(_quote(v, delimiter) for v in row).encode("utf-8", errors="surrogatepass")
        for op in (o for o in ops if o[0] != "cell" and len(o) > 1 and o[1] == index):
            kind = op[0]
            if kind == "field_too_few" and delimiter.encode() in line:
                line = line.replace(delimiter.encode(), b"", 1)
            elif kind == "field_too_many":
                line += delimiter.encode() + b"extra"
            elif kind == "cut_line":
                line = line[: op[2] % (len(line) + 1)]
            elif kind == "junk_line":
                line = op[2].replace(b"\n", b" ")
            elif kind == "nul":
                position = op[2] % (len(line) + 1)
                line = line[:position] + b"\x00" + line[position:]
            elif kind == "windows_1252_line":
                line = line.decode("utf-8", errors="replace").encode("windows-1252", errors="replace") + "é".encode(
                    "windows-1252")
            elif kind == "blank_line":
                lines.append(b"")
            elif kind == "repeat_row":
                lines.append(line)
        lines.append(line)
    data = b"\n".join(lines) + b"\n"
    if any(op[0] == "crlf" for op in ops):
        data = data.replace(b"\n", b"\r\n")
    if any(op[0] == "bom" for op in ops):
        data = codecs.BOM_UTF8 + data
    path.write_bytes(data)


def ingest_holds(folder: Path, layout: str, ops: list[tuple]) -> str:
    """Damage the delivered extract of ``layout``, ingest it, and check that nothing is lost."""
    spec = SPECS[layout]
    header, rows = layout_rows(SAMPLE / spec.file)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / spec.file
    write_damaged(path, header, rows, ops, spec.delimiter or ",")
    meta = json.loads((SAMPLE / (spec.file + META_SUFFIX)).read_text())
    data_lines = path.read_bytes().removeprefix(codecs.BOM_UTF8).split(b"\n")[1:]
    data_lines = data_lines[:-1] if data_lines and data_lines[-1] == b"" else data_lines
    content = [line for line in data_lines if line.strip(b"\r \t")]
    (folder / (spec.file + META_SUFFIX)).write_text(json.dumps({**meta, "rows": len(content)}))
    try:
        result = ingest(folder)
    except InputError as error:
        assert error.file and Path(error.file).name.startswith(spec.file), error
        return "refused"
    (source,) = result.summary["sources"]
    assert source["balanced"], source
    assert source["rows_read"] + source["blank_rows"] == len(data_lines), (source, len(data_lines))
    quarantine = result.quarantine
    assert set(quarantine["reason"]) <= set(REASONS)
    assert quarantine["row_number"].n_unique() == source["rows_quarantined"]
    assert quarantine["row_number"].is_between(1, len(data_lines)).all()
    assert sum(source["quarantined_by_reason"].values()) >= source["rows_quarantined"]
    return "quarantined" if source["rows_quarantined"] else "clean"


def pseudonymise_holds(folder: Path, layout: str, ops: list[tuple]) -> str:
    """Damage the plaintext extract of ``layout``, pseudonymise it, and check that nothing is
    lost and that ingest takes in every delivered row: both sides apply the same rules."""
    spec = SPECS[layout]
    header, rows = layout_rows(SAMPLE / "truth" / "plaintext" / f"{layout}.parquet")
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / "plain.csv"
    write_damaged(plain, header, rows, ops)
    try:
        delivered = pseudonymise_file(plain, spec, KEY, folder / "delivered", "2026-01-15")
    except InputError as error:
        assert error.file and Path(error.file).name == "plain.csv", error
        return "refused"
    meta = read_meta(delivered)
    assert meta["rows"] + meta["rows_quarantined_by_partner"] == meta["rows_read"], meta
    assert set(meta["quarantined_by_partner"]) <= set(REASONS) | set(PLAINTEXT_REASONS)
    result = ingest(folder / "delivered")
    (source,) = result.summary["sources"]
    assert source["rows_read"] == meta["rows"] and source["rows_quarantined"] == 0, (
        source["quarantined_by_reason"], result.quarantine.select("row_number", "column", "reason").rows())
    return "quarantined" if meta["rows_quarantined_by_partner"] else "clean"
