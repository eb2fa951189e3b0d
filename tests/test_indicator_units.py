"""Indicators at scale: the join order of the heavy rules, and the rules run per unit of whole
connected components through every executor, with the hits of one run on the whole graph."""

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from graph_fixtures import D, Registers, population
from mhgraph.detect import detect_communities
from mhgraph.executor import DaskExecutor, ProcessExecutor, SerialExecutor
from mhgraph.graph import build_graph_tables
from mhgraph import indicators
from mhgraph.indicators import INDICATORS, compute_indicators, graded_hits, indicator_units
from mhgraph.indicators.permits import permit_links
from mhgraph.indicators.tables import BEGINNING, END_OF_TIME, co_residents, company_links
from mhgraph.partition import component_labels
from mhgraph.purpose import DEFAULT_RUN_PURPOSE, allowed_source_purposes

# Looser than the shipped thresholds, so that the sample holds several moves and successors.
LOOSE = {"waterbed_move": {"max_days": 5000, "max_residents": 40,
                           "permit_types": ("horeca", "massagesalon", "seksinrichting", "escortbedrijf")},
         "phoenix_company": {"max_gap_days": 720, "min_shared_employees": 1, "min_staff_share": 0.05,
                             "max_predecessor_days": 5000}}


@pytest.fixture(scope="module")
def sample_graph(sample_export):
    _, result = sample_export
    return result.tables["nodes"], result.tables["edges"], result.tables["communities"], \
        result.tables["identity_conflicts"]


def _moves_by_definition(nodes, edges, *, max_days, max_residents, permit_types):
    """``waterbed_move`` read literally, pair by pair: every earlier link of an operator against
    every permit, then the straw. ``(permit, operator, earlier)`` of the move shown per permit."""
    links = permit_links(nodes, edges, permit_types).to_dicts()
    permits = {link["permit"]: link for link in links}
    faces, officers = {}, {}
    for link in links:
        (officers if link["role"] == "officer" else faces).setdefault(link["permit"], set()).add(link["person"])
    straws = set(co_residents(edges, max_residents).select("person", "other").iter_rows())
    offices = [(r["from_entity"], r["to_entity"], r["valid_from"] or BEGINNING, r["valid_to"] or END_OF_TIME)
               for r in edges.filter(pl.col("type") == "OFFICER_OF").to_dicts()]
    straws |= {(a, b) for a, company, start, end in offices for b, other, start_b, end_b in offices
               if company == other and a != b and start <= end_b and start_b <= end}
    shown = {}
    for earlier in links:
        operator = earlier["person"]
        for permit, later in permits.items():
            if None in (later["decided_on"], earlier["decided_on"], later["municipality"], earlier["municipality"]):
                continue
            days = (later["decided_on"] - earlier["decided_on"]).days
            shared = set(later["controllers"] or ()) & set(earlier["controllers"] or ())
            if (0 < days <= max_days and later["municipality"] != earlier["municipality"] and not shared
                    and operator not in faces.get(permit, ())
                    and (operator in officers.get(permit, ())
                         or any((operator, face) in straws for face in faces.get(permit, ())))):
                key = (-earlier["decided_on"].toordinal(), operator, earlier["permit"])
                shown[permit] = min(shown.get(permit, key), key)
    return {(permit, operator, earlier) for permit, (_, operator, earlier) in shown.items()}


@pytest.mark.parametrize("settings", [{}, LOOSE["waterbed_move"]], ids=["shipped", "loose"])
def test_waterbed_move_finds_the_moves_of_its_definition_on_the_sample(sample_graph, settings):
    nodes, edges, _, _ = sample_graph
    find = INDICATORS["waterbed_move"].find
    chosen = {**find.__kwdefaults__, **settings}
    found = find(nodes, edges, **chosen).select("focus_entity", "operator", "earlier")
    expected = _moves_by_definition(nodes, edges, **{k: chosen[k] for k in ("max_days", "max_residents",
                                                                          "permit_types")})
    assert expected or not settings  # the sample holds no move within the shipped thresholds
    assert set(found.iter_rows()) == expected


def test_phoenix_company_is_unchanged_by_companies_that_cannot_be_a_pair(sample_graph):
    """Filtering before the joins: relations of companies neither dissolved nor registered on a
    known date take part in no pair, so removing them changes no successor."""
    nodes, edges, _, _ = sample_graph
    undated = nodes.filter((pl.col("entity_type") == "company") & pl.col("registered_on").is_null()
                           & pl.col("dissolved_on").is_null()).get_column("entity_id")
    hits = compute_indicators(nodes, edges, indicators=["phoenix_company"], thresholds=LOOSE)
    assert hits.height >= 2
    fewer = edges.filter(~pl.col("to_entity").is_in(undated.to_list()) & ~pl.col("from_entity").is_in(undated.to_list()))
    assert fewer.height < edges.height
    assert_frame_equal(compute_indicators(nodes, fewer, indicators=["phoenix_company"], thresholds=LOOSE), hits)


def test_units_hold_whole_components_and_every_row_once():
    nodes, edges = build_graph_tables(*population().tables())
    pieces = indicator_units(nodes, edges, unit_size=10, partitions=4)
    assert len(pieces) == 4
    assert sorted(pl.concat([p for p, _ in pieces]).get_column("entity_id")) == sorted(nodes["entity_id"])
    assert sorted(pl.concat([e for _, e in pieces]).get_column("relation_id")) == sorted(edges["relation_id"])
    ids = nodes.get_column("entity_id").sort()
    index = {entity: i for i, entity in enumerate(ids)}
    labels = component_labels(len(ids), np.array([[index[a], index[b]] for a, b in
                                                  edges.select("from_entity", "to_entity").iter_rows()]))
    task_of = {entity: task for task, (piece, _) in enumerate(pieces) for entity in piece["entity_id"]}
    component_tasks = pl.DataFrame({"component": labels, "task": [task_of[e] for e in ids]})
    assert component_tasks.group_by("component").agg(pl.col("task").n_unique())["task"].max() == 1
    assert indicator_units(nodes, edges, unit_size=10, partitions=1)[0][0] is nodes  # one task: the tables as they are


def test_a_graph_tied_into_one_component_is_not_copied_into_tasks():
    nodes = pl.DataFrame({"entity_id": list("ABCDE"), "entity_type": ["person"] * 5})
    edges = pl.DataFrame({"relation_id": ["r1", "r2", "r3"], "type": ["REGISTERED_AT"] * 3,
                          "from_entity": list("ABC"), "to_entity": list("BCD")})
    (only,) = indicator_units(nodes, edges, unit_size=1)
    assert only[0] is nodes and only[1] is edges
    assert len(indicator_units(nodes, edges.head(1), unit_size=1)) == 4  # A-B, C, D, E: none holds half


def test_any_partitioning_gives_the_hits_of_the_whole_graph():
    """The planted population (every rule fires on it) in units of one component each, in 1, 3 and
    one task per unit, in this process and in local worker processes."""
    nodes, edges = build_graph_tables(*population().tables())
    communities = detect_communities(nodes, edges, seed=0)
    whole = compute_indicators(nodes, edges, communities)
    assert whole.select("indicator").n_unique() >= 12
    for executor, partitions in ((SerialExecutor(), 1), (SerialExecutor(), 3), (SerialExecutor(), None),
                                 (ProcessExecutor(2), 2)):
        assert_frame_equal(compute_indicators(nodes, edges, communities, executor=executor, partitions=partitions,
                                              unit_size=1), whole)


def test_rules_that_need_the_whole_graph_run_on_it(sample_graph, monkeypatch):
    """Persons sharing an identifier may lie in different components: ``identity_conflict`` says
    it needs the whole graph and finds the same conflicts when the rest runs per unit."""
    nodes, edges, communities, conflicts = sample_graph
    monkeypatch.setattr(indicators, "LARGEST_UNIT_SHARE", 1.0)  # split the sample despite its giant component
    assert len(indicator_units(nodes, edges, unit_size=1)) > 1
    assert {name for name, spec in INDICATORS.items() if spec.whole_graph} == {"identity_conflict",
                                                                                "link_to_earlier_refusal"}
    far_apart = pl.DataFrame({
        "entity_type": ["person"], "entity_a": [nodes.filter(pl.col("entity_type") == "person")["entity_id"][0]],
        "entity_b": [nodes.filter(pl.col("entity_type") == "person")["entity_id"][-1]], "key": ["bsn"],
        "key_value": ["k1"], "mention_a": ["m-a"], "mention_b": ["m-b"], "evidence": ["names differ"]})
    conflicts = pl.concat([conflicts, far_apart], how="diagonal_relaxed") if conflicts.height else far_apart
    whole = compute_indicators(nodes, edges, communities, identity_conflicts=conflicts, indicators=["identity_conflict"],
                               thresholds={"identity_conflict": {"min_persons": 2}})
    assert whole.height >= 2
    assert_frame_equal(compute_indicators(nodes, edges, communities, identity_conflicts=conflicts,
                                          indicators=["identity_conflict"],
                                          thresholds={"identity_conflict": {"min_persons": 2}},
                                          executor=SerialExecutor(), unit_size=1), whole)


def test_the_sample_per_unit_on_every_executor(sample_graph, monkeypatch):
    """data/sample with every rule, shipped and loose thresholds: one task per unit in this process,
    two local worker processes, three tasks on a local Dask cluster — the hits of the whole graph.
    Its largest component holds most entities, so it is split only when that share is allowed."""
    nodes, edges, communities, conflicts = sample_graph
    assert indicator_units(nodes, edges, unit_size=20)[0][0] is nodes
    monkeypatch.setattr(indicators, "LARGEST_UNIT_SHARE", 1.0)
    allowed = allowed_source_purposes(DEFAULT_RUN_PURPOSE)

    def run(**how):
        return [compute_indicators(nodes, edges, communities, allowed_purposes=allowed, identity_conflicts=conflicts,
                                   thresholds=thresholds, **how) for thresholds in (None, LOOSE)]

    whole = run()
    assert all(hits.height for hits in whole)
    assert len(indicator_units(nodes, edges, unit_size=20)) >= 3
    with DaskExecutor(workers=2) as dask:
        for how in ({"executor": SerialExecutor()}, {"executor": ProcessExecutor(2), "partitions": 2},
                    {"executor": dask, "partitions": 3}):
            for hits, expected in zip(run(unit_size=20, **how), whole):
                assert_frame_equal(hits, expected)


def test_a_graph_without_entities_gives_no_hits_per_unit():
    nodes = pl.DataFrame(schema={"entity_id": pl.String(), "entity_type": pl.String()})
    edges = pl.DataFrame(schema={"relation_id": pl.String(), "type": pl.String(), "from_entity": pl.String(),
                                 "to_entity": pl.String()})
    assert compute_indicators(nodes, edges, executor=SerialExecutor()).height == 0


def test_company_links_among_given_pairs_are_those_of_all_pairs(sample_graph):
    """``sponsor_churn`` asks only for the pairs its moves name; they come out as from the whole table."""
    _, edges, _, _ = sample_graph
    every = company_links(edges)
    among = pl.concat([every.select("company", "other").unique().sort("company", "other").head(25),
                       pl.DataFrame({"company": ["C-none"], "other": ["C-nowhere"]})])
    assert every.height > 25
    assert_frame_equal(company_links(edges, among=among), every.join(among, on=["company", "other"], how="semi"))


def test_housemates_link_their_companies_only_while_both_hold_office():
    """Two people who share a home from 2014 to 2025: one ran C-old in 2014-2015, the other runs
    C-new from 2019. Their offices never overlap, so the home ties nothing; had C-new's office
    begun in 2015 while C-old's ran, it would."""
    def links(new_office_from):
        reg = Registers()
        reg.company("k1", "C-old", "A-old", D(2010, 1, 1))
        reg.company("k2", "C-new", "A-new", D(2010, 1, 1))
        reg.officer("f1", "P-lodger", "C-old", "A-home", D(2014, 1, 1), D(2015, 12, 31))
        reg.officer("f2", "P-owner", "C-new", "A-home", new_office_from)
        for person in ("P-lodger", "P-owner"):
            reg.payroll(f"p-{person}", person, "C-job", "A-home", D(2014, 1, 1), D(2025, 12, 31), 2000 * 15.0, 2000.0)
        _, edges = build_graph_tables(*reg.tables())
        return company_links(edges).filter(pl.col("link") == "officers living at one address")

    assert links(D(2019, 1, 1)).height == 0
    assert links(D(2015, 6, 1)).select("company", "other").rows() == [("C-new", "C-old"), ("C-old", "C-new")]


def test_co_residents_of_some_persons_are_theirs_among_all_pairs(sample_graph):
    """``waterbed_move`` asks only for the operators' housemates, counting the residents of their
    addresses alone; the pairs are those of the whole table."""
    _, edges, _, _ = sample_graph
    every = co_residents(edges, 12)
    persons = every.select("person").unique().sort("person").head(15)
    assert every.height > 2 * persons.height
    some = co_residents(edges, 12, persons)
    assert_frame_equal(some, every.join(persons, on="person", how="semi"), check_row_order=False)


def test_cluster_ids_attached_after_the_rules_are_those_each_rule_joins_itself(sample_graph):
    """The rules run without the communities (beside detection) and get their cluster ids after:
    the same hits as every rule joining the communities itself, and every hit of the sample in a cluster."""
    nodes, edges, communities, conflicts = sample_graph
    allowed = allowed_source_purposes(DEFAULT_RUN_PURPOSE)
    hits = compute_indicators(nodes, edges, communities, allowed_purposes=allowed, identity_conflicts=conflicts)
    assert hits.height and hits.get_column("cluster_id").null_count() == 0
    without = compute_indicators(nodes, edges, allowed_purposes=allowed, identity_conflicts=conflicts)
    assert without.get_column("cluster_id").null_count() == without.height
    assert_frame_equal(indicators.with_cluster_ids(without, communities), hits)
    readable = indicators.readable_edges(edges, allowed, mention_ids=not conflicts.is_empty())
    run = {"allowed_purposes": allowed, "identity_conflicts": conflicts}
    each = [graded_hits(name, nodes, readable, communities, weak=spec.weak_thresholds,
                        weak_share=indicators.RANKING["weak_share"],
                        settings={key: run[key] for key in spec.options if key in run})
            for name, spec in INDICATORS.items()]
    assert_frame_equal(pl.concat(each).sort("indicator", "focus_entity", "grade"), hits)
