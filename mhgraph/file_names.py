"""Partner file names as mhgraph shows them: without a plaintext identifier the name may hold.

Partners name their own files, so a name can carry what their rows may not (a BSN, a KvK number,
a postcode). Every log line, error, summary, manifest and document shows a partner's file through
:func:`shown_path`. Plain Python on one name at a time, so that :mod:`mhgraph.errors` and the
ingest can both use it without importing each other.

>>> shown_path("in/loon_123456782.csv"), shown_path("in/loon_2024.csv")
('in/(18 chars, sha256 f042)', 'in/loon_2024.csv')
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path

__all__ = ["SHOWN_NAME_HASH_CHARS", "identifier_in_name", "shown_path"]

SHOWN_NAME_HASH_CHARS = 4
# What a name may carry, found with separators between digits taken out and letters allowed
# right before digits ("bsn123.456.782.csv", "kvk1234 - 5678.csv", "1234  ab.csv"). A separator is
# a run of up to three of space, dot, underscore, comma, hyphen or dash (" - ", "., "): enough for
# what people type between the parts of a number, short enough not to join numbers set apart.
_SEPARATOR = r"[\s._,\-\u2010-\u2015]{1,3}"
_DIGIT_RUN = re.compile(rf"\d+(?:{_SEPARATOR}\d+)*")
_POSTCODE = re.compile(rf"(?<!\d)[1-9]\d{{3}}(?:{_SEPARATOR})?[A-Za-z]{{2}}(?![A-Za-z])")
# The name's extension is not looked in for a postcode: "loon_2024.gz" is a year and a gzip file.
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]*$")
_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def _is_bsn(nine_digits: str) -> bool:
    # The eleven-test as the ingest's checks of readable values apply it: a leading 0 is no BSN
    # (zero-padded counters are common, and BSNs issued today start with 1-9).
    total = sum(int(d) * w for d, w in zip(nine_digits, _BSN_WEIGHTS))
    return nine_digits[0] != "0" and total != 0 and total % 11 == 0


def _is_padded_bsn(group: str) -> bool:
    # A BSN zero-padded to 10 digits, as a fixed-width field writes it ("0123456782") and as the
    # ingest's check of readable text finds it in a word: one group written without separators
    # (joined groups are a part number and a date, "01_20240105"), and, unlike that check, not a
    # part number glued to a date ("0120240105"), which names files far more often than a BSN.
    return len(group) == 10 and group[0] == "0" and _is_bsn(group[1:]) and not _is_date(group[2:])


def _is_date(digits: str) -> bool:
    try:
        return 1900 <= datetime.strptime(digits, "%Y%m%d").year < 2100
    except ValueError:
        return False


def identifier_in_name(name: str) -> bool:
    """Whether a file name holds what looks like a plaintext BSN (9 digits passing the eleven-test,
    also zero-padded to 10 digits without separators, ``loon_0123456782.csv``, unless the last 8
    are a date YYYYMMDD), KvK number (8 digits that are not a date YYYYMMDD) or postcode, written
    with or without separators, in the digits of any script. Digit groups joined by a separator are
    tried together and on their own, so ``loon_2024_123456782.csv`` holds a BSN and
    ``loon_20240131.csv`` nothing. The extension is no postcode's letters (``loon_2024.gz``), but a year before two other letters
    is taken for one (``rapport_2024_nl.csv``): 2024 NL is written like a postcode.

    >>> [identifier_in_name(n) for n in ("loon_123 - 456 - 782.csv", "kvk1234 5678.csv", "a_1234  ab.csv", "loon_20240131.csv")]
    [True, True, True, False]
    >>> [identifier_in_name(n) for n in ("loon_0123456782.csv", "loon_1123456782.csv", "loon_01_20240105.csv")]
    [True, False, False]
    >>> identifier_in_name("loon_2024.gz"), identifier_in_name("rapport_2024_nl.csv")
    (False, True)
    """
    if _POSTCODE.search(_EXTENSION.sub("", name)):
        return True
    for run in _DIGIT_RUN.finditer(name):
        groups = ["".join(str(int(d)) for d in group) for group in re.split(_SEPARATOR, run.group())]
        candidates = {"".join(groups[i:j]) for i in range(len(groups)) for j in range(i + 1, len(groups) + 1)}
        if any(_is_padded_bsn(group) for group in groups) or any(
                (len(c) == 8 and not _is_date(c)) or (len(c) == 9 and _is_bsn(c)) for c in candidates):
            return True
    return False


def shown_path(path: str | Path) -> str:
    """A file's path as logs, errors, summaries, manifests and documents show it: a name that holds
    what looks like a plaintext identifier (:func:`identifier_in_name`) is shown as its length and
    the first :data:`SHOWN_NAME_HASH_CHARS` hex digits of the sha256 of the name, so that two such
    files can be told apart and the analyst can find the file (``printf %s NAME | sha256sum``); the
    folder is kept. Only a few hex digits: the sha256 of a name made from a known pattern and a BSN
    could otherwise be searched for the BSN. A shown path is shown unchanged.

    >>> shown_path(Path("in/Jansen 123456782 x.csv")), shown_path("in/loon_2024.csv")
    ('in/(22 chars, sha256 30fc)', 'in/loon_2024.csv')
    """
    path = Path(path)
    if not identifier_in_name(path.name):
        return str(path)
    digest = hashlib.sha256(path.name.encode("utf-8", "surrogateescape")).hexdigest()[:SHOWN_NAME_HASH_CHARS]
    return str(path.with_name(f"({len(path.name)} chars, sha256 {digest})"))
