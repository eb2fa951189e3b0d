"""Errors a user can act on. The CLI prints their message on one line and exits non-zero."""

from __future__ import annotations

import re

from mhgraph.file_names import shown_path

__all__ = ["InputError", "MhgraphError", "describe_read_error"]

# Positions a reader's error message may give; everything else in it may quote the data.
_POSITIONS = (
    (re.compile(r"\bline (\d+)", re.IGNORECASE), "line {}"),
    (re.compile(r"\brow (\d+)", re.IGNORECASE), "row {}"),
    (re.compile(r"column number (\d+)", re.IGNORECASE), "column number {}"),
    (re.compile(r"offset in the file is (\d+) bytes", re.IGNORECASE), "byte offset {}"),
)


class MhgraphError(Exception):
    """Base of every error mhgraph raises on purpose."""


class InputError(MhgraphError, ValueError):
    """Bad input: names the file, and where known the row and column, and what was expected.
    The message shows the file as :func:`~mhgraph.file_names.shown_path` does, since a
    partner's file name may hold an identifier; ``file`` keeps the path as given.

    >>> str(InputError("no sidecar", file="in/loon_123456782.csv"))
    'file in/(18 chars, sha256 f042): no sidecar'
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None):
        self.file, self.row, self.column, self.detail = file, row, column, message
        where = ", ".join(
            part for part in (
                f"file {shown_path(file)}" if file else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)


def describe_read_error(exc: BaseException) -> str:
    """A reader's exception on one line without its content: its class and, where the message
    gives one, the position. Readers quote the offending data in their messages, and that data
    may be plaintext.

    >>> describe_read_error(ValueError('could not parse `"Jan",123456782` at column "b" (column number 2)'))
    'ValueError at column number 2'
    """
    text = str(exc)
    where = [label.format(found.group(1)) for pattern, label in _POSITIONS if (found := pattern.search(text))]
    return type(exc).__name__ + (f" at {', '.join(where)}" if where else "")
