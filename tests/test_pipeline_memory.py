"""What a run holds when: a stage lets go of the tables no later stage reads, and a detection
process of its own reads its columns from the run's files instead of being sent a copy.

Observed in real runs on data/sample: the tables alive in the process are looked up (``gc``)
when the pipeline logs the start of a stage."""

import gc
import json
import logging
import weakref
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mhgraph.detect import detect_communities
from mhgraph.executor import ProcessExecutor, SerialExecutor
from mhgraph.graph import build_graph_tables
from mhgraph.partition import DEFAULT_UNIT_SIZE
from mhgraph.pipeline import DETECT_AND_INDICATORS, detect_stored, run_pipeline
from mhgraph.planted import planted_cell_graph

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
RESOLUTION_COLUMNS = ["mention_id", "entity_id", "entity_type"]
MATCHES_COLUMNS = ["mention_a", "mention_b", "entity_type", "blocked_by", "score", "decision", "reason"]


def _alive(columns: list[str]) -> int:
    """How many Polars tables with these columns (and perhaps more) the process holds."""
    return sum(1 for o in gc.get_objects() if isinstance(o, pl.DataFrame) and set(columns) <= set(o.columns))


class WhenLogged(logging.Handler):
    """Calls ``look()`` when a logger's message starts with ``start`` and keeps what it saw."""

    def __init__(self, start: str, look):
        super().__init__()
        self.start, self.look, self.seen = start, look, []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(self.start):
            self.seen.append(self.look())


@pytest.fixture
def watching():
    handlers = []

    def watch(logger: str, start: str, look):
        handler = WhenLogged(start, look)
        logging.getLogger(logger).addHandler(handler)
        logging.getLogger(logger).setLevel(logging.INFO)
        handlers.append((logger, handler))
        return handler

    yield watch
    for logger, handler in handlers:
        logging.getLogger(logger).removeHandler(handler)


@pytest.mark.parametrize("resolver", ["exact", "full"])
def test_the_resolution_and_matches_are_not_held_while_detection_and_the_rules_run(tmp_path, watching, resolver):
    """``mhgraph run`` writes the resolution and matches when resolution is done and lets them go
    after the graph, also from the full resolver's result; the export, the diagnostics and the saved
    model read them again, so the run's tables are all there."""
    held_elsewhere = (_alive(RESOLUTION_COLUMNS), _alive(MATCHES_COLUMNS))  # by an earlier run, say
    during = watching("mhgraph.pipeline", f"{DETECT_AND_INDICATORS} ...",
                      lambda: (_alive(RESOLUTION_COLUMNS), _alive(MATCHES_COLUMNS)))
    # the full resolver writes each type's matches once it is clustered: the persons are
    # resolved without the matches of the companies and addresses in memory
    persons = watching("mhgraph.resolve", "person: resolving", lambda: _alive(MATCHES_COLUMNS))
    result = run_pipeline(SAMPLE, tmp_path / "run", resolver=resolver, executor="serial")
    assert during.seen == [held_elsewhere]
    assert persons.seen == ([held_elsewhere[1]] if resolver == "full" else [])
    resolution = result.tables["resolution"]  # read again from the run's file
    assert resolution.columns == RESOLUTION_COLUMNS and resolution.height == result.manifest["counts"]["resolution"]
    assert resolution.height == result.tables["mentions"].height
    if resolver == "full":  # the diagnostics and the saved model read every mention and every compared pair
        assert sum(row["mentions"] for row in result.manifest["resolution"]) == resolution.height
        model = json.loads((result.out_dir / "resolve" / "model.json").read_text())
        assert sum(row["pairs"] for row in model["blocking"]) == result.manifest["counts"]["matches"] > 0


@pytest.mark.parametrize("resolver", ["exact", "full"])
def test_the_export_reads_the_resolution_of_the_shown_mentions_not_the_whole_table(tmp_path, watching, resolver):
    """The export needs the entity of the few mentions the top clusters show: the run hands it a scan of
    the stored resolution, so the table (some 3 GB at five million persons) is not read back for it; the
    full resolver's diagnostics read it before and let it go."""
    whole = []  # the number of mentions, once the run has counted them

    def resolutions() -> int:  # tables of the resolution's columns with a row for every mention
        return sum(1 for o in gc.get_objects() if isinstance(o, pl.DataFrame) and
                   set(RESOLUTION_COLUMNS) <= set(o.columns) and o.height >= whole[0])

    counted = watching("mhgraph.pipeline", "graph ...", lambda: whole.append(
        pl.scan_parquet(next(tmp_path.glob("**/tables/mentions.parquet"))).select(pl.len()).collect().item()))
    exporting = watching("mhgraph.pipeline", "export ...", resolutions)
    pictured = watching("mhgraph.export", "picture of cluster", resolutions)
    manifest = run_pipeline(SAMPLE, tmp_path / "run", resolver=resolver, executor="serial").manifest
    gc.collect()  # the result let go: what is left is held by an earlier run, say
    held_elsewhere = resolutions()
    assert len(counted.seen) == 1 and whole == [manifest["counts"]["resolution"]]
    assert exporting.seen == [held_elsewhere] and manifest["top"] > 0
    assert pictured.seen == [held_elsewhere] * manifest["top"]
    if resolver == "full":  # the diagnostics, read before the export, counted every mention all the same
        assert sum(row["mentions"] for row in manifest["resolution"]) == whole[0]


def test_the_resolver_holds_the_pairs_as_rows_of_their_mentions_and_spells_out_their_ids_as_it_writes_them(
        tmp_path, watching):
    """Comparison, scoring and clustering read each pair as the rows of its two mentions: no table
    of pairs with their mention ids (text, some 2 GB at a million persons) is held while the
    persons are clustered, and the matches written carry the ids all the same."""
    pairs = ["mention_a", "mention_b", "blocked_by"]
    held_elsewhere = _alive(pairs)  # by an earlier run, say
    clustering = watching("mhgraph.resolve.cluster", "person: ", lambda: _alive(pairs))
    result = run_pipeline(SAMPLE, tmp_path / "run", executor="serial")
    assert clustering.seen == [held_elsewhere]
    matches = result.tables["matches"]
    assert matches.columns[:4] == ["mention_a", "mention_b", "entity_type", "blocked_by"]
    mentions = result.tables["mentions"].select("mention_id", "entity_type")
    for side in ("mention_a", "mention_b"):  # every id that of a mention of the pair's type
        assert matches.join(mentions, left_on=[side, "entity_type"], right_on=["mention_id", "entity_type"]).height \
            == matches.height > 0


def _persons_held() -> int:
    """How many resolution tables (provisional or final) the process holds with a person in them."""
    return sum(1 for o in gc.get_objects() if isinstance(o, pl.DataFrame) and set(RESOLUTION_COLUMNS) <= set(o.columns)
               and (o["entity_type"] == "person").any())


def test_the_persons_pairs_hold_their_rule_in_a_byte_and_agreements_in_four_bytes_and_are_written_as_before(
        tmp_path, watching):
    """While the persons are clustered (some 20 million pairs at a million persons) each pair's
    blocking rule is an ``Enum`` of one byte, not sixteen bytes of text, and each agreement (0, 1 or
    NaN) a ``Float32``; the provisional person entities, which no type resolved later reads, are
    gone. The matches written hold the rule as text and the agreements as ``Float64``, as before."""
    def scored_tables() -> dict[int, pl.DataFrame]:
        return {id(o): o for o in gc.get_objects()
                if isinstance(o, pl.DataFrame) and {"blocked_by", "score", "bsn_agree"} <= set(o.columns)}

    def look():
        scored = [o for key, o in scored_tables().items() if key not in scored_elsewhere]
        return [(o.schema["blocked_by"], o.schema["bsn_agree"]) for o in scored], _persons_held()

    scored_elsewhere, persons_elsewhere = set(scored_tables()), _persons_held()  # by an earlier run, say
    clustering = watching("mhgraph.resolve.cluster", "person: ", look)
    result = run_pipeline(SAMPLE, tmp_path / "run", executor="serial")
    [(scored, persons)] = clustering.seen
    assert scored and all(isinstance(rule, pl.Enum) and rule.categories.len() < 256 and agreement == pl.Float32
                          for rule, agreement in scored)
    assert persons == persons_elsewhere
    matches = result.tables["matches"]
    assert matches.schema["blocked_by"] == pl.String and matches.schema["bsn_agree"] == pl.Float64
    # (the pairs between two BSNs, 0.0, are not written: never_merged)
    assert set(matches.filter(pl.col("entity_type") == "person")["bsn_agree"].drop_nans().unique()) == {1.0}


def test_inside_a_run_no_second_resolve_writes_into_the_matches_file_the_run_reads(tmp_path, watching):
    """The run hands the resolver's result on as a copy (``dataclasses.replace``) that reads the
    matches from the run's file: while it lives, another resolve into that file is refused, and
    the run's matches stay those its model counts."""
    from mhgraph.errors import InputError
    from mhgraph.resolve import resolve

    mentions = pl.DataFrame({"mention_id": ["a/1/adres", "b/1/adres"], "entity_type": ["address"] * 2,
                             "address_key": ["k1", "k1"]})

    def resolve_into_the_runs_file():
        (target,) = tmp_path.glob("**/tables/matches.parquet")
        try:
            resolve(mentions, None, matches_file=target)
        except InputError as refused:
            return str(refused)
        return "written"

    tried = watching("mhgraph.pipeline", f"{DETECT_AND_INDICATORS} ...", resolve_into_the_runs_file)
    result = run_pipeline(SAMPLE, tmp_path / "run", executor="serial")
    assert len(tried.seen) == 1 and "still reads its matches" in tried.seen[0]
    model = json.loads((result.out_dir / "resolve" / "model.json").read_text())
    assert sum(row["pairs"] for row in model["blocking"]) == result.tables.height("matches") > 1


def test_the_graph_lets_go_of_a_resolution_handed_over_before_it_maps_the_relations(sample_export, watching):
    """A resolution no caller holds is let go once the mentions are numbered, before the relations
    (the graph stage's other large input) are read."""
    from mhgraph.graph import MENTION_COLUMNS

    _, result = sample_export
    mentions = result.tables["mentions"].select(MENTION_COLUMNS)
    held_elsewhere = _alive(RESOLUTION_COLUMNS)  # the shared run's own, say
    handed = [pl.read_parquet(result.out_dir / "tables" / "resolution.parquet")]
    built = watching("mhgraph.graph", "graph: ", lambda: _alive(RESOLUTION_COLUMNS))
    build_graph_tables(mentions, result.tables["relations"].lazy(), handed.pop())
    assert built.seen == [held_elsewhere]


def test_a_detection_process_of_its_own_reads_its_columns_from_the_run(tmp_path):
    """With local processes detection gets the run's tables folder, not a pickled copy of the
    graph tables, and finds the communities detection finds in the calling process."""

    class Beside(ProcessExecutor):
        def submit(self, function, *args, **kwargs):
            self.sent = args
            return super().submit(function, *args, **kwargs)

    executor = Beside(2)
    result = run_pipeline(SAMPLE, tmp_path / "run", resolver="exact", executor=executor)
    assert executor.sent[0].__name__ == "detect_stored"
    assert not any(isinstance(arg, pl.DataFrame) for arg in executor.sent)
    assert executor.sent[1].name == "tables"
    serial = run_pipeline(SAMPLE, tmp_path / "serial", resolver="exact", executor="serial")
    assert_frame_equal(result.tables["communities"], serial.tables["communities"])
    assert_frame_equal(result.tables["indicator_hits"], serial.tables["indicator_hits"])
    assert_frame_equal(detect_stored(tmp_path / "run" / "tables", seed=42, partitions=None,
                                     unit_size=DEFAULT_UNIT_SIZE), serial.tables["communities"])


def test_an_executor_that_does_not_say_where_it_runs_a_call_is_sent_the_columns(tmp_path):
    """Anything with ``map`` and ``submit`` is an executor; one without ``separate_process`` is
    sent detection's columns, as a Dask cluster is, and finds what the serial executor finds."""

    class OwnExecutor:
        def map(self, function, partitions):
            return SerialExecutor().map(function, partitions)

        def submit(self, function, *args, **kwargs):
            self.sent = args
            return SerialExecutor().submit(function, *args, **kwargs)

    executor = OwnExecutor()
    result = run_pipeline(SAMPLE, tmp_path / "run", resolver="exact", executor=executor)
    assert executor.sent[0].__name__ == "detect_communities"
    serial = run_pipeline(SAMPLE, tmp_path / "serial", resolver="exact", executor="serial")
    assert_frame_equal(result.tables["communities"], serial.tables["communities"])
    assert_frame_equal(result.tables["indicator_hits"], serial.tables["indicator_hits"])


@pytest.mark.parametrize(("nodes_of", "refused"), [
    pytest.param(lambda nodes: nodes.sample(fraction=1.0, shuffle=True, seed=5), False, id="not-sorted"),
    pytest.param(lambda nodes: pl.concat([nodes, nodes.head(3)]).sort("entity_id"), False, id="repeated-ids"),
    pytest.param(lambda nodes: nodes.sort("entity_id").slice(1), True, id="an-end-missing")])
def test_nodes_whose_ids_cannot_number_the_ends_are_detected_on_the_ends_text(tmp_path, nodes_of, refused):
    """Where the stored nodes' ids are not sorted and distinct, or lack an end, ``detect_stored``
    reads the ends as text: the communities, or the input error, of detection on the tables."""
    from mhgraph.errors import InputError

    nodes, edges, _ = planted_cell_graph(n_background=300, n_cells=2, seed=4)
    nodes = nodes_of(nodes)
    nodes.write_parquet(tmp_path / "nodes.parquet")
    edges.write_parquet(tmp_path / "edges.parquet")
    found = []
    for detect in (lambda: detect_stored(tmp_path, seed=1, partitions=None, unit_size=100),
                   lambda: detect_communities(nodes, edges, seed=1, unit_size=100)):
        try:
            found.append(detect())
        except InputError as error:
            found.append(str(error))
    if refused:
        assert found[0] == found[1] and "which the nodes table lacks" in found[1]
    else:
        assert_frame_equal(found[0], found[1])


def test_detection_lets_go_of_tables_handed_over_once_it_has_its_arrays(watching):
    """Leiden runs on arrays of numbers: the nodes and edges tables handed to detection (by
    ``detect_stored``, in a process of its own) are not held while it runs."""
    nodes, edges, _ = planted_cell_graph(n_background=500, n_cells=3, seed=2)
    handed = [edges, nodes]
    tables = [weakref.ref(edges), weakref.ref(nodes)]
    del nodes, edges
    done = watching("mhgraph.detect", "detect: ", lambda: [table() is None for table in tables])
    detect_communities(handed.pop(), handed.pop(), seed=1)
    assert done.seen == [[True, True]]


def test_a_run_holds_the_edges_without_their_mention_ids_and_hands_back_the_stored_table_whole(tmp_path, watching):
    """The mention ids are a third of the edges' data and only identity_conflict reads them: a run
    has the graph write them with the edges, never holding them beside the other columns, and holds
    the edges without them through the rules, rank and export."""
    from mhgraph.graph import EDGE_COLUMNS

    ends = ["from_entity", "from_mention", "to_mention"]
    held_elsewhere = _alive(ends)  # by an earlier run, say
    # the graph writes them as it builds the edges: they are not held beside the edges even then
    built = watching("mhgraph.graph", "graph: ", lambda: _alive(ends))
    during = watching("mhgraph.pipeline", f"{DETECT_AND_INDICATORS} ...", lambda: _alive(ends))
    ranking = watching("mhgraph.pipeline", "rank ...", lambda: _alive(ends))
    result = run_pipeline(SAMPLE, tmp_path / "run", resolver="exact", executor="serial")
    assert built.seen == during.seen == ranking.seen == [held_elsewhere]
    edges = result.tables["edges"]  # read again from the run's file
    assert edges.columns == list(EDGE_COLUMNS) and edges.get_column("from_mention").null_count() == 0
    assert edges.height == result.manifest["counts"]["edges"] == result.tables["relations"].height


def test_a_run_holds_only_the_edge_columns_detection_and_the_rules_read_and_lets_the_edges_go_once_ranked(
        tmp_path, watching):
    """The provenance the rules never read (source, record id, contract type) waits in the file the
    graph writes; once the clusters are ranked no edges are held at all: the export reads the rows it
    shows from the file, and the documents are those of a run handed the whole table."""
    from mhgraph.export import write_outputs
    from mhgraph.pipeline import HELD_EDGE_COLUMNS

    provenance, edge = ["relation_id", "record_id"], ["relation_id", "from_entity", "type"]
    elsewhere = _alive(provenance), _alive(edge)  # by an earlier run, say
    during = watching("mhgraph.pipeline", f"{DETECT_AND_INDICATORS} ...", lambda: (_alive(provenance), _alive(edge)))
    exporting = watching("mhgraph.pipeline", "export ...", lambda: (_alive(provenance), _alive(edge)))
    result = run_pipeline(SAMPLE, tmp_path / "run", resolver="exact", executor="serial")
    assert during.seen == [(elsewhere[0], elsewhere[1] + 1)] and exporting.seen == [elsewhere]
    assert {"record_id", "source", "contract_type"}.isdisjoint(HELD_EDGE_COLUMNS)
    tables = result.tables
    whole = write_outputs(tmp_path / "whole", tables["clusters"], tables["communities"], tables["nodes"],
                          tables["edges"], tables["indicator_hits"], tables["mentions"], tables["resolution"],
                          top=min(result.manifest["top"], result.manifest["clusters_flagged"]), run_info=result.manifest)
    assert result.manifest["clusters_flagged"] > 0
    for name in ("summary", "index", *(key for key in whole if key.startswith(("cluster:", "partner:")))):
        assert whole[name].read_bytes() == result.outputs[name].read_bytes(), name


def test_identity_conflict_hits_read_the_mention_ids_from_the_stored_edges(tmp_path):
    """Held without their mention ids, the edges get those of the conflicting mentions' relations
    from the run's file: the same hits as from the whole table."""
    from mhgraph.indicators import compute_indicators
    from mhgraph.pipeline import StoredTables, _with_conflict_mentions

    nodes = pl.DataFrame({"entity_id": ["C1", "P1", "P2", "P3"], "entity_type": ["company"] + ["person"] * 3})
    edges = pl.DataFrame({"relation_id": ["loon/1", "loon/2", "loon/3", "loon/4"], "type": ["EMPLOYED_BY"] * 4,
                          "from_entity": ["P1", "P2", "P3", "P1"], "to_entity": ["C1"] * 4,
                          "from_mention": ["m1", "m2", "m3", "m4"], "to_mention": ["c1", "c2", "c3", "c4"],
                          "partner": ["belastingdienst"] * 4})
    conflicts = pl.DataFrame({"entity_type": ["person"], "key": ["bsn"], "key_value": ["h1"], "entity_a": ["P1"],
                              "entity_b": ["P2"], "mention_a": ["m4"], "mention_b": ["m2"],
                              "evidence": ["given_name_dice 0.20, birth_date_dice 0.40"]})
    tables = StoredTables({}, {})
    tables.keep(tmp_path, edges=edges, identity_conflicts=conflicts)
    held = _with_conflict_mentions(edges.drop("from_mention", "to_mention"), tables)
    assert held.get_column("from_mention").to_list() == [None, "m2", None, "m4"]
    hits = [compute_indicators(nodes, table, indicators=["identity_conflict"], identity_conflicts=conflicts)
            for table in (edges, held)]
    assert_frame_equal(hits[0], hits[1])
    assert hits[1].get_column("evidence").to_list() == [["loon/2", "loon/4"]] * 2
