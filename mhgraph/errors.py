"""Errors a user can act on. The CLI prints their message on one line and exits non-zero."""

from __future__ import annotations

__all__ = ["InputError", "MhgraphError"]


class MhgraphError(Exception):
    """Base of every error mhgraph raises on purpose."""


class InputError(MhgraphError, ValueError):
    """Bad input: names the file, and where known the row and column, and what was expected."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None):
        self.file, self.row, self.column = file, row, column
        where = ", ".join(
            part for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
