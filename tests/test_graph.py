import datetime as dt
import gc
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import networkx as nx
import polars as pl
import pyarrow.parquet as pq
import pytest

from graph_fixtures import D, Registers, population
from mhgraph.errors import InputError
from mhgraph.graph import (EDGES_ROW_GROUP_SIZE, EDGE_COLUMNS, EDGE_SCHEMA, ENTITY_TYPE, MENTION_COLUMNS,
                           NODE_COLUMNS, NODE_SCHEMA, build_graph_tables, to_networkx)


@pytest.fixture(scope="module")
def stage_tables():
    return population().tables()


@pytest.fixture(scope="module")
def graph_tables(stage_tables):
    return build_graph_tables(*stage_tables)


def test_every_node_knows_its_partners_sources_purposes_and_mentions(stage_tables, graph_tables):
    mentions, _, resolution = stage_tables
    nodes, _ = graph_tables
    assert nodes.columns == list(NODE_COLUMNS)
    assert nodes.height == resolution.get_column("entity_id").n_unique()
    for column in ("partners", "sources", "purposes"):
        assert nodes.get_column(column).list.len().min() >= 1
    expected = (mentions.join(resolution.select("mention_id", "entity_id"), on="mention_id")
                .group_by("entity_id").agg(pl.col("partner").unique().sort(), n=pl.len()))
    joined = nodes.join(expected, on="entity_id")
    assert joined.height == nodes.height
    assert (joined.get_column("partners") == joined.get_column("partner")).all()
    assert (joined.get_column("mention_count") == joined.get_column("n")).all()
    agency = nodes.filter(pl.col("entity_id") == "C-agency").row(0, named=True)
    assert agency["partners"] == ["belastingdienst", "ind", "kvk"]
    assert agency["purposes"] == ["company_register", "fiscal_supervision", "immigration_supervision"]
    assert agency["sbi_code"] == "7820" and agency["registered_on"] == D(2022, 2, 1)


def test_every_edge_keeps_its_relation_provenance_dates_and_properties(stage_tables, graph_tables):
    _, relations, _ = stage_tables
    _, edges = graph_tables
    assert edges.columns == list(EDGE_COLUMNS)
    assert edges.height == relations.height
    for column in ("relation_id", "type", "from_entity", "to_entity", "source", "partner", "purpose", "record_id"):
        assert edges.get_column(column).null_count() == 0, column
    job = edges.filter(
        pl.col("relation_id") == "belastingdienst_loonaangifte/p-agency0/EMPLOYED_BY/werknemer/werkgever")
    assert job.select("from_entity", "to_entity", "valid_from", "valid_to", "wage", "hours", "contract_type",
                      "partner", "purpose", "record_id").row(0) == (
        "P-agency00", "C-agency", D(2024, 1, 1), D(2024, 6, 30), 520 * 7.10, 520.0, "uitzend",
        "belastingdienst", "fiscal_supervision", "p-agency0")
    office = edges.filter(pl.col("relation_id") == "kvk_functionarissen/o-straw0/OFFICER_OF/functionaris/bedrijf")
    assert office.select("from_entity", "to_entity", "role").row(0) == ("P-straw", "C-clean0", "bestuurder")


def test_provenance_and_types_are_held_as_numbers_and_read_back_as_the_same_text(stage_tables, graph_tables, tmp_path):
    _, relations, _ = stage_tables
    nodes, edges = graph_tables
    assert dict(edges.schema) == EDGE_SCHEMA and dict(nodes.schema) == NODE_SCHEMA
    assert isinstance(edges.schema["type"], pl.Enum) and isinstance(edges.schema["purpose"], pl.Enum)
    assert edges.schema["partner"] == pl.Categorical() and nodes.schema["entity_type"] == ENTITY_TYPE
    text = edges.select(pl.col("relation_id", "type", "source", "partner", "purpose").cast(pl.String))
    assert text.sort("relation_id").equals(relations.select(text.columns).sort("relation_id"))
    # stored and read back, sorted, compared and joined as the text they hold
    edges.write_parquet(tmp_path / "edges.parquet")
    stored = pl.read_parquet(tmp_path / "edges.parquet")
    assert stored.schema == edges.schema and stored.equals(edges)
    assert edges.sort("type", "relation_id").get_column("type").cast(pl.String).to_list() == sorted(
        relations.get_column("type").to_list())
    assert edges.filter(pl.col("partner") == "ind").height == relations.filter(pl.col("partner") == "ind").height > 0
    other = pl.DataFrame({"partner": ["kvk", "ind"]}, schema={"partner": pl.Categorical()})
    assert set(pl.concat([edges.select("partner"), other]).get_column("partner").unique().to_list()) == set(
        relations.get_column("partner").unique().to_list())


def test_a_relation_type_or_purpose_outside_the_declared_ones_is_refused_naming_its_row(stage_tables):
    mentions, relations, resolution = stage_tables
    with pytest.raises(InputError, match=r"row 3, column 'type': value 'OWNS' is not one of EMPLOYED_BY"):
        build_graph_tables(mentions, relations.with_columns(
            type=pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("OWNS")).otherwise("type")), resolution)
    with pytest.raises(InputError, match=r"file mentions, row 2, column 'purpose': value 'marketing'"):
        build_graph_tables(mentions.with_columns(
            purpose=pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("marketing")).otherwise("purpose")),
            relations, resolution)


def test_no_identifier_or_unmapped_column_reaches_the_graph(stage_tables):
    mentions, relations, resolution = stage_tables
    # a partner column the specs map to nothing (the IND delivers nationality) must stay out
    mentions = mentions.with_columns(nationality=pl.lit("XYZ"))
    nodes, edges = build_graph_tables(mentions, relations, resolution)
    secrets = set()
    for column in ("bsn", "v_number", "kvk_number", "given_name_bf", "family_name_bf", "birth_date_bf", "name_bf",
                   "match_key_1", "match_key_2", "address_key", "building_key"):
        secrets |= set(mentions.get_column(column).drop_nulls().to_list())
    assert len(secrets) > 300
    for table in (nodes, edges):
        assert "nationality" not in table.columns
        values = set()
        for column, dtype in table.schema.items():
            series = table.get_column(column)
            if dtype == pl.String:
                values |= set(series.drop_nulls().to_list())
            elif isinstance(dtype, pl.List):
                values |= set(series.explode().drop_nulls().cast(pl.String).to_list())
        assert not values & secrets
        assert "XYZ" not in values


def test_context_is_resolved_from_conflicting_mentions_without_regard_to_row_order():
    reg = Registers()
    reg.company("k1", "C-x", "A-x", D(2020, 1, 1), sbi="5610", municipality="Arnhem")
    reg.company("k2", "C-y", "A-x", D(2019, 1, 1), sbi="5610", municipality="Arnhem")
    reg.company("k3", "C-z", "A-x", D(2021, 1, 1), sbi="5610", municipality="Renkum")
    reg.sponsor("s1", "C-x", "erkend", D(2020, 3, 1))
    reg.sponsor("s2", "C-x", "geschorst", D(2023, 5, 1))
    reg.sponsor("s3", "C-x", "erkend", None)
    mentions, relations, resolution = reg.tables()
    nodes, edges = build_graph_tables(mentions, relations, resolution)
    company = nodes.filter(pl.col("entity_id") == "C-x").row(0, named=True)
    assert company["sponsor_status"] == "geschorst"  # stated on the latest date
    assert company["sponsor_status_on"] == D(2023, 5, 1)
    assert nodes.filter(pl.col("entity_id") == "A-x").get_column("municipality")[0] == "Arnhem"  # most common

    shuffled = build_graph_tables(mentions.sample(fraction=1.0, shuffle=True, seed=3),
                                  relations.sample(fraction=1.0, shuffle=True, seed=4),
                                  resolution.sample(fraction=1.0, shuffle=True, seed=5))
    assert shuffled[0].equals(nodes) and shuffled[1].equals(edges)


def test_the_type_of_an_entity_is_that_of_most_of_its_mentions_whatever_their_sources():
    # three mentions call E a company in one register; two call it an address, one each in two others
    sources = ["kvk_inschrijvingen"] * 3 + ["ind_referenten", "gemeente_arnhem_vergunningen"]
    mentions = pl.DataFrame({
        "mention_id": [f"m{i}" for i in range(5)], "entity_type": ["company"] * 3 + ["address"] * 2,
        "source": sources, "partner": [s.split("_")[0] for s in sources], "purpose": ["company_register"] * 5,
        "record_id": [str(i) for i in range(5)]})
    resolution = pl.DataFrame({"mention_id": [f"m{i}" for i in range(5)], "entity_id": ["E"] * 5,
                               "entity_type": ["company"] * 5})
    relations = pl.DataFrame(schema={c: pl.String for c in ("relation_id", "type", "from_mention", "to_mention",
                                                            "source", "partner", "purpose", "record_id")})
    nodes, _ = build_graph_tables(mentions, relations, resolution)
    assert nodes.select("entity_type", "partners", "mention_count").row(0) == (
        "company", ["gemeente", "ind", "kvk"], 5)


def test_the_sample_graph_is_what_a_row_by_row_reading_of_its_tables_gives(sample_export):
    """The nodes and edges of the run over data/sample, recomputed one row at a time in plain Python."""
    out, result = sample_export
    mentions = pl.read_parquet(out / "tables" / "mentions.parquet", columns=list(MENTION_COLUMNS))
    relations = pl.read_parquet(out / "tables" / "relations.parquet")
    entity_of = dict(result.tables["resolution"].select("mention_id", "entity_id").iter_rows())
    rows_of = defaultdict(list)
    for row in mentions.iter_rows(named=True):
        rows_of[entity_of[row["mention_id"]]].append(row)

    def most_common(rows, column):
        counts = Counter(row[column] for row in rows if row[column] is not None)
        return min(counts, key=lambda value: (-counts[value], value)) if counts else None

    def latest(rows, column, by):  # undated statements count as oldest; ties go to the smallest value
        stated = [((row[by] is not None, row[by] or dt.date.min), row[column]) for row in rows
                  if row[column] is not None]
        return min(value for when, value in stated if when == max(stated)[0]) if stated else None

    def extreme(rows, column, pick):
        values = [row[column] for row in rows if row[column] is not None]
        return pick(values) if values else None

    expected = [
        (entity, most_common(rows, "entity_type"), *(sorted({row[c] for row in rows}) for c in
                                                      ("partner", "source", "purpose")),
         len(rows), most_common(rows, "municipality"), most_common(rows, "sbi_code"),
         most_common(rows, "legal_form"), extreme(rows, "registered_on", min), extreme(rows, "dissolved_on", max),
         latest(rows, "sponsor_status", "sponsor_status_on"), extreme(rows, "sponsor_status_on", max),
         most_common(rows, "permit_type"), latest(rows, "permit_status", "decided_on"),
         latest(rows, "bibob_outcome", "decided_on"), extreme(rows, "decided_on", max))
        for entity, rows in sorted(rows_of.items())
    ]
    assert len(expected) > 5_000
    assert result.tables["nodes"].rows() == expected
    assert result.tables["edges"].select("relation_id", "from_entity", "to_entity").rows() == sorted(
        (relation, entity_of[start], entity_of[end])
        for relation, start, end in relations.select("relation_id", "from_mention", "to_mention").iter_rows())


def test_relations_read_from_a_scan_give_the_same_tables(stage_tables, graph_tables, tmp_path):
    mentions, relations, resolution = stage_tables
    relations.write_parquet(tmp_path / "relations.parquet")
    nodes, edges = build_graph_tables(mentions, pl.scan_parquet(tmp_path / "relations.parquet"), resolution)
    assert nodes.equals(graph_tables[0]) and edges.equals(graph_tables[1])
    relations.with_columns(purpose=pl.when(pl.int_range(pl.len()) == 2).then(None).otherwise("purpose")).write_parquet(
        tmp_path / "broken.parquet")
    with pytest.raises(InputError, match=r"file relations, row 3, column 'purpose'.*empty"):
        build_graph_tables(mentions, pl.scan_parquet(tmp_path / "broken.parquet"), resolution)


def test_mentions_and_relations_read_from_scans_give_the_same_tables(stage_tables, graph_tables, tmp_path):
    mentions, relations, resolution = stage_tables
    mentions.write_parquet(tmp_path / "mentions.parquet")
    relations.write_parquet(tmp_path / "relations.parquet")
    nodes, edges = build_graph_tables(pl.scan_parquet(tmp_path / "mentions.parquet"),
                                      pl.scan_parquet(tmp_path / "relations.parquet"), resolution)
    assert nodes.equals(graph_tables[0]) and edges.equals(graph_tables[1])
    for column, row in (("record_id", 7), ("partner", 4)):  # a column only checked, and one the nodes read
        mentions.with_columns(pl.when(pl.int_range(pl.len()) == row - 1).then(None).otherwise(column).alias(column)
                              ).write_parquet(tmp_path / "broken.parquet")
        with pytest.raises(InputError, match=rf"file mentions, row {row}, column '{column}'.*empty"):
            build_graph_tables(pl.scan_parquet(tmp_path / "broken.parquet"), relations, resolution)


def test_edges_given_a_file_are_written_there_whole_and_come_back_without_their_mention_ids(
        stage_tables, graph_tables, tmp_path):
    """``mhgraph run`` has the graph write the edges: the file holds the whole table, the table handed
    back the same rows without the mention ids, and nothing else is left in the folder, also when a
    relation is refused after the mention ids were put in order."""
    mentions, relations, resolution = stage_tables
    relations.write_parquet(tmp_path / "relations.parquet")
    (tmp_path / "tables").mkdir()
    nodes, edges = build_graph_tables(mentions, pl.scan_parquet(tmp_path / "relations.parquet"), resolution,
                                      edges_file=tmp_path / "tables" / "edges.parquet")
    assert nodes.equals(graph_tables[0])
    assert pl.read_parquet(tmp_path / "tables" / "edges.parquet").equals(graph_tables[1])
    assert edges.equals(graph_tables[1].drop("from_mention", "to_mention")) and edges.height > 0
    assert [path.name for path in (tmp_path / "tables").iterdir()] == ["edges.parquet"]
    (tmp_path / "refused").mkdir()
    with pytest.raises(InputError, match=r"row 3, column 'type': value 'OWNS'"):
        build_graph_tables(mentions, relations.with_columns(
            type=pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("OWNS")).otherwise("type")), resolution,
            edges_file=tmp_path / "refused" / "edges.parquet")
    assert not any((tmp_path / "refused").iterdir())


def test_edges_file_may_be_named_by_text_and_its_folder_is_checked_before_the_graph_is_built(stage_tables, graph_tables,
                                                                                              tmp_path):
    mentions, relations, resolution = stage_tables
    build_graph_tables(mentions, relations, resolution, edges_file=str(tmp_path / "edges.parquet"))
    assert pl.read_parquet(tmp_path / "edges.parquet").equals(graph_tables[1])
    missing = tmp_path / "missing"
    # the relations are refused only once the graph is being built: the folder is said first
    with pytest.raises(InputError, match="folder to write the edges to does not exist") as refused:
        build_graph_tables(mentions, relations.drop("type"), resolution, edges_file=missing / "edges.parquet")
    assert refused.value.file == str(missing)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(InputError, match="not a folder"):
        build_graph_tables(mentions, relations, resolution, edges_file=tmp_path / "a_file" / "edges.parquet")


_WRITE_WIDE_EDGES = """
import hashlib, sys
from pathlib import Path
import polars as pl
sys.path.insert(0, sys.argv[2])
from graph_fixtures import population
from mhgraph.graph import build_graph_tables
mentions, relations, resolution = population().tables()
copies = 300_000 // relations.height + 1  # more rows than a row group holds
relations = pl.concat([relations.with_columns(pl.col("relation_id") + f"-{copy}") for copy in range(copies)])
build_graph_tables(mentions, relations, resolution, edges_file=Path(sys.argv[1]))
print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())
"""


def test_edges_file_has_the_same_bytes_whatever_the_thread_count(tmp_path):
    """The manifest records the file's digest: a run on another machine must write the same bytes."""
    digests = {}
    for threads in (1, 2, 8):
        edges_file = tmp_path / f"edges-{threads}.parquet"
        written = subprocess.run([sys.executable, "-c", _WRITE_WIDE_EDGES, str(edges_file), str(Path(__file__).parent)],
                                 capture_output=True, text=True, env={**os.environ, "POLARS_MAX_THREADS": str(threads)})
        assert written.returncode == 0, written.stderr
        digests[threads] = written.stdout.strip()
    assert digests[1] == digests[2] == digests[8]
    layout = pq.ParquetFile(tmp_path / "edges-1.parquet").metadata
    assert layout.num_rows > EDGES_ROW_GROUP_SIZE and layout.num_row_groups == 2


def _tables_holding(columns: set[str]) -> int:
    """How many live Polars tables hold all of ``columns`` (tables a Polars call has consumed say no columns)."""
    def held(table: pl.DataFrame) -> set[str]:
        try:
            return set(table.columns)
        except AttributeError:
            return set()
    return sum(1 for o in gc.get_objects() if isinstance(o, pl.DataFrame) and columns <= held(o))


def test_the_graph_holds_no_whole_input_table_while_it_builds(stage_tables, graph_tables, tmp_path):
    """Read from files, the mentions and relations are read a column at a time: whenever one of the
    graph's own steps starts, no table is alive that holds the mentions' ids beside their context,
    nor one with the relations' properties (the edges are put together from their columns last)."""
    mentions, relations, resolution = stage_tables
    mentions.write_parquet(tmp_path / "mentions.parquet")
    relations.write_parquet(tmp_path / "relations.parquet")
    whole = {"mentions": {"mention_id", "municipality", "sbi_code"}, "relations": {"wage", "hours", "contract_type"}}
    gc.collect()
    before = {name: _tables_holding(columns) for name, columns in whole.items()}  # the fixtures
    held = dict(before)
    graph_file = build_graph_tables.__code__.co_filename

    def look(frame, event, _):
        if event == "call" and frame.f_code.co_filename == graph_file:
            for name, columns in whole.items():
                held[name] = max(held[name], _tables_holding(columns))

    sys.setprofile(look)
    try:
        nodes, edges = build_graph_tables(pl.scan_parquet(tmp_path / "mentions.parquet"),
                                          pl.scan_parquet(tmp_path / "relations.parquet"), resolution.clone())
    finally:
        sys.setprofile(None)
    assert nodes.equals(graph_tables[0]) and edges.equals(graph_tables[1])
    assert held == before


def test_bad_input_names_table_row_and_column(stage_tables):
    mentions, relations, resolution = stage_tables
    with pytest.raises(InputError, match=r"file resolution, row \d+, column 'mention_id'.*more than once"):
        build_graph_tables(mentions, relations, pl.concat([resolution, resolution.head(1)]))
    with pytest.raises(InputError, match=rf"file mentions, row {mentions.height + 1}, column 'mention_id'.*more than"):
        build_graph_tables(pl.concat([mentions, mentions.head(1)]), relations, resolution)
    with pytest.raises(InputError, match=rf"file relations, row {relations.height + 1}, column 'relation_id'.*more"):
        build_graph_tables(mentions, pl.concat([relations, relations.tail(1)]), resolution)
    with pytest.raises(InputError, match=r"file mentions, row 1, column 'mention_id'.*no entity"):
        build_graph_tables(mentions, relations, resolution.filter(pl.col("mention_id") != mentions["mention_id"][0]))
    broken = relations.with_columns(
        to_mention=pl.when(pl.int_range(pl.len()) == 4).then(pl.lit("nowhere/1/x")).otherwise("to_mention"))
    with pytest.raises(InputError, match=r"file relations, row 5, column 'to_mention'.*nowhere/1/x"):
        build_graph_tables(mentions, broken, resolution)
    with pytest.raises(InputError, match=r"column 'partner'.*lacks the required"):
        build_graph_tables(mentions.drop("partner"), relations, resolution)
    with pytest.raises(InputError, match=r"file relations, row 3, column 'purpose'.*empty"):
        build_graph_tables(mentions, relations.with_columns(
            purpose=pl.when(pl.int_range(pl.len()) == 2).then(None).otherwise("purpose")), resolution)
    with pytest.raises(InputError, match=r"file relations, row 6, column 'from_mention'.*empty"):
        build_graph_tables(mentions, relations.with_columns(
            from_mention=pl.when(pl.int_range(pl.len()) == 5).then(None).otherwise("from_mention")), resolution)
    with pytest.raises(InputError, match=r"file resolution, row 2, column 'entity_id'.*empty"):
        build_graph_tables(mentions, relations, resolution.with_columns(
            entity_id=pl.when(pl.int_range(pl.len()) == 1).then(None).otherwise("entity_id")))


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_a_resolution_sorted_or_not_gives_the_same_graph_and_the_same_refusals(stage_tables, graph_tables, order):
    """The resolvers write the resolution sorted by mention id, which the graph searches instead of
    joining: either order builds the same tables, and a mention resolved twice or not at all is
    refused at its row either way."""
    mentions, relations, resolution = stage_tables
    resolution = (resolution.sort("mention_id") if order == "sorted"
                  else resolution.sample(fraction=1.0, shuffle=True, seed=5))
    assert resolution.get_column("mention_id").is_sorted() == (order == "sorted")
    nodes, edges = build_graph_tables(mentions, relations, resolution)
    assert nodes.equals(graph_tables[0]) and edges.equals(graph_tables[1])
    twin = resolution.with_row_index("_i").filter(pl.col("_i") == 3).drop("_i")
    doubled = pl.concat([resolution, twin])
    doubled = doubled.sort("mention_id", maintain_order=True) if order == "sorted" else doubled
    row = doubled.get_column("mention_id").is_duplicated().arg_true()[1] + 1  # the second of the two
    with pytest.raises(InputError, match=rf"file resolution, row {row}, column 'mention_id'.*more than once"):
        build_graph_tables(mentions, relations, doubled)
    missing = mentions["mention_id"][7]
    with pytest.raises(InputError, match=r"file mentions, row 8, column 'mention_id'.*no entity"):
        build_graph_tables(mentions, relations, resolution.filter(pl.col("mention_id") != missing))
    with pytest.raises(InputError, match=rf"file mentions, row {mentions.height + 1}, column 'mention_id'.*more than"):
        build_graph_tables(pl.concat([mentions, mentions.slice(2, 1)]), relations, resolution)


def test_to_networkx_keeps_parallel_relations_and_every_attribute(graph_tables):
    nodes, edges = graph_tables
    graph = to_networkx(nodes, edges)
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.number_of_nodes() == nodes.height and graph.number_of_edges() == edges.height
    for _, attributes in graph.nodes(data=True):
        assert attributes["partners"] and attributes["purposes"] and attributes["sources"]
    for _, _, key, attributes in graph.edges(keys=True, data=True):
        assert key == attributes["relation_id"] and attributes["partner"] and attributes["purpose"]
    # a washer worked for the old and the new car wash, and was registered at home twice
    assert len(graph["P-washer0"]["A-washerhome0"]) == 2
    job = graph.edges["P-washer0", "C-wash-new",
                      "belastingdienst_loonaangifte/p-wash0-1/EMPLOYED_BY/werknemer/werkgever"]
    assert job["valid_from"] == dt.date(2024, 4, 15) and job["hours"] == 1300.0
    assert graph.nodes["C-agency"]["partners"] == ["belastingdienst", "ind", "kvk"]


def test_to_networkx_refuses_edges_to_unknown_entities(graph_tables):
    nodes, edges = graph_tables
    with pytest.raises(InputError, match=r"file edges, row \d+, column 'to_entity'.*A-crowd"):
        to_networkx(nodes.filter(pl.col("entity_id") != "A-crowd"), edges)

