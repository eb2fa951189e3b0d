import polars as pl
from resolve_helpers import frame, person_row, population

from mhgraph.export.content import resolution_lines
from mhgraph.resolve import resolution_diagnostics, resolve
from mhgraph.resolve.diagnostics import MIN_MERGED_PAIRS


def _person_line(mentions: pl.DataFrame, lang: str = "en") -> str:
    diagnostics = resolution_diagnostics(resolve(mentions, None), mentions).to_dicts()
    return next(line for line in resolution_lines(diagnostics, lang) if "person" in line)


def test_one_value_carrying_the_merges_by_identifier_is_named_only_once_they_are_enough_to_tell():
    people, _ = population(60, copies=2, seed=4, bsn_share=0.0)
    # one BSN on two records: a single merge by identifier, all of them carried by that value
    pair = frame([person_row("x/r1/werknemer", "anna", "de vries", "1980-05-02", bsn="111222333"),
                  person_row("x/r2/werknemer", "anna", "de vries", "1980-05-02", bsn="111222333")])
    assert "carries" not in _person_line(pl.concat([people, pair], how="diagonal"))
    # a placeholder BSN on as many records as the collapse check counts merges before it speaks
    placeholder = frame([person_row(f"y/r{i}/werknemer", "jan", f"naam{i}", "1970-01-01", bsn="999999990")
                         for i in range(MIN_MERGED_PAIRS + 1)])
    line = _person_line(pl.concat([people, placeholder], how="diagonal"))
    assert f"one bsn value carries 100% of the merges by identifier ({MIN_MERGED_PAIRS + 1} mentions)" in line


def test_one_merged_pair_and_one_entity_are_counted_in_the_singular():
    row = {"entity_type": "person", "mentions": 2, "entities": 1, "largest_entity": 2, "merged_pairs": 1,
           "merge_ratio": 1.0}
    assert resolution_lines([row], "en")[0].startswith(
        "entity resolution, persons: 2 mentions → 1 entity; largest 2 mentions; 1 pair of identity groups merged")
    assert "; 1 paar identiteitsgroepen samengevoegd" in resolution_lines([row], "nl")[0]
    assert "; 2 paren identiteitsgroepen samengevoegd" in resolution_lines([{**row, "merged_pairs": 2}], "nl")[0]


def test_identity_conflicts_are_counted_in_the_singular_for_one():
    row = {"entity_type": "person", "mentions": 4, "entities": 3, "largest_entity": 2, "identity_conflicts": 1}
    assert resolution_lines([row], "en")[0].endswith("; 1 identity conflict")
    assert resolution_lines([row], "nl")[0].endswith("; 1 identiteitsconflict")
    assert resolution_lines([{**row, "identity_conflicts": 2}], "en")[0].endswith("; 2 identity conflicts")
    assert resolution_lines([{**row, "identity_conflicts": 2}], "nl")[0].endswith("; 2 identiteitsconflicten")


def test_the_identifier_share_is_named_at_exactly_the_merges_the_collapse_check_asks_for():
    """55/100 and the like divide back to 99.999...: still the whole 100 merges."""
    for carried in (55, 56, 68):
        row = {"entity_type": "person", "mentions": 500, "entities": 400, "largest_entity": 70,
               "top_identifier": "bsn", "top_identifier_share": carried / MIN_MERGED_PAIRS,
               "top_identifier_mentions": carried + 1}
        assert "one bsn value carries" in resolution_lines([row], "en")[0], carried
        fewer = {**row, "top_identifier_share": carried / (MIN_MERGED_PAIRS - 1)}
        assert "carries" not in resolution_lines([fewer], "en")[0], carried
