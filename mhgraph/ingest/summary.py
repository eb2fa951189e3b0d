"""What an ingest run read, took in and quarantined, per file: the account that nothing was lost.

For every file ``rows_read == rows_accepted + rows_quarantined`` (blank lines are counted
apart and hold no data). *Rows quarantined* always means input rows with at least one problem;
the quarantine table has one line per problem, so a row with two bad values is one row
quarantined and two lines in ``quarantine.csv``. ``mhgraph run``, ``mhgraph ingest``,
``summary.md`` and the run manifest all count rows. The summary is a plain ``dict`` (ready for a JSON run manifest)
with a few helpers to print and tabulate it.

>>> report = FileReport("in/a.csv", "ind_referenten", "ind", "immigration_supervision",
...     rows_read=10, rows_accepted=9, rows_quarantined=1, quarantined_by_reason={"bad_date": 1})
>>> summary = IngestSummary.build([report])
>>> summary["sources"][0]["balanced"], summary["rows_quarantined"], summary["quarantined_by_reason"]
(True, 1, {'bad_date': 1})
>>> print(summary.format().splitlines()[1])
ind_referenten  in/a.csv: 10 rows read, 9 accepted, 1 quarantined (bad_date 1); 0 mentions, 0 relations
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import polars as pl

from mhgraph.file_names import shown_path

__all__ = ["FileReport", "IngestSummary"]


@dataclass
class FileReport:
    """The account of one file, filled in while it is read."""

    file: str  # as shown (mhgraph.file_names.shown_path): the summary is written to manifests
    source: str
    partner: str
    purpose: str
    format: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    key_fingerprint: str | None = None
    sidecar: bool = True  # False: taken in without a sidecar (explicitly accepted)
    rows_quarantined_by_partner: int | None = None  # held back by mhgraph pseudonymise (from the sidecar)
    # reason -> values mhgraph pseudonymise left out of rows it delivered (from the sidecar)
    values_left_out_by_partner: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    blank_rows: int = 0
    # reason -> number of rows quarantined for it (a row with two problems counts under both)
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    mentions: int = 0
    relations: int = 0
    # role -> accepted rows whose block for that role had no identifying value (so no mention)
    rows_without_mention: dict[str, int] = field(default_factory=dict)
    # optional spec columns the extract lacks (delivered before the spec named them): read as empty
    optional_columns_absent: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """Nothing lost: every row read was either accepted or quarantined."""
        return self.rows_read == self.rows_accepted + self.rows_quarantined


class IngestSummary(dict):
    """``{"sources": [per-file dict, ...], "unmatched_files": [...], "sources_without_file":
    [...], "key_fingerprint": ..., "balanced": bool, "rows_read": n, "rows_quarantined": n,
    "quarantined_by_reason": {reason: rows}, "files_without_sidecar": [...]}`` (rows summed
    over the files); :func:`~mhgraph.ingest.ingest` adds ``files_left_out`` (files the run
    purpose does not permit, each with why).

    Each per-file dict holds the fields of :class:`FileReport` plus ``balanced``.
    """

    @classmethod
    def build(cls, reports: list[FileReport], unmatched_files: list[str] = (),
              sources_without_file: list[str] = (), key_fingerprint: str | None = None) -> IngestSummary:
        by_reason: dict[str, int] = {}
        for report in reports:
            for reason, rows in report.quarantined_by_reason.items():
                by_reason[reason] = by_reason.get(reason, 0) + rows
        return cls(
            sources=[asdict(report) | {"balanced": report.balanced} for report in reports],
            rows_read=sum(report.rows_read for report in reports),
            rows_quarantined=sum(report.rows_quarantined for report in reports),
            quarantined_by_reason=dict(sorted(by_reason.items())),
            files_without_sidecar=[report.file for report in reports if not report.sidecar],
            unmatched_files=list(unmatched_files),
            sources_without_file=list(sources_without_file),
            key_fingerprint=key_fingerprint,
            balanced=all(report.balanced for report in reports),
        )

    def to_frame(self) -> pl.DataFrame:
        """One row per file (reasons as ``quarantined_<reason>`` columns)."""
        reasons = sorted({r for source in self["sources"] for r in source["quarantined_by_reason"]})
        roles = list(dict.fromkeys(role for source in self["sources"] for role in source["rows_without_mention"]))
        rows = [
            {
                **{k: v for k, v in source.items()
                   if k not in ("quarantined_by_reason", "rows_without_mention", "warnings")},
                **{f"quarantined_{r}": source["quarantined_by_reason"].get(r, 0) for r in reasons},
                **{f"without_mention_{role}": source["rows_without_mention"].get(role, 0) for role in roles},
                "warnings": source["warnings"],
            }
            for source in self["sources"]
        ]
        return pl.DataFrame(rows, schema_overrides={"warnings": pl.List(pl.String), "optional_columns_absent": pl.List(
            pl.String)}) if rows else pl.DataFrame()

    def format(self) -> str:
        """The summary as lines of text, as ``mhgraph ingest`` prints it."""
        fingerprint = self.get("key_fingerprint")
        lines = [f"ingested {len(self['sources'])} file(s)" + (f", key fingerprint {fingerprint}" if fingerprint else "")]
        if self.get("files_without_sidecar"):
            lines.append(f"WARNING: {len(self['files_without_sidecar'])} file(s) TAKEN IN WITHOUT A SIDECAR "
                         "(--accept-missing-sidecar), key and row count unchecked: "
                         + ", ".join(shown_path(f) for f in self["files_without_sidecar"]))
        for s in self["sources"]:
            reasons = ", ".join(f"{r} {n}" for r, n in sorted(s["quarantined_by_reason"].items()))
            without = ", ".join(f"{role} {n}" for role, n in s["rows_without_mention"].items() if n)
            lines.append(
                f"{s['source']}  {shown_path(s['file'])}: {s['rows_read']} rows read, {s['rows_accepted']} accepted, "
                f"{s['rows_quarantined']} quarantined" + (f" ({reasons})" if reasons else "")
                + f"; {s['mentions']} mentions, {s['relations']} relations"
                + (f"; rows without a mention (no identifying value): {without}" if without else "")
                + (f"; {s['rows_quarantined_by_partner']} more held back by the partner's own checks"
                   if s.get("rows_quarantined_by_partner") else "")
                + (f"; values the partner's checks left out of delivered rows: {left_out}"
                   if (left_out := ", ".join(f"{r} {n}" for r, n in sorted(s.get("values_left_out_by_partner", {}).items())
                                             if n)) else "")
                + ("" if s["balanced"] else "  [rows do not add up]")
            )
            lines += [f"    warning: {w}" for w in s["warnings"]]
        for entry in self.get("files_left_out", []):
            lines.append(f"left out (not read): {entry['file']}: {entry['why']}")
        if self["unmatched_files"]:
            lines.append("files no spec matches (not read): " + ", ".join(self["unmatched_files"]))
        if self["sources_without_file"]:
            lines.append("specs with no file in this run: " + ", ".join(self["sources_without_file"]))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()
