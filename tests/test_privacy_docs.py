"""docs/privacy.md says what the code does: the legal ground and the sources of every run
purpose, and the name hardening a release ships with."""

from __future__ import annotations

import re
from pathlib import Path

from mhgraph.pseudonymise import NAME_HARDENING
from mhgraph.purpose import RUN_PURPOSES

PRIVACY = Path(__file__).resolve().parents[1] / "docs" / "privacy.md"


def _section(title: str) -> str:
    text = PRIVACY.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_the_legal_ground_table_is_the_code_s_run_purposes():
    rows = [line.split(" | ") for line in _section("5. Legal ground per run purpose").splitlines()
            if line.startswith("| `")]
    documented = {purpose.strip("| `"): (ground, frozenset(re.findall(r"`(\w+)`", sources)))
                  for purpose, ground, sources in rows}
    assert documented == RUN_PURPOSES


def test_the_documented_default_hardening_is_the_shipped_one():
    stated = re.findall(r"`mhgraph\.pseudonymise\.NAME_HARDENING = \"(\w+)\"`", _section("7. How well"))
    assert stated == [NAME_HARDENING]
