"""Analyst overrides: pairs of mentions that must, or must never, be one entity.

An analyst who knows better than the model writes the pair down with a reason, in a CSV file
(columns ``mention_a``, ``mention_b``, ``decision``, ``reason``) or a TOML file::

    [[must_link]]
    a = "kvk_functionarissen/F17/functionaris"
    b = "belastingdienst_loonaangifte/R3/werknemer"
    reason = "same person according to the case file 2024-117"

    [[cannot_link]]
    a = "..."
    b = "..."
    reason = "father and son, same name and address"

The next run honours them: a cannot-link keeps the two mentions in different entities (and so
the groups they belong to); a must-link joins them unless they carry different identifiers
(two pseudonymised BSNs are never merged), which the run reports instead.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "overrides.csv"
>>> _ = path.write_text("mention_a,mention_b,decision,reason\\nx/2/p,x/1/p,cannot_link,twins\\n")
>>> load_overrides(path).select("mention_a", "mention_b", "decision").rows()
[('x/1/p', 'x/2/p', 'cannot_link')]
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import polars as pl

from mhgraph.errors import InputError, describe_read_error

__all__ = ["OVERRIDE_SCHEMA", "check_overrides", "load_overrides", "overrides_frame"]

OVERRIDE_SCHEMA = {"mention_a": pl.String, "mention_b": pl.String, "decision": pl.String, "reason": pl.String,
                   "file": pl.String, "row": pl.Int64}
DECISIONS = ("must_link", "cannot_link")


def overrides_frame(rows: list[dict], file: str = "") -> pl.DataFrame:
    """Check and normalise override rows (``mention_a``, ``mention_b``, ``decision``, ``reason``;
    optional ``row``): ``mention_a < mention_b``, one decision per pair."""
    out = []
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for number, raw in enumerate(rows, start=1):
        row = raw.get("row", number)
        a, b = (str(raw.get(k) or "").strip() for k in ("mention_a", "mention_b"))
        decision = str(raw.get("decision") or "").strip()
        reason = str(raw.get("reason") or "").strip()
        for column, value in (("mention_a", a), ("mention_b", b), ("reason", reason)):
            if not value:
                raise InputError(f"{column} is empty; every override needs two mention ids and a reason",
                                 file=file, row=row, column=column)
        if decision not in DECISIONS:
            raise InputError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}",
                             file=file, row=row, column="decision")
        if a == b:
            raise InputError("a mention cannot be linked to itself", file=file, row=row, column="mention_b")
        a, b = min(a, b), max(a, b)
        earlier = seen.get((a, b))
        if earlier and earlier[0] != decision:
            raise InputError(f"contradicts row {earlier[1]}, which says {earlier[0]} for the same pair",
                             file=file, row=row, column="decision")
        seen[(a, b)] = (decision, row)
        out.append({"mention_a": a, "mention_b": b, "decision": decision, "reason": reason, "file": file, "row": row})
    return pl.DataFrame(out, schema=OVERRIDE_SCHEMA).unique(["mention_a", "mention_b"], keep="first", maintain_order=True)


def _read_spreadsheet_csv(path: Path) -> pl.DataFrame:
    """A CSV as a spreadsheet saves it: UTF-8 (with or without byte-order mark) or Windows-1252
    (Dutch Excel), separated by ``,``, ``;`` or tabs, whichever splits the header most."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if not text.strip():  # a truncated file must not silently undo the analysts' decisions
        raise InputError("the overrides file is empty: expected the header mention_a, mention_b, decision, reason",
                         file=str(path))
    header = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=lambda d: len(header.split(d)))
    try:
        return pl.read_csv(text.encode("utf-8"), separator=delimiter, infer_schema_length=0)
    except pl.exceptions.PolarsError as exc:  # its message quotes the rows
        raise InputError(f"could not read the overrides file ({describe_read_error(exc)})", file=str(path)) from None


def load_overrides(path: str | Path) -> pl.DataFrame:
    """Read overrides from a ``.csv`` or ``.toml`` file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("overrides file does not exist", file=str(path))
    if path.suffix.lower() == ".toml":
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"not valid TOML: {exc}", file=str(path)) from exc
        unknown = sorted(set(raw) - set(DECISIONS))
        if unknown:
            raise InputError(f"unknown section(s) {unknown}; use [[must_link]] and [[cannot_link]]", file=str(path))
        rows = [
            {"mention_a": item.get("a"), "mention_b": item.get("b"), "decision": decision,
             "reason": item.get("reason"), "row": i}
            for decision in DECISIONS for i, item in enumerate(raw.get(decision, []), start=1)
        ]
        return overrides_frame(rows, str(path))
    frame = _read_spreadsheet_csv(path)
    missing = [c for c in ("mention_a", "mention_b", "decision", "reason") if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=str(path))
    return overrides_frame(frame.to_dicts(), str(path))


def check_overrides(overrides: pl.DataFrame, mentions: pl.DataFrame) -> pl.DataFrame:
    """Overrides with the entity type of their pair; an unknown mention id or a pair of two
    entity types is an :class:`InputError` naming the file and row."""
    types = mentions.select("mention_id", "entity_type")
    checked = (overrides.join(types.rename({"mention_id": "mention_a", "entity_type": "type_a"}), on="mention_a", how="left",
                              maintain_order="left")
               .join(types.rename({"mention_id": "mention_b", "entity_type": "type_b"}), on="mention_b", how="left",
                     maintain_order="left"))
    for row in checked.iter_rows(named=True):
        for side in ("a", "b"):
            if row[f"type_{side}"] is None:
                raise InputError(f"mention {row[f'mention_{side}']!r} is not in the mentions table",
                                 file=row["file"] or None, row=row["row"], column=f"mention_{side}")
        if row["type_a"] != row["type_b"]:
            raise InputError(f"links a {row['type_a']} to a {row['type_b']}", file=row["file"] or None,
                             row=row["row"], column="mention_b")
    return checked.drop("type_b").rename({"type_a": "entity_type"})
