import polars as pl
import pytest
from resolve_helpers import frame, person_row, population

from mhgraph.errors import InputError
from mhgraph.resolve import explain_match, resolve


@pytest.fixture(scope="module")
def run():
    people, _ = population(80, copies=2, seed=5, bsn_share=0.0)
    extra = frame([person_row("x/r1/werknemer", "anna maria", "de vries", "1980-05-02"),
                   person_row("x/r2/werknemer", "anna maria", "de vries", "1980-05-02"),
                   person_row("x/r3/werknemer", None, "de vries", "1980-05-02")])
    mentions = pl.concat([people, extra], how="diagonal").with_columns(
        record_id=pl.col("mention_id").str.split("/").list.get(1))
    return mentions, resolve(mentions, None)


def _levels(explanation) -> dict[str, str]:
    return dict(explanation.fields.select("field", "level").iter_rows())


def test_a_comparison_left_out_for_a_pair_is_told_from_a_field_a_side_lacks(run):
    mentions, resolved = run
    # both hold every name: all names count only where the fields disagree, initials only
    # where one name is short
    agreeing = explain_match("x/r1/werknemer", "x/r2/werknemer", resolved, mentions)
    assert _levels(agreeing)["all_names_dice"] == "not used"
    assert _levels(agreeing)["given_name_initials"] == "not used"
    assert _levels(agreeing)["given_name_dice"] == ">= 1.0"
    text = str(agreeing)
    assert "all_names_dice                  -  not used" in text and "(not used: both mentions hold" in text
    # one side has no given name: that is missing
    lacking = explain_match("x/r1/werknemer", "x/r3/werknemer", resolved, mentions)
    assert _levels(lacking)["given_name_dice"] == "missing"
    assert _levels(lacking)["given_name_initials"] == "missing"
    assert _levels(lacking)["birth_place_dice"] == "missing"


def test_an_unknown_mention_is_answered_with_the_form_of_a_mention_id_and_an_example(run):
    mentions, resolved = run
    # a bare record id: its mentions are offered
    with pytest.raises(InputError, match=r"source/record_id/role, such as 'x/r2/werknemer'$"):
        explain_match("r2", "x/r1/werknemer", resolved, mentions)
    with pytest.raises(InputError, match=r"'nothing' is not in .* such as 'src0/r00000/werknemer', "):
        explain_match("x/r1/werknemer", "nothing", resolved, mentions)
    # a full id with a role the record does not have: that record's own mentions are offered
    with pytest.raises(InputError, match=r"'x/r2/werkgever' is not in .* such as 'x/r2/werknemer'$"):
        explain_match("x/r1/werknemer", "x/r2/werkgever", resolved, mentions)


def test_a_mention_compared_with_itself_is_refused(run):
    mentions, resolved = run
    with pytest.raises(InputError, match=r"the two mentions are the same \('x/r1/werknemer'\)"):
        explain_match("x/r1/werknemer", "x/r1/werknemer", resolved, mentions)


def test_a_pair_between_two_bsns_is_told_as_scored_but_not_written(caplog):
    # namesakes born the same day: blocking proposes them, the run scores them and lets them go
    mentions = frame([person_row("a/1/p", "jan", "bakker", "1980-01-01", bsn="111111111", v_number="901"),
                      person_row("b/1/p", "jan", "bakker", "1980-01-01", bsn="222222222", v_number="902")])
    with caplog.at_level("INFO", logger="mhgraph.resolve"):
        resolved = resolve(mentions, None)
    assert "person: 1 pairs between different values of bsn, v_number scored" in caplog.text
    assert resolved.matches.height == 0
    explanation = explain_match("b/1/p", "a/1/p", resolved, mentions)
    assert not explanation.compared and explanation.conflicting == ("bsn", "v_number")
    text = str(explanation)
    assert ("compared in the run: not recorded — the pair holds two different bsn and v_number values; such pairs "
            "are never merged and not written to matches; when a blocking rule proposes them the model learns from "
            "them (or from a sample of them)") in text
    assert "no blocking rule proposed" not in text and "proposed by" not in text
    assert ", computed now (threshold 0.5)" in text
    assert "decision: conflicting_identifier — different bsn, v_number" in text
