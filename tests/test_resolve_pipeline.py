import copy
import errno
import gc
import importlib
import json
import os
import pickle
import platform
import shutil
import subprocess
import weakref
import sys
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from conftest import SAMPLE
from resolve_helpers import KEY, address_row, frame, person_row, population

from mhgraph.cli import main
from mhgraph.crypto import bloom_encode, keyed_hash
from mhgraph.errors import InputError
from mhgraph.resolve import (
    Resolved,
    default_settings,
    entity_id,
    explain_match,
    load_overrides,
    load_run,
    load_settings,
    pairwise_scores,
    resolution_diagnostics,
    resolve,
    resolve_baseline,
    save_run,
)
from mhgraph.resolve.cluster import RESOLUTION_SCHEMA
from mhgraph.resolve.pipeline import (_READERS, MATCHES_SCHEMA, _group_number_dtype, _in_order, _pair_order,
                                      _joined_a_column_at_a_time, _unread_target)
from mhgraph.resolve.score import FellegiSunter, levels_of, scorer_to_dict
from mhgraph.run_folder import RunFolder
from mhgraph.stage_commands import resolve_run


def _truth(truth: dict) -> pl.DataFrame:
    return pl.DataFrame({"mention_id": list(truth), "entity_id": [str(v) for v in truth.values()]})


@pytest.fixture(scope="module")
def people():
    return population(150, copies=3, seed=8, bsn_share=0.5)


@pytest.fixture(scope="module")
def resolved(people):
    return resolve(people[0], None)


def _two_people_without_bsn(mentions: pl.DataFrame, truth: dict) -> tuple[str, str]:
    """First mentions of two different persons none of whose mentions carries a BSN (a
    must-link between them cannot be refused for conflicting identifiers)."""
    table = mentions.select("mention_id", "bsn").with_columns(
        pl.col("mention_id").replace_strict(truth, return_dtype=pl.Int64).alias("person"))
    free = table.group_by("person").agg(pl.col("bsn").null_count() == pl.len(), pl.col("mention_id").min())
    picked = free.filter(pl.col("bsn")).sort("person")["mention_id"].to_list()
    return picked[0], picked[1]


def _entity_of(resolved_run, mention):
    return resolved_run.resolution.filter(pl.col("mention_id") == mention)["entity_id"][0]


def test_every_mention_is_resolved_once_and_beats_the_exact_key_baseline(people, resolved):
    mentions, truth = people
    assert resolved.resolution["mention_id"].sort().equals(mentions["mention_id"].sort())
    ours = pairwise_scores(resolved.resolution, _truth(truth))
    baseline = pairwise_scores(resolve_baseline(mentions), _truth(truth))
    assert ours["f1"] > baseline["f1"]
    assert ours["f1"] > 0.9
    assert set(resolved.matches["decision"].unique()) <= {"match", "non_match", "conflicting_identifier"}
    assert (resolved.matches["mention_a"] < resolved.matches["mention_b"]).all()


def test_entity_ids_are_stable_across_runs_and_row_orders(people, resolved):
    mentions, _ = people
    again = resolve(mentions.sample(fraction=1.0, shuffle=True, seed=3).select(reversed(mentions.columns)), None)
    assert again.resolution.equals(resolved.resolution)
    for eid, members in resolved.resolution.group_by("entity_id").agg(pl.col("mention_id").min()).iter_rows():
        assert eid == entity_id("P", members)


def test_overrides_are_honoured_by_the_next_run(people, resolved, tmp_path):
    mentions, truth = people
    matched = resolved.matches.filter((pl.col("decision") == "match") & (pl.col("blocked_by") != "bsn")).row(0, named=True)
    stranger_a, stranger_b = _two_people_without_bsn(mentions, truth)
    assert _entity_of(resolved, stranger_a) != _entity_of(resolved, stranger_b)
    overrides = tmp_path / "overrides.csv"
    overrides.write_text(
        "mention_a,mention_b,decision,reason\n"
        f"{matched['mention_a']},{matched['mention_b']},cannot_link,father and son\n"
        f"{stranger_a},{stranger_b},must_link,case file 2024-117\n"
    )
    after = resolve(mentions, None, overrides=overrides)
    assert _entity_of(after, matched["mention_a"]) != _entity_of(after, matched["mention_b"])
    assert _entity_of(after, stranger_a) == _entity_of(after, stranger_b)
    decisions = dict(zip(zip(after.matches["mention_a"], after.matches["mention_b"]), after.matches["decision"]))
    assert decisions[(matched["mention_a"], matched["mention_b"])] == "cannot_link"
    assert decisions[tuple(sorted((stranger_a, stranger_b)))] == "must_link"


def test_a_must_link_never_merges_two_bsns():
    mentions = frame([person_row("a/1/p", "jan", "bakker", "1980-01-01", bsn="111111111"),
                      person_row("b/1/p", "jan", "bakker", "1980-01-01", bsn="222222222")])
    after = resolve(mentions, None, overrides=[{"mention_a": "a/1/p", "mention_b": "b/1/p", "decision": "must_link",
                                               "reason": "analyst thinks so"}])
    assert after.resolution["entity_id"].n_unique() == 2
    row = after.matches.row(0, named=True)
    assert row["decision"] == "conflicting_identifier" and "refused" in row["reason"]


def test_override_files_are_checked(tmp_path):
    toml = tmp_path / "overrides.toml"
    toml.write_text('[[cannot_link]]\na = "x/2/p"\nb = "x/1/p"\nreason = "twins"\n')
    assert load_overrides(toml).select("mention_a", "mention_b", "decision").rows() == [("x/1/p", "x/2/p", "cannot_link")]
    bad = tmp_path / "bad.csv"
    bad.write_text("mention_a,mention_b,decision,reason\nx/1/p,x/2/p,merge,because\n")
    with pytest.raises(InputError, match="row 1.*column 'decision'"):
        load_overrides(bad)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("mention_a,mention_b,decision,reason\nx/1/p,nope,must_link,because\n")
    mentions = frame([person_row("x/1/p", "jan", "bakker", "1980-01-01")])
    with pytest.raises(InputError, match="unknown.csv.*row 1.*'nope' is not in the mentions"):
        resolve(mentions, None, overrides=unknown)


def _company(mention_id, kvk=None, wage_tax=None, name=None):
    return {"mention_id": mention_id, "entity_type": "company",
            "kvk_number": keyed_hash(KEY, "kvk_number", kvk), "wage_tax_number": keyed_hash(KEY, "wage_tax_number", wage_tax),
            "name_bf": bloom_encode(KEY, "company_name", name)}


def test_companies_link_by_numbers_never_across_two_kvk_numbers_and_by_name_only_with_support():
    mentions = frame([
        _company("kvk/1/bedrijf", kvk="11111111", name="schoonmaak de ster"),
        _company("bd/1/werkgever", kvk="11111111", wage_tax="L01", name="schoonmaak de ster"),
        _company("bd/2/werkgever", wage_tax="L01", name="schoonmaak de ster"),
        _company("kvk/2/bedrijf", kvk="22222222", wage_tax="L01", name="schoonmaak de ster"),
        _company("gem/1/houder", name="schoonmaak de ster"),
        _company("gem/2/houder", name="schoonmaak de ster"),
        address_row("kvk/1/vestiging", "1234AB", "12"),
        address_row("gem/1/inrichting", "1234 ab", "12"),
    ])
    relations = pl.DataFrame({"from_mention": ["kvk/1/bedrijf", "gem/1/houder"],
                              "to_mention": ["kvk/1/vestiging", "gem/1/inrichting"], "type": ["LOCATED_AT"] * 2})
    result = resolve(mentions, relations)
    entity = dict(zip(result.resolution["mention_id"], result.resolution["entity_id"]))
    assert entity["kvk/1/bedrijf"] == entity["bd/1/werkgever"] == entity["bd/2/werkgever"]
    assert entity["kvk/2/bedrijf"] != entity["kvk/1/bedrijf"]  # shares the wage-tax number, not the KvK number
    assert entity["gem/1/houder"] == entity["kvk/1/bedrijf"]  # similar name and the same resolved address
    assert entity["gem/2/houder"] != entity["kvk/1/bedrijf"]  # similar name alone is not enough
    assert entity["kvk/1/vestiging"] == entity["gem/1/inrichting"]


def test_the_building_key_alone_does_not_merge_addresses():
    mentions = frame([address_row("a/1/adres", "1234AB", "12", "A"), address_row("b/1/adres", "1234AB", "12", "B"),
                      address_row("c/1/adres", "1234AB", "12-a")])
    entity = dict(resolve(mentions, None).resolution.select("mention_id", "entity_id").iter_rows())
    assert entity["a/1/adres"] == entity["c/1/adres"] != entity["b/1/adres"]


def with_purpose(mentions: pl.DataFrame) -> pl.DataFrame:
    """Mentions as a run folder holds them: with the source and purpose that resolve and
    explain-match check against the run purpose."""
    return mentions.with_columns(source=pl.lit("test"), purpose=pl.lit("fiscal_supervision"))


def test_explain_match_names_the_fields_and_the_score(people, resolved, tmp_path, capsys):
    mentions, _ = people
    matched = resolved.matches.filter(pl.col("decision") == "match").row(0, named=True)
    explanation = explain_match(matched["mention_a"], matched["mention_b"], resolved, mentions)
    assert explanation.same_entity and explanation.compared
    text = str(explanation)
    for field in ("given_name_dice", "family_name_dice", "birth_date_dice", "match_key_1_agree", "score", "decision: match"):
        assert field in text
    assert explanation.fields["weight_bits"].null_count() == 0

    run = tmp_path / "run"
    save_run(resolved, run)
    with_purpose(mentions).write_parquet(run / "tables" / "mentions.parquet")
    loaded = load_run(run)
    assert loaded.resolution.equals(resolved.resolution)
    assert "FellegiSunter" in (run / "resolve" / "model.json").read_text() or "LogisticScorer" in (
        run / "resolve" / "model.json").read_text()
    # a pair that was never compared is scored with the saved model
    compared = set(zip(resolved.matches["mention_a"], resolved.matches["mention_b"]))
    ids = mentions["mention_id"].sort().to_list()
    a, b = next((x, y) for x in ids for y in ids if x < y and (x, y) not in compared)
    assert main(["explain-match", str(run), a, b]) == 0
    out = capsys.readouterr().out
    assert "compared in the run: no" in out and "score" in out and "family_name_dice" in out
    assert main(["explain-match", str(run), a, "not/a/mention"]) == 2


def test_settings_load_from_toml_and_errors_name_the_file(tmp_path):
    settings = default_settings()
    assert settings.types["person"].scoring.threshold == 0.5
    bad = tmp_path / "bad.toml"
    bad.write_text('order = ["person"]\n[types.person]\nletter = "P"\n[types.person.scoring]\nthreshhold = 0.7\n')
    with pytest.raises(InputError, match="bad.toml.*threshhold"):
        load_settings(bad)
    stricter = tmp_path / "stricter.toml"
    stricter.write_text(default_settings_text().replace("threshold = 0.5\nmin_labelled_pairs", "threshold = 0.8\nmin_labelled_pairs"))
    assert load_settings(stricter).types["person"].scoring.threshold == 0.8
    # a floor of the whole m (share 1) would make every level of a name weigh nothing
    floor = tmp_path / "floor.toml"
    floor.write_text(default_settings_text().replace("unrelated_share = 0.05", "unrelated_share = 1.0"))
    with pytest.raises(InputError, match="floor.toml.*given_name_dice: unrelated_share must be at least 0 and below 1"):
        load_settings(floor)


def test_settings_refuse_a_comparison_named_as_a_matches_column_and_more_level_patterns_than_int64_numbers():
    from mhgraph.resolve.settings import settings_from_dict
    for name in ("override", "decision", "together"):
        raw = default_settings().to_dict()
        raw["types"]["person"]["comparisons"][-1]["name"] = name
        with pytest.raises(InputError, match=f"types.person.comparisons.*{name}: this name is a column of the matches"):
            settings_from_dict(raw)
    # 19 comparisons of 20 levels: 22**19 patterns, past what one int64 per pair can number
    raw = default_settings().to_dict()
    for comparison in raw["types"]["person"]["comparisons"]:
        comparison["levels"] = [1.0 - i / 20 for i in range(20)]
    with pytest.raises(InputError, match=rf"types.person.comparisons\] 19 comparisons .* {22**19} patterns"):
        settings_from_dict(raw)
    raw["types"]["person"]["scoring"]["method"] = "fellegi_sunter"  # which numbers no patterns
    assert len(settings_from_dict(raw).types["person"].comparisons) == 19


def test_settings_refuse_a_comparison_named_as_a_key_agreement_and_a_scored_label_key(tmp_path):
    # every identity, conflict and label key adds its agreement column (match_key_1 ->
    # match_key_1_agree): the shipped exact comparison of that name would clash with it
    shipped = 'identity_keys = ["bsn", "v_number"]'
    clash = tmp_path / "clash.toml"
    clash.write_text(default_settings_text().replace(shipped, 'identity_keys = ["bsn", "v_number", "match_key_1"]'))
    with pytest.raises(InputError, match=r"clash.toml.*\[types.person.comparisons\] match_key_1_agree: this name is "
                                         r"the agreement column of the key 'match_key_1' \(identity_keys\)"):
        load_settings(clash)
    from mhgraph.resolve.settings import settings_from_dict
    for setting in ("conflict_keys", "label_keys"):
        raw = default_settings().to_dict()
        raw["types"]["person"][setting] = [*raw["types"]["person"][setting], "match_key_1"]
        with pytest.raises(InputError, match=rf"match_key_1_agree: .* key 'match_key_1' \({setting}\)"):
            settings_from_dict(raw)
    # a label key is never scored, whatever the comparison on its column is called
    raw = default_settings().to_dict()
    raw["types"]["person"]["label_keys"] = ["match_key_1"]
    raw["types"]["person"]["comparisons"] = [{**c, "name": "match_key_1_same"} if c["name"] == "match_key_1_agree" else c
                                             for c in raw["types"]["person"]["comparisons"]]
    with pytest.raises(InputError, match="types.person.comparisons. match_key_1_same: compares the label key 'match_key_1'"):
        settings_from_dict(raw)
    raw["types"]["person"]["label_keys"] = ["bsn"]  # the same comparison beside another label key loads
    assert "match_key_1_same" in {c.name for c in settings_from_dict(raw).types["person"].comparisons}


def default_settings_text() -> str:
    from mhgraph.resolve.settings import DEFAULT_SETTINGS

    return DEFAULT_SETTINGS.read_text()


def test_settings_naming_a_column_the_data_lacks_fail_naming_file_section_and_column(people, tmp_path, capsys):
    settings_file = tmp_path / "mine.toml"
    settings_file.write_text(default_settings_text() + (
        '\n[[types.person.blocking]]\nname = "postcode"\ncolumns = ["postcode_plain"]\n'))
    with pytest.raises(InputError) as failure:
        resolve(people[0], None, load_settings(settings_file))
    message = str(failure.value)
    assert "mine.toml" in message and "[types.person.blocking] postcode" in message and "'postcode_plain'" in message
    # the same through the command: one line, status 2, no traceback
    run = tmp_path / "run" / "tables"
    run.mkdir(parents=True)
    with_purpose(people[0]).write_parquet(run / "mentions.parquet")
    assert main(["resolve", str(run.parent), "--settings", str(settings_file)]) == 2
    assert "postcode_plain" in capsys.readouterr().err


def test_the_refusal_of_a_missing_column_lists_every_column_the_resolver_can_read(people, tmp_path):
    # mhgraph run hands the resolver only the columns its settings read: a column of the ingest
    # tables left out of that selection still exists and is listed
    settings_file = tmp_path / "mine.toml"
    settings_file.write_text(default_settings_text().replace('identity_keys = ["bsn", "v_number"]',
                                                             'identity_keys = ["bsn_sleutel", "v_number"]'))
    selected = people[0].lazy().select("mention_id", "entity_type", "partner", "given_name_bf")
    with pytest.raises(InputError, match="'bsn_sleutel'") as failure:
        resolve(selected, None, load_settings(settings_file))
    listed = str(failure.value).split("it has: ")[1].rstrip(")").split(", ")
    assert "address_key" in listed and "birth_date_bf" in listed and "bsn_sleutel" not in listed


def test_persons_without_any_date_of_birth_are_resolved_on_their_names_with_a_warning(people, caplog):
    mentions, truth = people
    no_dates = mentions.with_columns(pl.lit(None, dtype=pl.String).alias(c)
                                     for c in ("birth_date_bf", "match_key_1", "match_key_2", "bsn"))
    with caplog.at_level("WARNING", logger="mhgraph.resolve"):
        resolved = resolve(no_dates, None)
    assert any("no mention has a date of birth" in r.getMessage() for r in caplog.records)
    scores = pairwise_scores(resolved.resolution, _truth(truth))
    assert resolved.resolution.height == mentions.height and scores["true_positives"] > 0


def test_duplicate_mention_ids_are_refused_with_the_row():
    mentions = frame([person_row("a/1/p", "jan", "bakker", "1980-01-01"), person_row("a/1/p", "jan", "bakker", "1980-01-01")])
    with pytest.raises(InputError, match="row 2.*mention_id"):
        resolve(mentions, None)


def test_the_resolve_command_writes_the_tables_and_honours_an_overrides_file(people, tmp_path, capsys):
    mentions, truth = people
    run = tmp_path / "run"
    (run / "tables").mkdir(parents=True)
    with_purpose(mentions).write_parquet(run / "tables" / "mentions.parquet")
    first, second = _two_people_without_bsn(mentions, truth)
    overrides = tmp_path / "overrides.toml"
    overrides.write_text(f'[[must_link]]\na = "{first}"\nb = "{second}"\nreason = "case file"\n')
    assert main(["resolve", str(run), "--overrides", str(overrides)]) == 0
    printed = capsys.readouterr().out
    assert "- entity resolution, persons: 450 mentions → " in printed and "\\" not in printed  # plain text
    resolution = pl.read_parquet(run / "tables" / "resolution.parquet")
    entity = dict(resolution.select("mention_id", "entity_id").iter_rows())
    assert entity[first] == entity[second]
    assert pl.read_parquet(run / "tables" / "matches.parquet").filter(pl.col("decision") == "must_link").height == 1
    assert main(["resolve", str(tmp_path / "nowhere")]) == 2


def test_a_resolve_reads_one_run_while_its_folder_or_its_link_is_replaced(people, tmp_path):
    mentions, _ = people
    runs = tmp_path / "runs"
    for name, table in (("first", mentions), ("untouched", mentions),
                        ("second", population(100, copies=2, seed=9, bsn_share=0.5)[0])):
        (runs / name / "tables").mkdir(parents=True)
        with_purpose(table).write_parquet(runs / name / "tables" / "mentions.parquet")
    latest = tmp_path / "latest"  # as a history's link to its latest run
    latest.symlink_to(runs / "first")
    refused = []

    def meanwhile():
        """Read by resolve as its overrides: after the mentions table is opened, before it is read."""
        with pytest.raises(InputError, match="another command is using this run folder") as caught:
            RunFolder(latest.resolve()).__enter__()  # a run into the folder
        refused.append(caught.value.file)
        # replaced all the same, as a run's commit replaces it, and the link moved on to another run
        shutil.copy(runs / "second" / "tables" / "mentions.parquet", runs / "replacement.parquet")
        os.replace(runs / "replacement.parquet", runs / "first" / "tables" / "mentions.parquet")
        (tmp_path / "latest.new").symlink_to(runs / "second")
        os.replace(tmp_path / "latest.new", latest)
        yield from ()

    resolve_run(latest, overrides=meanwhile())
    resolve_run(runs / "untouched")
    assert refused == [str(runs / "first")]
    for table in ("resolution", "matches"):
        read = [pl.read_parquet(runs / name / "tables" / f"{table}.parquet") for name in ("first", "untouched")]
        assert read[0].height > 0 and read[0].equals(read[1])
    manifests = [json.loads((runs / name / "resolve_manifest.json").read_text()) for name in ("first", "untouched")]
    assert [(m["counts"], m["resolution"], m["inputs"]) for m in manifests] == [
        (manifests[1]["counts"], manifests[1]["resolution"], manifests[1]["inputs"])] * 2
    assert sorted(p.name for p in (runs / "second").rglob("*")) == ["mentions.parquet", "tables"]  # nothing written


def test_an_overrides_file_saved_by_dutch_excel_is_read(tmp_path):
    from mhgraph.resolve.overrides import load_overrides

    path = tmp_path / "overrides.csv"
    path.write_bytes("mention_a;mention_b;decision;reason\r\nx/2/p;x/1/p;cannot_link;broers, zegt René\r\n"
                     .encode("cp1252"))
    assert load_overrides(path).select("mention_a", "mention_b", "decision", "reason").rows() == [
        ("x/1/p", "x/2/p", "cannot_link", "broers, zegt René")]


def test_the_exact_resolver_links_on_the_keys_of_the_settings_it_is_given(tmp_path):
    # settings that add the given-name filter to the person baseline keys: two mentions sharing
    # only that filter are one person under them and two under the shipped settings
    from mhgraph.pipeline import analyse
    from mhgraph.resolve.settings import DEFAULT_SETTINGS

    text = DEFAULT_SETTINGS.read_text().replace('baseline_keys = ["bsn", "v_number", "match_key_1"]',
                                                'baseline_keys = ["bsn", "v_number", "match_key_1", "given_name_bf"]')
    (tmp_path / "settings.toml").write_text(text)
    from mhgraph.ingest.schema import MENTION_SCHEMA, RELATION_SCHEMA, conform, empty

    mentions = conform(frame([person_row("a/1/p", "jan", "jansen", "1980-01-01"),
                              person_row("b/1/p", "jan", "pietersen", "1990-05-05")]).with_columns(
        purpose=pl.lit("fiscal_supervision"), record_id=pl.col("mention_id")), MENTION_SCHEMA)
    relations = empty(RELATION_SCHEMA)

    def persons(settings):
        tables, _ = analyse(mentions, relations, allowed_purposes=None, resolver="exact", resolve_settings=settings)
        return tables["resolution"]["entity_id"].n_unique()

    assert persons(None) == 2
    assert persons(load_settings(tmp_path / "settings.toml")) == 1


def test_a_scan_resolves_exactly_like_the_table_it_scans(sample_export, tmp_path):
    # resolve reads each entity type's columns from a scan when that type's turn comes: the
    # tables must not change by a byte, on data/sample as on a hand-made table with an override
    # and a type without settings
    out, result = sample_export
    tables = out / "tables"
    relations = pl.read_parquet(tables / "relations.parquet")
    from_table = resolve(pl.read_parquet(tables / "mentions.parquet"), relations)
    from_scan = resolve(pl.scan_parquet(tables / "mentions.parquet"), relations)
    for name in ("resolution", "matches", "identity_conflicts"):
        assert getattr(from_scan, name).equals(getattr(from_table, name)), name
    assert from_scan.resolution.height == pl.scan_parquet(tables / "mentions.parquet").select(pl.len()).collect().item()
    assert from_scan.matches.height > 0
    assert from_scan.resolution.equals(result.tables["resolution"])
    assert from_scan.matches.equals(result.tables["matches"])

    # the must-link a-c sorts before the blocked pair b-c: the matches table reorders its rows
    mentions = pl.concat([frame([person_row("a/1/p", "piet", "visser", "1975-03-04"),
                                 person_row("b/1/p", "jan", "bakker", "1980-01-01"),
                                 person_row("c/1/p", "jan", "bakker", "1980-01-02")]),
                          pl.DataFrame({"mention_id": ["d/1/x"], "entity_type": ["vehicle"]})], how="diagonal")
    mentions.write_parquet(tmp_path / "mentions.parquet")
    overrides = [{"mention_a": "a/1/p", "mention_b": "c/1/p", "decision": "must_link", "reason": "analyst"}]
    by_table = resolve(mentions, None, overrides=overrides)
    by_scan = resolve(pl.scan_parquet(tmp_path / "mentions.parquet"), None, overrides=overrides)
    assert by_scan.resolution.equals(by_table.resolution) and by_scan.matches.equals(by_table.matches)
    assert by_scan.matches.select("mention_a", "mention_b").rows() == [("a/1/p", "c/1/p"), ("b/1/p", "c/1/p")]
    assert by_scan.resolution.filter(pl.col("mention_id").is_in(["a/1/p", "c/1/p"]))["entity_id"].n_unique() == 1
    assert by_scan.resolution.height == 4


def test_group_numbers_take_four_bytes_while_they_fit_and_never_wrap_around():
    # the group number of every mention of one type, kept per proposed pair: a type of more than
    # 2,147,483,647 mentions would wrap around in four bytes, silently
    assert _group_number_dtype(1_000_000) is np.int32 and _group_number_dtype(0) is np.int32
    for n_mentions in (2**31 - 1, 2**31, 2**31 + 1, 5_000_000_000):
        highest = np.array([n_mentions - 1], dtype=np.int64)
        assert highest.astype(_group_number_dtype(n_mentions))[0] == n_mentions - 1, n_mentions
    assert _group_number_dtype(5_000_000_000) is np.int64


def test_expected_pairs_counted_while_resolving_are_those_the_matches_give(sample_export, tmp_path):
    # resolve counts what each model expects from the pairs in hand, so that a run need not read
    # its matches back; the diagnostics count the same from the matches of a result without them
    out, _ = sample_export
    mentions = pl.scan_parquet(out / "tables" / "mentions.parquet")
    relations = pl.read_parquet(out / "tables" / "relations.parquet")
    persons = mentions.filter(pl.col("entity_type") == "person").select("mention_id").head(40).collect()["mention_id"]
    overrides = [{"mention_a": persons[0], "mention_b": persons[39], "decision": "must_link", "reason": "analyst"}]
    resolved = resolve(mentions, relations, overrides=overrides, matches_file=tmp_path / "matches.parquet")
    blocked_by = resolved.matches.filter(pl.col("entity_type") == "person").select("blocked_by").collect()["blocked_by"]
    assert {"override", "same_candidate_entity"} <= set(blocked_by)  # both left out of the count
    assert set(resolved.expected_pairs) == set(resolved.scorers) == {"company", "person"}
    counted = resolution_diagnostics(resolved, mentions)
    # the matches leave out the pairs between two BSNs (never merged), which the count keeps
    written = resolved.matches.filter(pl.col("entity_type") == "person").collect()
    assert written.filter((pl.col("bsn_agree") == 0.0) & ~pl.col("blocked_by").is_in(["bsn", "override"])).height == 0
    from_matches = resolution_diagnostics(replace(resolved, expected_pairs=None), mentions)
    assert counted.select("mentions", "entities", "merged_pairs").equals(from_matches.select("mentions", "entities", "merged_pairs"))
    person = pl.col("entity_type") == "person"
    assert counted.filter(person)["expected_pairs"].item() > from_matches.filter(person)["expected_pairs"].item() > 100
    # the saved model keeps the count: a run read back gives the diagnostics of the run
    save_run(resolved, tmp_path / "run")
    assert resolution_diagnostics(load_run(tmp_path / "run"), mentions).equals(counted)


def test_pairs_compared_a_slice_at_a_time_resolve_as_all_at_once(sample_export, tmp_path, monkeypatch):
    # at scale the pairs are compared a slice at a time: slices of a few hundred pairs must give
    # what one slice gives
    out, _ = sample_export
    mentions = pl.scan_parquet(out / "tables" / "mentions.parquet")
    relations = pl.read_parquet(out / "tables" / "relations.parquet")
    whole = resolve(mentions, relations, matches_file=tmp_path / "whole.parquet")
    matches = whole.matches.collect()
    persons = matches.filter(pl.col("entity_type") == "person")
    assert persons.height > 5000 and "same_candidate_entity" in persons["blocked_by"]  # completions sorted in
    resolver = importlib.import_module("mhgraph.resolve.pipeline")
    monkeypatch.setattr(resolver, "COMPARE_SLICE", 997)
    for sliced in (resolve(mentions, relations, matches_file=tmp_path / "sliced.parquet"), resolve(mentions, relations)):
        assert sliced.resolution.equals(whole.resolution)
        assert sliced.scan_matches().collect().equals(matches)
        assert sliced.identity_conflicts.equals(whole.identity_conflicts)
        assert sliced.expected_pairs == whole.expected_pairs
        assert [scorer_to_dict(s) for s in sliced.scorers.values()] == [scorer_to_dict(s) for s in whole.scorers.values()]


def test_scoring_reads_the_features_of_pairs_compared_a_slice_at_a_time_in_one_piece(sample_export, monkeypatch):
    # a column in several pieces is copied whole by every read of scoring (at a million persons
    # some 200 MB a column): the slices are joined a column at a time before they are scored
    out, _ = sample_export
    mentions = pl.scan_parquet(out / "tables" / "mentions.parquet")
    resolver = importlib.import_module("mhgraph.resolve.pipeline")
    monkeypatch.setattr(resolver, "COMPARE_SLICE", 997)
    handed = {}
    real_make_scorer = resolver.make_scorer

    def recording_make_scorer(entity, features, weights=None):
        handed[entity.entity_type] = (features.height, {c: features[c].n_chunks() for c in features.columns})
        return real_make_scorer(entity, features, weights)

    monkeypatch.setattr(resolver, "make_scorer", recording_make_scorer)
    resolve(mentions, pl.read_parquet(out / "tables" / "relations.parquet"))
    height, chunks = handed["person"]
    assert height > 5 * 997 and len(chunks) > 5
    assert set(chunks.values()) == {1}


def _held_by_polars(**arrays: list[np.ndarray]) -> dict[str, list[weakref.ref]]:
    """Weak references to numpy arrays Polars holds without copying them (as it holds compared
    columns): a reference dies once no column holds the array's memory any more."""
    return {name: [weakref.ref(array) for array in column] for name, column in arrays.items()}


def _alive(held: dict[str, list[weakref.ref]]) -> dict[str, int]:
    return {name: sum(ref() is not None for ref in refs) for name, refs in held.items()}


def _spied(monkeypatch, owner, name: str, held: dict) -> list[dict[str, int]]:
    """Which arrays are alive at each call of ``owner.name`` (which still does its work)."""
    seen, real = [], getattr(owner, name)

    def spy(*args, **kwargs):
        seen.append(_alive(held))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return seen


def test_columns_joined_are_let_go_as_they_are_copied(monkeypatch):
    a, b = [np.array([3.0, 1.0]), np.array([2.0])], [np.array([30, 10]), np.array([20])]
    pieces = [pl.DataFrame({"a": a[i], "b": b[i], "c": [["z", "x"], ["y"]][i]}) for i in range(2)]
    held = _held_by_polars(a=a, b=b)
    del a, b
    seen_at_each_copy = _spied(monkeypatch, pl, "concat", held)
    joined = _joined_a_column_at_a_time(pieces)
    assert seen_at_each_copy == [{"a": 2, "b": 2}, {"a": 0, "b": 2}, {"a": 0, "b": 0}]
    assert pieces == [] and joined.rows() == [(3.0, 30, "z"), (1.0, 10, "x"), (2.0, 20, "y")]
    assert {joined[c].n_chunks() for c in joined.columns} == {1}


def test_columns_put_in_order_are_let_go_as_they_are_copied(monkeypatch):
    a, b = np.array([3.0, 1.0, 2.0, 0.5]), np.array([30, 10, 20, 5])
    columns = [pl.Series("a", a), pl.Series("b", b), pl.concat([pl.Series("c", ["z", "x"]), pl.Series("c", ["y", "w"])])]
    held = _held_by_polars(a=[a], b=[b])
    del a, b
    seen_at_each_copy = _spied(monkeypatch, pl.Series, "gather", held)
    ordered = _in_order(columns, np.array([3, 1, 2, 0]))
    assert seen_at_each_copy == [{"a": 1, "b": 1}, {"a": 0, "b": 1}, {"a": 0, "b": 0}]
    assert columns == []
    assert ordered.rows() == [(0.5, 5, "w"), (1.0, 10, "x"), (2.0, 20, "y"), (3.0, 30, "z")]
    assert {ordered[c].n_chunks() for c in ordered.columns} == {1}


def test_matches_written_to_a_file_type_by_type_are_the_matches_a_table_holds(sample_export, tmp_path):
    # a run has the resolver write each type's matches once it is clustered: the file must hold
    # the table resolve returns otherwise, and what reads the matches must read the same from it
    out, _ = sample_export
    mentions = pl.scan_parquet(out / "tables" / "mentions.parquet")
    relations = pl.read_parquet(out / "tables" / "relations.parquet")
    held = resolve(mentions, relations)
    written = resolve(mentions, relations, matches_file=tmp_path / "matches.parquet")
    assert isinstance(written.matches, pl.LazyFrame) and held.matches.height > 0
    assert written.matches.collect().equals(held.matches)
    assert written.resolution.equals(held.resolution) and written.identity_conflicts.equals(held.identity_conflicts)
    assert written.blocking_summary().equals(held.blocking_summary())
    assert resolution_diagnostics(written, mentions).equals(resolution_diagnostics(held, mentions))
    assert [path.name for path in tmp_path.iterdir()] == ["matches.parquet"]  # the files of the types are gone

    # no type with settings: an empty matches table, all the same
    vehicles = pl.DataFrame({"mention_id": ["d/1/x"], "entity_type": ["vehicle"]})
    assert resolve(vehicles, None, matches_file=tmp_path / "none.parquet").matches.collect().equals(
        resolve(vehicles, None).matches)


def test_a_result_reading_its_matches_from_a_file_is_saved_and_explained_like_one_holding_them(sample_export, tmp_path):
    out, _ = sample_export
    mentions = pl.read_parquet(out / "tables" / "mentions.parquet")
    relations = pl.read_parquet(out / "tables" / "relations.parquet")
    held = resolve(mentions, relations)
    # written where save_run writes it: the file it reads is the file it saves to
    written = resolve(mentions, relations, matches_file=tmp_path / "run" / "tables" / "matches.parquet")
    for resolved, run in ((written, tmp_path / "run"), (written, tmp_path / "copy"), (held, tmp_path / "held")):
        save_run(resolved, run)
        assert pl.read_parquet(run / "tables" / "matches.parquet").equals(held.matches)
    assert written.matches.collect().equals(held.matches)  # still readable after being saved onto
    with pytest.raises(InputError, match="still reads"):  # another result's file is not written under it
        save_run(held, tmp_path / "run")
    # a copy holding matches of its own is not taken for the scan of the file it came from
    fewer = replace(written, matches=written.matches.collect().head(1))
    with pytest.raises(InputError, match="still reads"):
        save_run(fewer, tmp_path / "run")
    assert pl.read_parquet(tmp_path / "run" / "tables" / "matches.parquet").equals(held.matches)
    del fewer
    a, b = held.matches.filter(pl.col("decision") == "match").row(0)[:2]
    assert str(explain_match(a, b, written, mentions, relations)) == str(explain_match(a, b, held, mentions, relations))


def test_a_matches_file_is_replaced_whole_at_the_end_and_never_under_a_result_reading_it(sample_export, tmp_path):
    out, _ = sample_export
    mentions = pl.read_parquet(out / "tables" / "mentions.parquet")
    target = tmp_path / "matches.parquet"
    own = tmp_path / "matches.person.parquet"  # named as the types' parts once were
    own.write_text("kept")
    first = resolve(mentions, None, matches_file=target)
    rows = first.matches.select(pl.len()).collect().item()
    with pytest.raises(InputError, match="still reads"):
        resolve(mentions.filter(pl.col("entity_type") != "person"), None, matches_file=target)
    assert first.matches.select(pl.len()).collect().item() == rows
    del first  # nothing reads the file now: it may be written again
    assert resolve(mentions, None, matches_file=target).matches.select(pl.len()).collect().item() == rows
    # a failure at the end (a folder where the file goes) leaves no part behind
    (tmp_path / "taken.parquet").mkdir()
    (tmp_path / "taken.parquet" / "x").write_text("")
    with pytest.raises(OSError):
        resolve(mentions, None, matches_file=tmp_path / "taken.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matches.parquet", "matches.person.parquet", "taken.parquet"]
    assert own.read_text() == "kept"


def test_data_sample_without_bsns_is_resolved_label_free_with_date_levels_near_the_true_pairs_share(sample_export):
    # every BSN and V-number removed: no labels, so the persons go to Fellegi-Sunter, whose m of
    # each date-of-birth level must be near the share of the true pairs among the compared pairs
    out, _ = sample_export
    mentions = (pl.read_parquet(out / "tables" / "mentions.parquet").filter(pl.col("entity_type") == "person")
                .with_columns(pl.lit(None, dtype=pl.String).alias("bsn"), pl.lit(None, dtype=pl.String).alias("v_number")))
    truth = pl.read_parquet(SAMPLE / "truth" / "mentions.parquet").select("mention_id", "entity_id")
    resolved = resolve(mentions, None)
    scorer = resolved.scorers["person"]
    assert isinstance(scorer, FellegiSunter) and scorer.converged_
    assert pairwise_scores(resolved.resolution, truth.join(mentions.select("mention_id"), on="mention_id"))["f1"] > 0.96
    entity_of = dict(truth.rows())
    pairs = resolved.matches.filter(pl.col("blocked_by") != "same_candidate_entity")
    same = np.array([entity_of[a] == entity_of[b] for a, b in zip(pairs["mention_a"], pairs["mention_b"])])
    thresholds = scorer.comparisons["birth_date_dice"]
    level = levels_of(pairs["birth_date_dice"].cast(pl.Float64).fill_null(np.nan).to_numpy(), tuple(thresholds))
    share = np.bincount(level[(level >= 0) & same], minlength=len(thresholds) + 1) / ((level >= 0) & same).sum()
    assert np.abs(np.array(scorer.m_["birth_date_dice"]) - share).max() < 0.01
    assert scorer.weights_["birth_date_dice"][-1] < -8.0  # a date unlike stays strong evidence against


FREED_ARRAYS = """
import ctypes, os, numpy as np
from mhgraph.resolve import pipeline
def resident_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
# fixed thresholds (which also stop glibc from moving them as arrays come and go): arrays of
# 8 MB come from the heap, and freeing them trims nothing by itself
libc = ctypes.CDLL(None)
libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD
libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
arrays = [np.ones(1_000_000) for _ in range(40)]  # 40 arrays of 8 MB
above = np.ones(100_000)  # a block after them: the heap cannot shrink from its top
del arrays
before = resident_mb()
pipeline.give_back_freed_memory()
print(pipeline._MALLOC_TRIM is not None, before - resident_mb(), above.sum())
"""


# settings that change where glibc puts freed arrays, or another allocator, make the figure meaningless
HEAP_SETTINGS = sorted({"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "LD_PRELOAD"} & set(os.environ))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the C heap of glibc")
@pytest.mark.skipif(bool(HEAP_SETTINGS), reason=f"{', '.join(HEAP_SETTINGS)} set: the test assumes glibc's default heap "
                    "thresholds and allocator")
def test_freed_arrays_of_millions_of_pairs_go_back_to_the_system():
    # in a fresh process: the heap of this one is laid out by every test before
    done = subprocess.run([sys.executable, "-c", FREED_ARRAYS], capture_output=True, text=True, check=True)
    found, released, kept = done.stdout.split()
    assert found == "True"  # glibc's malloc_trim was found
    assert float(released) > 200 and float(kept) == 100_000


def _files_under(folder) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _broken(resolved: Resolved) -> Resolved:
    """``resolved`` with identity conflicts Parquet cannot hold (Python objects): its save fails while writing."""
    notes = pl.Series("note", [object()] * resolved.identity_conflicts.height, dtype=pl.Object)
    return replace(resolved, identity_conflicts=resolved.identity_conflicts.with_columns(notes))


def _a_failed_move_puts_the_earlier_files_back(resolved: Resolved, run) -> None:
    """The last move of a save of ``resolved`` into ``run`` fails (a folder where the model goes):
    the tables moved already are put back."""
    before = _files_under(run)
    (run / "resolve" / "model.json").unlink()
    (run / "resolve" / "model.json").mkdir()
    with pytest.raises(OSError):
        save_run(resolved, run)
    del before["resolve/model.json"]
    assert _files_under(run) == before and sorted(p.name for p in run.iterdir()) == ["resolve", "tables"]


def test_a_save_that_fails_while_writing_or_moving_leaves_the_earlier_run_whole(people, resolved, tmp_path):
    mentions, _ = people
    run = tmp_path / "run"
    save_run(resolved, run)
    before = _files_under(run)
    assert sorted(before) == ["resolve/model.json", "tables/identity_conflicts.parquet", "tables/matches.parquet",
                              "tables/resolution.parquet"]
    other = resolve(mentions.filter(pl.col("mention_id") != mentions["mention_id"][0]), None)
    # the third file cannot be written: the first two must not be in place either
    with pytest.raises(Exception, match="(?i)object"):
        save_run(_broken(other), run)
    assert _files_under(run) == before
    _a_failed_move_puts_the_earlier_files_back(other, run)
    (run / "resolve" / "model.json").rmdir()
    save_run(other, run)  # and a save that succeeds puts all four in place
    assert load_run(run).resolution.equals(other.resolution)
    assert pl.read_parquet(run / "tables" / "matches.parquet").equals(other.matches)


def test_a_failed_save_of_a_result_resolved_into_the_run_folder_leaves_only_its_matches_new(people, resolved,
                                                                                              tmp_path):
    # what save_run promises for a result whose matches file is the run folder's own: that file is
    # new once resolving ends, the resolution and model stay the earlier ones
    mentions, _ = people
    run = tmp_path / "run"
    save_run(resolved, run)
    before = _files_under(run)
    other = resolve(mentions.filter(pl.col("mention_id") != mentions["mention_id"][0]), None,
                    matches_file=run / "tables" / "matches.parquet")
    with pytest.raises(Exception, match="(?i)object"):
        save_run(_broken(other), run)
    after = _files_under(run)
    assert after.pop("tables/matches.parquet") != before.pop("tables/matches.parquet")
    assert after == before
    assert pl.read_parquet(run / "tables" / "matches.parquet").equals(other.matches.collect())
    # resolved into a file elsewhere, a failed save leaves all four as they were
    elsewhere = resolve(mentions.filter(pl.col("mention_id") != mentions["mention_id"][0]), None,
                        matches_file=tmp_path / "matches.parquet")
    run = tmp_path / "second"
    save_run(resolved, run)
    before = _files_under(run)
    with pytest.raises(Exception, match="(?i)object"):
        save_run(_broken(elsewhere), run)
    assert _files_under(run) == before


def test_a_save_over_an_earlier_run_without_hard_links_keeps_copies_of_the_earlier_files(people, resolved, tmp_path,
                                                                                         monkeypatch):
    # exFAT and some SMB shares refuse hard links (EPERM, EOPNOTSUPP); no such file system can be
    # mounted here, so os.link refuses as theirs does
    def no_links(source, target, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted", str(source))

    monkeypatch.setattr(os, "link", no_links)
    mentions, _ = people
    run = tmp_path / "run"
    save_run(resolved, run)
    other = resolve(mentions.filter(pl.col("mention_id") != mentions["mention_id"][0]), None)
    save_run(other, run)
    assert load_run(run).resolution.equals(other.resolution)
    _a_failed_move_puts_the_earlier_files_back(resolved, run)  # from the copies


SAVE_STOPPED = """
import os, signal, sys
from dataclasses import replace
import polars as pl
from mhgraph.resolve import load_run, save_run

def stop(batch):  # while the matches are written into the private folder
    print("writing", flush=True)
    if sys.argv[2] == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()  # a live save: held until told to go on, then fails
    raise ValueError("stopped")

saved = load_run(sys.argv[1])
save_run(replace(saved, matches=saved.matches.lazy().map_batches(stop)), sys.argv[1])
"""


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_the_next_save_removes_the_private_folder_a_killed_save_left_but_not_one_a_live_save_holds(resolved, tmp_path):
    run = tmp_path / "run"
    save_run(resolved, run)
    live = subprocess.Popen([sys.executable, "-c", SAVE_STOPPED, str(run), "live"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert live.stdout.readline() == "writing\n"
        [held] = run.glob(".resolve-*")
        killed = subprocess.run([sys.executable, "-c", SAVE_STOPPED, str(run), "killed"], capture_output=True,
                                text=True)
        assert killed.returncode == -9 and killed.stdout == "writing\n"
        [left] = set(run.glob(".resolve-*")) - {held}
        save_run(resolved, run)
        assert not left.exists() and held.is_dir()  # the live save's folder is its own to remove
    finally:
        _, errors = live.communicate("")
    assert live.returncode == 1 and "stopped" in errors
    assert sorted(p.name for p in run.iterdir()) == ["resolve", "tables"]
    assert load_run(run).resolution.equals(resolved.resolution)



@pytest.mark.parametrize("make_copy", [copy.copy, copy.deepcopy, lambda r: pickle.loads(pickle.dumps(r)), replace],
                         ids=["copy", "deepcopy", "pickle", "replace"])
def test_a_copy_of_a_result_reading_a_matches_file_guards_it_and_the_last_reader_gone_leaves_no_entry(tmp_path,
                                                                                                     make_copy):
    target = (tmp_path / "matches.parquet").resolve()
    pl.DataFrame(schema=MATCHES_SCHEMA).write_parquet(target)
    result = Resolved(pl.DataFrame(schema=RESOLUTION_SCHEMA), pl.scan_parquet(target), default_settings(),
                      matches_file=target)
    reader = make_copy(result)
    del result
    gc.collect()
    with pytest.raises(InputError, match="still reads"):  # the copy alone reads the file
        _unread_target(target)
    del reader
    gc.collect()
    assert _unread_target(target) == target and str(target) not in _READERS


class _DropsOldReaderOnAdd(weakref.WeakSet):
    """A reader set whose ``add`` first lets go of the last earlier reader: the old reader is
    collected between the new reader's look-up of the set and its add."""

    def __init__(self, held: list):
        self.held = None
        super().__init__(held)
        self.held = held

    def add(self, item) -> None:
        if self.held is not None:
            self.held.clear()
        super().add(item)


def test_a_reader_registered_while_the_last_earlier_reader_is_collected_still_guards_its_file(tmp_path):
    target = (tmp_path / "matches.parquet").resolve()
    pl.DataFrame(schema=MATCHES_SCHEMA).write_parquet(target)

    def reader() -> Resolved:
        return Resolved(pl.DataFrame(schema=RESOLUTION_SCHEMA), pl.scan_parquet(target), default_settings(),
                        matches_file=target)

    held = [reader()]
    _READERS[str(target)] = _DropsOldReaderOnAdd(held)
    new = reader()
    assert held == [] and list(_READERS[str(target)]) == [new]
    with pytest.raises(InputError, match="still reads"):
        _unread_target(target)
    del new
    gc.collect()
    assert _unread_target(target) == target and str(target) not in _READERS


@pytest.mark.parametrize(("over", "alike", "message"), [
    ("match_key_2", {}, "birth_date_dice: common_values_over must be a list of columns, got the string 'match_key_2'"),
    (["match_key2"], {}, r"birth_date_dice: common_values_over names unknown column\(s\) \['match_key2'\]"),
    (["match_key_2"], {"family_dice": 0.9}, r"common_values_alike names unknown comparison\(s\) \['family_dice'\]"),
    (["match_key_2"], ["family_name_dice"], "birth_date_dice: common_values_alike must be a table of comparison = number"),
    (["match_key_2"], {"family_name_dice": "0.9"}, "birth_date_dice: common_values_alike must be a table"),
    (["match_key_2"], {"family_name_dice": 1.5}, "birth_date_dice: common_values_alike must be a table"),
    (["match_key_2"], {"family_name_dice": True}, "birth_date_dice: common_values_alike must be a table"),
    ([], {"family_name_dice": 0.9}, "birth_date_dice: common_values_alike needs common_values_over"),
    (["match_key_2"], {"birth_date_dice": 0.9}, "birth_date_dice: common_values_alike names the comparison itself"),
])
def test_settings_refuse_common_values_they_cannot_use(over, alike, message):
    from mhgraph.resolve.settings import settings_from_dict
    raw = {"order": ["person"], "types": {"person": {"letter": "P", "comparisons": [
        {"name": "family_name_dice", "kind": "dice", "columns": ["family_name_bf"]},
        {"name": "birth_date_dice", "kind": "dice", "columns": ["birth_date_bf"], "common_values_over": over,
         "common_values_alike": alike}]}}}
    with pytest.raises(InputError, match=message):
        settings_from_dict(raw)


def test_pairs_are_put_in_the_order_of_their_two_rows():
    rng = np.random.default_rng(11)
    left, right = rng.integers(-1, 40, 500), rng.integers(-1, 40, 500)
    order = _pair_order((left, right))
    expected = np.lexsort((right, left))
    assert order.tolist() == expected.tolist()
    assert _pair_order((np.sort(left), np.arange(500))) is None  # in order already


def test_pairs_of_rows_too_many_to_code_in_one_number_are_put_in_order_all_the_same():
    rng = np.random.default_rng(12)
    # rows up to 2**32: a code of row times row count would pass 2**63 for rows past 2**31
    rows = np.concatenate([np.arange(-1, 20), 2**31 + np.arange(20), 2**32 - np.arange(20)])
    left, right = rng.choice(rows, 500), rng.choice(rows, 500)
    order = _pair_order((left, right))
    assert order.tolist() == np.lexsort((right, left)).tolist()


def test_a_mention_id_given_twice_is_refused_with_the_row_of_its_second():
    mentions = pl.DataFrame({"mention_id": ["s/1/a", "s/2/a", "s/3/a", "s/2/a"], "entity_type": ["address"] * 4,
                             "address_key": ["k1", "k1", "k2", "k3"]})
    with pytest.raises(InputError, match="'s/2/a' appears more than once") as raised:
        resolve(mentions, None)
    assert raised.value.row == 4


def test_a_pair_between_two_bsns_is_scored_not_written_and_explained_anew():
    # namesakes born on one day with two BSNs: blocking proposes them, the model scores them
    # (and learns from them), but no link ever merges them, so the matches leave them out
    people = [("a/1/p", "jan", "bakker", "1980-01-01", "111111111"), ("b/1/p", "jan", "bakker", "1980-01-01", "222222222"),
              ("c/1/p", "jan", "bakker", "1980-01-01", None), ("d/1/p", "piet", "smit", "1975-05-05", "333333333"),
              ("d/2/p", "piet", "smit", "1975-05-05", "333333333")]
    mentions = frame([person_row(m, g, f, d, bsn=b) for m, g, f, d, b in people])
    resolved = resolve(mentions, None)
    pairs = set(zip(resolved.matches["mention_a"], resolved.matches["mention_b"]))
    assert ("a/1/p", "b/1/p") not in pairs and {("a/1/p", "c/1/p"), ("d/1/p", "d/2/p")} <= pairs
    explained = explain_match("a/1/p", "b/1/p", resolved, mentions)
    assert not explained.compared and explained.decision == "conflicting_identifier"
    assert explained.reason == "different bsn" and explained.score is not None
