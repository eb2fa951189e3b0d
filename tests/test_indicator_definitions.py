"""definitions.toml against the code, the document and the Cypher forms of the rules."""

import inspect
import re
import shutil

import pytest

from mhgraph import neo4j_store
from mhgraph.indicators import DEFINITIONS, INDICATORS, RANKING, compute_indicators, indicator_registry
from mhgraph.indicators.document import DOCUMENT, MARKER, update_document
from mhgraph.indicators.registry import DEFINITIONS_PATH, DefinitionError, _load, render_reason, rule
from mhgraph.rank import rank_clusters

QUERIES = DEFINITIONS_PATH.parents[1] / "queries"


def test_the_document_is_written_from_the_definitions(tmp_path):
    copy = tmp_path / "indicators.md"
    shutil.copy(DOCUMENT, copy)
    assert not update_document(copy), "docs/indicators.md is stale: run python -m mhgraph.indicators.document"
    text = DOCUMENT.read_text(encoding="utf-8")
    assert text.count(MARKER) == 1
    for spec in INDICATORS.values():
        assert f"### `{spec.name}` v{spec.version}" in text
        for name, threshold in spec.threshold_docs.items():
            assert f"`{name}` = " in text and threshold.means in text
    for name, value in RANKING.items():
        assert f"| `{name}` | {value} |" in text


def test_every_rule_takes_its_thresholds_from_the_definitions():
    registry = indicator_registry()
    defined = [n for n, body in DEFINITIONS.items() if isinstance(body, dict) and "reason" in body]
    assert registry["name"].to_list() == defined == list(INDICATORS) and len(defined) >= 13
    for spec in INDICATORS.values():
        signature = inspect.signature(spec.function)
        assert list(signature.parameters)[:3] == ["nodes", "edges", "communities"]
        keyword = {n: p.default for n, p in signature.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
        assert {n: keyword[n] for n in spec.thresholds} == spec.thresholds
        assert set(keyword) - set(spec.thresholds) == set(spec.options) <= {"allowed_purposes", "identity_conflicts", "shared",
                                                                               "buckets", "between_levels"}
        assert spec.family in DEFINITIONS["families"] and spec.weight > 0 and spec.partners and spec.description
        assert spec.reason.endswith(".") and spec.reason_fields, spec.name
        for key in ("pattern", "why", "look_alikes", "who_can_act"):
            assert spec.texts[key].strip(), (spec.name, key)


def test_a_rule_the_definitions_lack_or_a_malformed_file_is_refused(tmp_path):
    with pytest.raises(DefinitionError, match="has no rule"):
        rule("nationality_of_the_worker")
    text = DEFINITIONS_PATH.read_text(encoding="utf-8")
    bad = tmp_path / "definitions.toml"
    bad.write_text(text.replace('cypher = "indicator_crowded_address"\n', ""), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"\[crowded_address\] needs either `cypher`"):
        _load(bad)
    bad.write_text(text.replace('family = "pay"', 'family = "nationality"'), encoding="utf-8")
    with pytest.raises(DefinitionError, match="family 'nationality' is not one of"):
        _load(bad)
    bad.write_text(text.replace("[straw_director]\n", "[straw_director]\nthreshold = 3\n"), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"unknown key\(s\) \['threshold'\]"):
        _load(bad)
    bad.write_text(text.replace('past = "min_employees"', 'past = "min_persons"'), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"\[wage_below_minimum\] magnitude needs"):
        _load(bad)


def _return_columns(text: str) -> set[str]:
    clause = text[text.rindex("RETURN") + len("RETURN"):].split("ORDER BY")[0]
    return {item.split(" AS ")[-1].strip() for item in clause.replace("\n", " ").split(",")}


def test_cypher_forms_take_their_version_parameters_and_reason_from_the_definitions():
    with_cypher = {name: spec for name, spec in INDICATORS.items() if spec.cypher}
    assert set(neo4j_store.INDICATORS) == set(with_cypher) >= {"crowded_address", "straw_director"}
    for name, spec in INDICATORS.items():
        statement_file = QUERIES / f"indicator_{name}.cypher"
        if not spec.cypher:
            assert not statement_file.exists(), f"{name} has a Cypher file but definitions.toml says it has none"
            assert len(spec.no_cypher.split()) > 8  # a reason, not a placeholder
            continue
        st = neo4j_store.statement(spec.cypher)
        assert re.match(rf"Indicator {name}, version {spec.version}:", st.summary), st.summary
        assert set(st.parameters) == {"run_id", *spec.thresholds}, name
        returned = _return_columns(st.text)
        assert {"focus_entity", "cluster_id", "evidence", "partners", *spec.reason_fields} <= returned, name
        # the store writes the reason with the same template as the embedded rule
        facts = {field: 7 for field in spec.reason_fields}
        assert neo4j_store.INDICATORS[name][1](facts, spec.thresholds) == render_reason(name, facts, spec.thresholds)


def test_the_ranking_takes_its_parameters_from_the_definitions():
    defaults = {n: p.default for n, p in inspect.signature(rank_clusters).parameters.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY}
    # the weak share is applied where the hits are graded, before the ranking counts them
    defaults["weak_share"] = inspect.signature(compute_indicators).parameters["weak_share"].default
    assert defaults == RANKING and set(RANKING) == {"repeat_decay", "corroboration_bonus", "flag_score", "weak_share",
                                                  "partner_never_lifts"}
