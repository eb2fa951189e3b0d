"""Offline check of the Cypher in mhgraph/queries with Neo4j's own parser.

No Neo4j server is involved: `tools/cypher-check/check.mjs` runs the parser and semantic
analysis of `@neo4j-cypher/language-support` (pinned in tools/cypher-check/package.json) under
node. These tests say that the statements are valid Cypher 5 and Cypher 25 calling existing
procedures and functions, not that they do the right thing on a server (tests/test_neo4j_store.py
does that, live, when MHGRAPH_NEO4J_URI is set).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKER = ROOT / "tools" / "cypher-check"
QUERIES = ROOT / "mhgraph" / "queries"
PARSER_PACKAGE = CHECKER / "node_modules" / "@neo4j-cypher" / "language-support"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the Cypher parser cannot run")
    if not (PARSER_PACKAGE / "package.json").is_file():
        pytest.skip("the Cypher parser is not installed: run `npm ci` in tools/cypher-check")
    return node


def _check(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_node(), str(CHECKER / "check.mjs"), *map(str, paths)], capture_output=True,
                          text=True, timeout=120)


def _findings(output: str) -> dict[str, list[tuple[int, int, str]]]:
    """file name -> [(line, column, message)] from the checker's FILE:LINE:COLUMN: error: lines."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    for line in output.splitlines():
        match = re.match(r"^(.+?):(\d+):(\d+): error: (.*)$", line)
        if match:
            found.setdefault(Path(match[1]).name, []).append((int(match[2]), int(match[3]), match[4]))
    return found


def test_the_parser_version_is_pinned_exactly():
    wanted = json.loads((CHECKER / "package.json").read_text())["dependencies"]["@neo4j-cypher/language-support"]
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?", wanted), f"not an exact version: {wanted}"
    lock = json.loads((CHECKER / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@neo4j-cypher/language-support"]["version"] == wanted
    if (PARSER_PACKAGE / "package.json").is_file():
        assert json.loads((PARSER_PACKAGE / "package.json").read_text())["version"] == wanted


def test_every_shipped_statement_passes_the_parser():
    files = sorted(QUERIES.glob("*.cypher"))
    assert len(files) >= 30
    result = _check(QUERIES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(files)} file(s) checked with Cypher 5 and Cypher 25, 0 with errors" in result.stdout


def _line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


# file name: (original text, broken text) -> (broken text, expected line, expected message part),
# all made from indicator_straw_director.cypher
BROKEN = {
    "syntax.cypher": lambda s: (s.replace("company, coalesce(", "company,, coalesce("),
                                _line_of(s, "company, coalesce("), "Invalid input ','"),
    "undefined_variable.cypher": lambda s: (s.replace("RETURN person.entity_id", "RETURN persn.entity_id"),
                                            _line_of(s, "RETURN person"), "Variable `persn` not defined"),
    "unknown_function.cypher": lambda s: (s.replace("date(toString(office_end))", "dait(toString(office_end))"),
                                          _line_of(s, "date(toString(office_end))"),
                                          "Function dait is not present"),
    "undeclared_parameter.cypher": lambda s: (s.replace("brief >= $min_short", "brief >= $min_shortt"),
                                              _line_of(s, "brief >= $min_short"),
                                              "Parameter $min_shortt is used but not declared"),
    "unused_parameter.cypher": lambda s: (s.replace("//   $max_days", "//   $spare  not used\n//   $max_days"),
                                          _line_of(s, "// Parameters:"),
                                          "parameter $spare is declared in the header but not used"),
    "two_statements.cypher": lambda s: (s + ";\nRETURN 1\n", 1, "expected exactly one statement, found 2"),
    "no_header.cypher": lambda s: (s.replace("// Parameters:", "// Arguments:"), 1, 'no "// Parameters:" line'),
}


def test_broken_statements_are_rejected_with_file_line_and_column(tmp_path):
    original = (QUERIES / "indicator_straw_director.cypher").read_text()
    (tmp_path / "intact.cypher").write_text(original)
    expected = {}
    for name, breaks in BROKEN.items():
        broken, line, message = breaks(original)
        assert broken != original, name
        (tmp_path / name).write_text(broken)
        expected[name] = (line, message)
    # A wrong procedure output is caught too: the package ships the GDS procedure signatures.
    stream = (QUERIES / "gds_leiden_stream.cypher").read_text()
    (tmp_path / "unknown_yield.cypher").write_text(stream.replace("YIELD nodeId, communityId",
                                                                  "YIELD nodeId, communityId, level"))

    result = _check(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    findings = _findings(result.stdout)
    assert "intact.cypher" not in findings
    for name, (line, message) in expected.items():
        assert any(found_line == line and message in text for found_line, _, text in findings.get(name, [])), \
            (name, line, findings.get(name))
    assert any("Unknown procedure output: `level`" in text for _, _, text in findings["unknown_yield.cypher"])
    assert f"{len(BROKEN) + 2} file(s) checked" in result.stdout
    assert f"{len(BROKEN) + 1} with errors" in result.stdout


def test_the_checker_refuses_to_check_nothing(tmp_path):
    result = _check(tmp_path)
    assert result.returncode == 2
    assert "no .cypher file" in result.stderr
