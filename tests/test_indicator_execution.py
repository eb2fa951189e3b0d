"""The join form of the heavy rules finds what their definitions say, read literally day by day,
pair by pair and path by path, on data/sample and on a generated world: any difference fails.
The rules that run per hash bucket of their join key find in several buckets what they find in one.

The definitions here are written for clarity, not speed: presence counted on every day a period
starts, co-resident officers paired one by one, shortest paths grown one depth at a time with
whole paths compared as tuples.
"""

import dataclasses
import datetime as dt
import random
from collections import defaultdict

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mhgraph.indicators import INDICATORS, compute_indicators, graded_hits, readable_edges
from mhgraph.indicators.buckets import bucket_count, per_bucket
from mhgraph.indicators.housing import SharedTables
from mhgraph.indicators.tables import (
    BEGINNING, END_OF_TIME, ensure, EDGE_DEFAULTS, NODE_DEFAULTS, PathSearch, peak_presence, shortest_paths, small_groups,
)
from mhgraph.purpose import DEFAULT_RUN_PURPOSE, allowed_source_purposes


@pytest.fixture(scope="module")
def sample(sample_export):
    _, result = sample_export
    return result.tables["nodes"], result.tables["edges"]


@pytest.fixture(scope="module")
def world():
    """The graph tables of a generated population (the small set the synthetic-data tests use)."""
    from synth_helpers import synthetic_set
    from mhgraph.graph import build_graph_tables
    from mhgraph.ingest import ingest
    from mhgraph.resolve import resolve_baseline

    folder, _ = synthetic_set(800, 3)
    ingested = ingest(folder)
    mentions, relations = ingested.mentions, ingested.relations
    return build_graph_tables(mentions, relations, resolve_baseline(mentions))


@pytest.fixture(params=["sample", "world"])
def graph(request):
    nodes, edges = request.getfixturevalue(request.param)
    return ensure(nodes, NODE_DEFAULTS), ensure(edges, EDGE_DEFAULTS)


def _registrations(edges: pl.DataFrame) -> list[dict]:
    return [{"relation_id": r["relation_id"], "person": r["from_entity"], "address": r["to_entity"],
             "start": r["valid_from"] or BEGINNING, "end": r["valid_to"] or END_OF_TIME}
            for r in edges.filter(pl.col("type") == "REGISTERED_AT").iter_rows(named=True)]


def _peaks_by_definition(periods: list[dict]) -> dict[str, tuple[int, dt.date]]:
    """Per address: the most distinct persons registered on one day, and the first such day. The
    count can only rise on a day a period starts, so those days are the ones to look at."""
    by_address = defaultdict(list)
    for period in periods:
        by_address[period["address"]].append(period)
    peaks = {}
    for address, stays in by_address.items():
        counts = [(len({s["person"] for s in stays if s["start"] <= day <= s["end"]}), day)
                  for day in sorted({s["start"] for s in stays})]
        most = max(count for count, _ in counts)
        peaks[address] = (most, min(day for count, day in counts if count == most))
    return peaks


def test_peaks_of_presence_are_those_of_every_day(graph):
    _, edges = graph
    periods = _registrations(edges)
    expected = _peaks_by_definition(periods)
    table = pl.DataFrame(periods)
    found = peak_presence(table, "address", "person")
    assert {a: (n, day) for a, n, day in found.iter_rows()} == expected
    for bound in (2, 3, 8):
        at_least = peak_presence(table, "address", "person", min_members=bound).filter(pl.col("present") >= bound)
        assert {a: (n, day) for a, n, day in at_least.iter_rows()} == {
            a: peak for a, peak in expected.items() if peak[0] >= bound}
        assert set(small_groups(table, "address", "person", bound).get_column("address")) == {
            a for a, (n, _) in expected.items() if n <= bound}
    assert any(n >= 3 for n, _ in expected.values())  # the graphs hold shared addresses to count


@pytest.mark.parametrize("min_persons", [2, 3, 8])
def test_crowded_address_finds_the_peaks_of_its_definition(graph, min_persons):
    nodes, edges = graph
    periods = _registrations(edges)
    expected = {}
    for address, (persons, day) in _peaks_by_definition(periods).items():
        if persons >= min_persons:
            expected[address] = (persons, day, sorted(p["relation_id"] for p in periods
                                                      if p["address"] == address and p["start"] <= day <= p["end"]))
    found = INDICATORS["crowded_address"].find(nodes, edges, min_persons=min_persons)
    assert {row["focus_entity"]: (row["persons"], row["day"], sorted(row["evidence"]))
            for row in found.iter_rows(named=True)} == expected


def _officers_sharing_home_by_definition(nodes, edges, *, min_officers, max_days, max_residents):
    """Per address of at most ``max_residents`` residents at once: pairs of residents, each briefly
    officer of a different company while living there, whose lives there and offices overlap."""
    homes = _registrations(edges)
    small = {a for a, (n, _) in _peaks_by_definition(homes).items() if n <= max_residents}
    company = {r["entity_id"]: r for r in nodes.filter(pl.col("entity_type") == "company").iter_rows(named=True)}
    offices = []
    for r in edges.filter(pl.col("type") == "OFFICER_OF").iter_rows(named=True):
        firm = company.get(r["to_entity"], {})
        ended = r["valid_to"] or firm.get("dissolved_on")
        lasted = (ended - r["valid_from"]).days if ended and r["valid_from"] else None
        short_firm = (firm["dissolved_on"] - firm["registered_on"]).days if firm.get("dissolved_on") and \
            firm.get("registered_on") else None
        if (lasted is not None and lasted < max_days) or (short_firm is not None and short_firm < max_days):
            offices.append((r["from_entity"], r["to_entity"], r["relation_id"], r["valid_from"] or BEGINNING,
                            ended or END_OF_TIME))
    fronts = defaultdict(list)
    for home in homes:
        if home["address"] not in small:
            continue
        for person, firm, office, start, end in offices:
            if person == home["person"] and home["start"] <= end and start <= home["end"]:
                fronts[home["address"]].append((person, firm, home["relation_id"], office,
                                                max(home["start"], start), min(home["end"], end)))
    found = {}
    for address, rows in fronts.items():
        pairs = [(a, b) for a in rows for b in rows
                 if a[0] != b[0] and a[1] != b[1] and a[4] <= b[5] and b[4] <= a[5]]
        officers = {a[0] for a, _ in pairs}
        if len(officers) >= min_officers:
            found[address] = (len(officers), sorted({r for a, _ in pairs for r in a[2:4]}))
    return found


@pytest.mark.parametrize("settings", [{}, {"min_officers": 2, "max_days": 5000}, {"max_residents": 3}],
                         ids=["shipped", "loose", "few residents"])
def test_officers_sharing_home_finds_the_pairs_of_its_definition(graph, settings):
    nodes, edges = graph
    find = INDICATORS["officers_sharing_home"].find
    chosen = {**find.__kwdefaults__, **settings}
    expected = _officers_sharing_home_by_definition(nodes, edges, **chosen)
    found = find(nodes, edges, **chosen)
    assert {row["focus_entity"]: (row["officers"], sorted(set(row["evidence"])))
            for row in found.iter_rows(named=True)} == expected
    assert expected or "max_residents" in settings  # both graphs hold such homes under the other settings


def _paths_by_definition(origins, edges, max_hops, max_degree):
    """From each origin, every entity within ``max_hops`` relations (never passing through one of
    more than ``max_degree`` neighbours but the origin) with the smallest of its shortest paths:
    at each depth, every path one relation longer than a path of the depth before, compared whole."""
    steps = defaultdict(list)
    for relation_id, a, b in edges.select("relation_id", "from_entity", "to_entity").iter_rows():
        if a != b:
            steps[a].append((relation_id, b))
            steps[b].append((relation_id, a))
    crowded = {node for node, out in steps.items() if len({other for _, other in out}) > max_degree}
    found = set()
    for origin in set(origins):
        paths, depth = {origin: ()}, [origin]
        for _ in range(max_hops):
            longer = {}
            for node in depth:
                if node != origin and node in crowded:
                    continue
                for relation_id, other in steps[node]:
                    if other not in paths:
                        path = (*paths[node], relation_id)
                        longer[other] = min(longer.get(other, path), path)
            paths.update(longer)
            depth = list(longer)
        found |= {(origin, target, path) for target, path in paths.items() if target != origin}
    return found


@pytest.mark.parametrize(("max_hops", "max_degree"), [(5, 25), (7, 25), (3, 2), (4, 1000)])
def test_shortest_paths_are_the_smallest_shortest_paths_of_their_definition(graph, max_hops, max_degree):
    nodes, edges = graph
    walkable = edges.filter(pl.col("type").is_in(INDICATORS["link_to_earlier_refusal"].thresholds["via_types"]))
    origins = nodes.filter(pl.col("entity_type").is_in(["permit", "company"])).get_column("entity_id")
    found = shortest_paths(origins, walkable, max_hops, max_degree)
    expected = _paths_by_definition(origins, walkable, max_hops, max_degree)
    assert {(o, t, tuple(p)) for o, t, p in found.iter_rows()} == expected
    assert any(len(path) >= 3 for _, _, path in expected)


def _dated_paths_by_definition(origin, edges, together, max_hops, max_degree):
    """Every simple path from ``origin`` (no entity twice) of at most ``max_hops`` relations that
    never passes through an entity of more than ``max_degree`` neighbours, nor into a place over
    one relation of ``together`` and out over another whose periods do not overlap; for each entity
    it reaches, the smallest of its shortest paths, compared whole."""
    periods = {r: (start, end) for r, start, end in together.select("relation_id", "start", "end").iter_rows()}
    steps = defaultdict(list)
    for relation_id, a, b in edges.filter(pl.col("from_entity") != pl.col("to_entity")).iter_rows():
        steps[a].append((relation_id, b, True))
        steps[b].append((relation_id, a, False))
    crowded = {node for node, out in steps.items() if len({other for _, other, _ in out}) > max_degree}
    best = {}

    def walk(entities, path, entered):
        for relation_id, other, into in steps[entities[-1]]:
            if other in entities:
                continue
            if entered in periods and relation_id in periods and not into:
                (s1, e1), (s2, e2) = periods[entered], periods[relation_id]
                if s1 > e2 or s2 > e1:
                    continue
            longer = (*path, relation_id)
            best[other] = min(best.get(other, longer), longer, key=lambda p: (len(p), p))
            if len(longer) < max_hops and other not in crowded:
                walk((*entities, other), longer, relation_id if into else None)

    walk((origin,), (), None)
    return {(origin, target, path) for target, path in best.items()}


@pytest.mark.parametrize("seed", range(16))
def test_shortest_paths_through_dated_homes_are_the_shortest_simple_paths_that_pass(seed):
    """Small random graphs of people, companies and flats, the homes dated at random, some stays
    and offices split into two rows: the search finds, for every entity, the smallest of the
    shortest simple paths whose home steps overlap."""
    rng = random.Random(seed)
    people, places = [f"P{i}" for i in range(6)], [f"A{i}" for i in range(3)]
    rows = []
    for i in range(16):
        start = dt.date(rng.randint(2010, 2024), 1, 1)
        end = END_OF_TIME if rng.random() < 0.3 else start + dt.timedelta(days=rng.randint(100, 2000))
        home = rng.random() < 0.7
        source = rng.choice(people) if home else rng.choice(people + ["C0", "C1"])
        rows.append((f"r{i:02d}", source, rng.choice(places) if home or rng.random() < 0.5 else "C0", start, end, home))
        if rng.random() < 0.3:  # the same tie again, in the next period: a change of job, a second register row
            rows.append((f"r{i:02d}b", source, rows[-1][2], end, END_OF_TIME, home))
    table = pl.DataFrame(rows, schema=["relation_id", "from_entity", "to_entity", "start", "end", "home"], orient="row")
    edges, together = table.select("relation_id", "from_entity", "to_entity"), table.filter("home")
    for origin in ("P0", "C0"):
        for max_hops, max_degree in ((4, 4), (6, 25)):
            found = shortest_paths([origin], edges, max_hops, max_degree, together=together)
            expected = _dated_paths_by_definition(origin, edges, together, max_hops, max_degree)
            assert {(o, t, tuple(p)) for o, t, p in found.iter_rows()} == expected


def _ties(rows):
    table = pl.DataFrame(rows, schema=["relation_id", "from_entity", "to_entity", "start", "end"], orient="row")
    return table.select("relation_id", "from_entity", "to_entity"), table.filter(pl.col("start").is_not_null())


def test_a_path_never_enters_an_entity_twice():
    """The operator lived at the flat A in 2015 (h1), a company C has two office rows there (k9,
    k9b), the front man lives there from 2022 (h2). Out of the flat to C and back in over either
    office row would enter the flat with no period and reach the front man: no path. C entered
    first over another relation (an officer of C who shares a company D with the operator) may go
    on over the office: the front man is reached over it, a path with no entity twice."""
    rows = [("h1", "P-op", "A", dt.date(2015, 1, 1), dt.date(2015, 12, 31)),
            ("h2", "P-front", "A", dt.date(2022, 6, 1), END_OF_TIME), ("k9", "C", "A", None, None),
            ("k9b", "C", "A", None, None), ("o1", "P-op", "D", None, None), ("o2", "P-x", "D", None, None),
            ("o3", "P-x", "C", None, None)]
    walkable, together = _ties(rows)

    def reached(edges):
        return {target: path for _, target, path in shortest_paths(["P-op"], edges, 5, 25, together=together).rows()}

    assert reached(walkable.filter(~pl.col("relation_id").is_in(["o1", "o2", "o3"]))) == {"A": ["h1"], "C": ["h1", "k9"]}
    assert reached(walkable)["P-front"] == ["o1", "o2", "o3", "k9", "h2"]


def test_a_place_entered_first_in_another_period_is_passed_later_over_an_office():
    """P0 reaches the flat A a step sooner over a 2015 stay (h1) and over a company Q registered
    there from 2022 (hq); later, over a company C with its office there (k), with no period. Only
    that last entry reaches T, who lived there in 2010, over the path ['o1', 'o2', 'o3', 'k', 'ht']:
    the earlier entries into the flat must not hide it."""
    rows = [("h1", "P0", "A", dt.date(2015, 1, 1), dt.date(2015, 12, 31)), ("k", "C", "A", None, None),
            ("o1", "P0", "D", None, None), ("o2", "P5", "D", None, None), ("o3", "P5", "C", None, None),
            ("m", "P0", "Q", None, None), ("hq", "Q", "A", dt.date(2022, 1, 1), END_OF_TIME),
            ("ht", "T", "A", dt.date(2010, 1, 1), dt.date(2010, 12, 31))]
    walkable, together = _ties(rows)
    found = shortest_paths(["P0"], walkable, 5, 25, together=together)
    assert {(o, t, tuple(p)) for o, t, p in found.iter_rows()} == _dated_paths_by_definition("P0", walkable, together, 5, 25)
    assert found.filter(pl.col("target") == "T").get_column("path").to_list() == [["o1", "o2", "o3", "k", "ht"]]


def test_shortest_paths_from_no_origin_are_none(sample):
    _, edges = sample
    assert shortest_paths([], edges, 5, 25).schema == {"origin": pl.String(), "target": pl.String(),
                                                       "path": pl.List(pl.String())}


def test_the_run_reads_only_the_columns_the_rules_need(sample):
    """``compute_indicators`` hands the rules the edges of allowed purposes with only the columns
    they read: the hits of every rule run on the whole filtered table, every column kept."""
    nodes, edges = sample
    for allowed in (allowed_source_purposes(DEFAULT_RUN_PURPOSE), {"fiscal_supervision", "company_register"}):
        plain = edges.filter(pl.col("purpose").is_in(list(allowed)))
        expected = pl.concat([graded_hits(name, nodes, plain, None, weak=spec.weak_thresholds)
                              for name, spec in INDICATORS.items() if name != "identity_conflict"])
        found = compute_indicators(nodes, edges, allowed_purposes=allowed)
        assert_frame_equal(found, expected.sort("indicator", "focus_entity", "grade"))
        assert readable_edges(edges, allowed).width < edges.width


def test_evidence_is_found_by_binary_search_in_sorted_ids_as_by_lookup(graph):
    """The graph stage's relation and entity ids are sorted, and compute_indicators then finds every
    hit's evidence and focus by binary search: the hits (partners included) are those found in
    shuffled tables."""
    from mhgraph.indicators.registry import rows_named

    nodes, edges = graph
    allowed = allowed_source_purposes(DEFAULT_RUN_PURPOSE)
    assert edges.get_column("relation_id").is_sorted() and nodes.get_column("entity_id").is_sorted()
    sorted_hits = compute_indicators(nodes, edges, allowed_purposes=allowed)
    shuffled = edges.sample(fraction=1.0, shuffle=True, seed=3)
    assert not shuffled.get_column("relation_id").is_sorted()
    assert_frame_equal(sorted_hits, compute_indicators(nodes.sample(fraction=1.0, shuffle=True, seed=4), shuffled,
                                                       allowed_purposes=allowed))
    assert sorted_hits.filter(pl.col("partners").list.len() > 0).height > 100
    # repeated ids and ids the table lacks: the rows of the lookup, every one
    repeated = pl.concat([edges.head(50), edges.slice(20, 10)]).sort("relation_id")
    wanted = pl.concat([repeated.get_column("relation_id").slice(15, 20), pl.Series(["no such relation"])])
    assert repeated.get_column("relation_id").flags["SORTED_ASC"]
    assert_frame_equal(rows_named(repeated, "relation_id", wanted).sort(pl.all()),
                       repeated.filter(pl.col("relation_id").is_in(wanted.implode())).sort(pl.all()))


def _periods(edges: pl.DataFrame, relation_type: str) -> list[tuple]:
    return [(r["relation_id"], r["from_entity"], r["to_entity"], r["valid_from"] or BEGINNING, r["valid_to"] or END_OF_TIME)
            for r in edges.filter(pl.col("type") == relation_type).iter_rows(named=True)]


def _linked_premises_by_definition(edges):
    """(employer, address) of every premises of another company sharing an officer with the
    employer, on a day both offices were held and the premises in use, at an address where an
    employee of the employer lived."""
    addresses, sites, offices = defaultdict(set), defaultdict(list), defaultdict(list)
    for _, person, address, _, _ in _periods(edges, "REGISTERED_AT"):
        addresses[person].add(address)
    homes = {(company, address) for _, person, company, _, _ in _periods(edges, "EMPLOYED_BY")
             for address in addresses[person]}
    for _, company, address, start, end in _periods(edges, "LOCATED_AT"):
        sites[company].append((address, start, end))
    for _, officer, company, start, end in _periods(edges, "OFFICER_OF"):
        offices[officer].append((company, start, end))
    found = set()
    for held in offices.values():
        for company, start, end in held:
            for sister, sister_start, sister_end in held:
                found |= {(company, address) for address, site_start, site_end in sites[sister]
                          if company != sister and (company, address) in homes
                          and max(start, sister_start, site_start) <= min(end, sister_end, site_end)}
    return found


def test_linked_premises_are_those_of_their_definition(graph):
    from mhgraph.indicators.housing import _linked_premises
    from mhgraph.indicators.tables import employments, registrations, with_period

    nodes, edges = graph
    located = with_period(edges.filter(pl.col("type") == "LOCATED_AT")).select(
        company="from_entity", address="to_entity", place_start="start", place_end="end",
        place_evidence=pl.concat_list("relation_id"))
    offices = with_period(edges.filter(pl.col("type") == "OFFICER_OF")).select(
        officer="from_entity", company="to_entity", office="relation_id", office_start="start", office_end="end")
    premises = _linked_premises(employments(edges), registrations(edges), offices, located)
    assert set(premises.select("company", "address").iter_rows()) == _linked_premises_by_definition(edges)


@pytest.mark.parametrize("level", ["shipped", "weak as full"])
def test_rules_sharing_derived_tables_find_what_each_finds_alone(sample, level):
    """compute_indicators hands the rules one SharedTables per graph; each rule called alone
    derives the same tables itself: the hits must be the same, row for row."""
    from mhgraph.indicators.housing import SharedTables

    nodes, edges = sample
    sharing = [name for name, spec in INDICATORS.items() if "shared" in spec.options]
    thresholds = {name: INDICATORS[name].weak_thresholds for name in sharing} if level != "shipped" else {}
    allowed = allowed_source_purposes(DEFAULT_RUN_PURPOSE)
    together = compute_indicators(nodes, edges, allowed_purposes=allowed, indicators=sharing, thresholds=thresholds)
    readable = readable_edges(edges, allowed)
    alone = pl.concat([graded_hits(name, nodes, readable, settings=thresholds.get(name, {}),
                                   weak=INDICATORS[name].weak_thresholds) for name in sharing])
    assert {"worker_lives_at_workplace", "staff_housed_together", "wage_below_minimum",
            "minimum_pay_for_few_hours"} <= set(sharing)
    assert set(together["indicator"]) == set(sharing)
    assert_frame_equal(together, alone.sort("indicator", "focus_entity", "grade"))
    shared = SharedTables(nodes, readable)
    assert shared.household_jobs.height and shared.officer_home_stays.height
    assert shared.workplaces is shared.workplaces and shared.wages_on_delivered_bands is shared.wages_on_delivered_bands


@pytest.mark.parametrize("kept_jobs", [1.0, 0.3], ids=["every job", "a third of the jobs"])
def test_periods_of_a_paying_company_are_those_of_their_definition(graph, kept_jobs):
    """A sponsorship is judged when some job at its sponsor overlaps it: for sponsorships and
    offices, the as-of join finds what the definition finds job by job, also where most jobs are
    missing."""
    from mhgraph.indicators.dependence import _paying_someone
    from mhgraph.indicators.tables import employments, with_period

    _, edges = graph
    jobs = employments(edges)
    jobs = jobs.filter(pl.int_range(pl.len()).mod(10) < kept_jobs * 10)
    day = pl.duration(days=1)
    periods = pl.concat([
        with_period(edges.filter(pl.col("type").is_in(["SPONSORED_BY", "OFFICER_OF"]))).select(
            company="to_entity", start="start", end="end"),
        # periods touching a job on its first or last day only, and missing it by one day
        jobs.select("company", start=pl.col("job_start") - 30 * day, end="job_start"),
        jobs.select("company", start="job_end", end=pl.col("job_end") + 30 * day),
        jobs.select("company", start=pl.col("job_end") + day, end=pl.col("job_end") + 30 * day),
    ]).filter((pl.col("start") <= pl.col("end")) & (pl.col("end") <= END_OF_TIME))
    by_company = defaultdict(list)
    for company, start, end in jobs.select("company", "job_start", "job_end").iter_rows():
        by_company[company].append((start, end))
    expected = [any(job_start <= end and start <= job_end for job_start, job_end in by_company[company])
                for company, start, end in periods.iter_rows()]
    assert _paying_someone(periods, jobs, "company").to_list() == expected
    assert any(expected) and not all(expected)


def test_a_job_without_a_start_or_an_end_pays_no_one():
    """A job row whose start or end is unknown overlaps no period, as in the job-by-job definition,
    and does not lend its end to the jobs that start after it."""
    from mhgraph.indicators.dependence import _paying_someone

    D = dt.date
    jobs = pl.DataFrame({"company": ["C1", "C1", "C2"], "job_start": [None, D(2020, 1, 1), D(2024, 1, 1)],
                         "job_end": [D(2030, 1, 1), D(2020, 1, 2), None]})
    periods = pl.DataFrame({"company": ["C1", "C1", "C2"], "start": [D(2025, 1, 1), D(2019, 6, 1), D(2025, 1, 1)],
                            "end": [D(2026, 1, 1), D(2020, 1, 1), D(2026, 1, 1)]})
    assert _paying_someone(periods, jobs, "company").to_list() == [False, True, False]


BUCKETED = ("worker_lives_at_workplace", "staff_housed_together", "wage_below_minimum", "minimum_pay_for_few_hours")


@pytest.mark.parametrize("dtype", [pl.String, pl.Enum([f"C{i}" for i in range(40)]), pl.Categorical])
def test_every_row_lands_in_one_bucket_with_all_rows_of_its_key(dtype):
    rows = pl.DataFrame({"company": [f"C{i % 40}" for i in range(1000)], "row": range(1000)},
                        schema_overrides={"company": dtype})
    parts = []

    def keep(part: pl.DataFrame) -> pl.DataFrame:
        parts.append(part)
        return part

    together = per_bucket(rows, "company", keep, buckets=7)
    assert len(parts) == 7 and sum(part.height > 0 for part in parts) > 1
    assert_frame_equal(together.sort("row"), rows)  # none lost, none twice
    keys = [set(part.get_column("company").cast(pl.String)) for part in parts]
    assert sum(map(len, keys)) == len(set().union(*keys)) == 40  # a key's rows share one bucket


def test_one_bucket_is_the_whole_table_and_the_default_follows_the_row_count():
    rows = pl.DataFrame({"company": ["C1", "C2"]})
    assert per_bucket(rows, "company", lambda part: part.with_columns(rows=pl.lit(part.height))).get_column(
        "rows").to_list() == [2, 2]
    assert [bucket_count(n, 100) for n in (0, 1, 100, 101, 1000)] == [1, 1, 1, 2, 10]


@pytest.mark.parametrize("name", BUCKETED)
def test_a_rule_finds_the_same_hits_in_one_bucket_and_in_several(graph, name):
    nodes, edges = graph
    edges = readable_edges(edges, allowed_source_purposes(DEFAULT_RUN_PURPOSE))
    spec = INDICATORS[name]

    def hits(buckets: int) -> pl.DataFrame:
        shared = SharedTables(nodes, edges, buckets)
        return graded_hits(name, nodes, edges, settings={"shared": shared, "buckets": buckets},
                           weak=spec.weak_thresholds)

    whole = hits(1)
    assert whole.height > 0  # something to lose
    for buckets in (2, 7):
        assert_frame_equal(hits(buckets), whole)


def test_the_stays_at_officers_homes_are_the_same_in_one_bucket_and_in_several(graph):
    nodes, edges = graph
    whole = SharedTables(nodes, edges, 1).officer_home_stays
    assert whole.height > 0
    for buckets in (2, 7):
        parts = SharedTables(nodes, edges, buckets).officer_home_stays
        assert_frame_equal(parts.sort(parts.columns), whole.sort(whole.columns))


COUNTED = [name for name, spec in INDICATORS.items() if spec.counts]


def _graded_as_on_their_own(name, alone, nodes, edges, levels, monkeypatch):
    """Assert that rule ``name`` grades the same hits as ``alone`` (the rule without what it shares
    between its levels) at each ``(settings, weak)`` of ``levels``, and that both grades were found."""
    grades = set()
    for settings, weak in levels:
        shared = graded_hits(name, nodes, edges, settings=settings, weak=weak)
        with monkeypatch.context() as patched:
            patched.setitem(INDICATORS, name, alone)
            apart = graded_hits(name, nodes, edges, settings=settings, weak=weak)
        assert_frame_equal(shared, apart)
        grades |= set(shared.get_column("grade"))
    assert grades == {"full", "weak"}  # both levels found something: the comparison can fail


# the generated world is too small to hold a sponsor of several migrants at once
COUNTED_ON = [(name, graph) for name in COUNTED for graph in ("sample", "world")
              if (name, graph) != ("sponsor_of_many_migrants", "world")]


@pytest.mark.parametrize(("name", "graph_name"), COUNTED_ON)
def test_a_rule_run_once_for_both_levels_finds_what_each_level_finds_on_its_own(name, graph_name, monkeypatch,
                                                                                 request):
    """A rule whose weak level only lowers thresholds on a count (``counts``) runs once, at the weak
    level, its full hits picked out by count: the hits must be those of running it at each level on
    its own (the same rule with no ``counts``), for levels on either side of the counts found."""
    nodes, edges = request.getfixturevalue(graph_name)
    edges = readable_edges(edges, allowed_source_purposes(DEFAULT_RUN_PURPOSE))
    spec = INDICATORS[name]
    (threshold, fact), = spec.counts.items()
    lowest = {threshold: 1}
    counts = sorted(set(spec.find(nodes, edges, **{**spec.find.__kwdefaults__, **lowest}).get_column(fact)))
    assert len(counts) > 1  # counts on both sides of a level in between: something to tell apart
    levels = [(spec.thresholds, spec.weak_thresholds)] + [
        ({threshold: full}, {threshold: weak}) for weak, full in ((counts[0], counts[1]), (counts[0], counts[-1]),
                                                                   (counts[1], counts[-1] + 1), (1, counts[-1]))]
    _graded_as_on_their_own(name, dataclasses.replace(spec, counts={}), nodes, edges, levels, monkeypatch)


def test_a_weak_level_above_the_full_one_runs_each_level_on_its_own(sample):
    """Picking full hits out of weak ones holds only for a weak level at or under the full one."""
    nodes, edges = sample
    hits = graded_hits("crowded_address", nodes, edges, settings={"min_persons": 2}, weak={"min_persons": 9})
    assert_frame_equal(hits.filter(pl.col("grade") == "full").drop("grade"),
                       INDICATORS["crowded_address"].function(nodes, edges, min_persons=2))
    assert hits.filter(pl.col("grade") == "full").height > 0


def test_a_search_grown_depth_by_depth_finds_the_paths_of_a_search_to_each_depth(graph):
    """A kept search asked for depths in any order gives at each the paths of a search to that depth alone."""
    nodes, edges = graph
    walkable = edges.filter(pl.col("type") != "SPONSORED_BY")
    origins = nodes.filter(pl.col("entity_type") == "person").get_column("entity_id").head(40)
    search = PathSearch(origins, walkable, max_degree=25)
    for max_hops in (3, 1, 5, 2, 7, 4):
        alone = shortest_paths(origins, walkable, max_hops, 25)
        assert alone.height > 0
        assert_frame_equal(search.paths(max_hops), alone)


def test_a_search_kept_between_levels_finds_the_hits_of_each_level_searched_on_its_own(graph, monkeypatch):
    nodes, edges = graph
    name = "link_to_earlier_refusal"
    spec = INDICATORS[name]
    edges = readable_edges(edges, allowed_source_purposes(DEFAULT_RUN_PURPOSE))
    alone = dataclasses.replace(spec, options=tuple(o for o in spec.options if o != "between_levels"))
    levels = ((spec.thresholds, spec.weak_thresholds), ({"max_hops": 2}, {"max_hops": 6}),
              ({"max_hops": 6}, {"max_hops": 3, "max_days": 4000}))
    _graded_as_on_their_own(name, alone, nodes, edges, levels, monkeypatch)
