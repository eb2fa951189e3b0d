"""Tests of the export stage on small, realistic stage tables that carry hostile values."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import html
import json
import math
import re
from html.parser import HTMLParser

import polars as pl
import pytest
from markdown_it import MarkdownIt

from mhgraph.errors import InputError
from mhgraph.export import write_outputs
from mhgraph.export.page import asset
from mhgraph.indicators import RANKING
from mhgraph.safe_output import neutralise_formulas, read_csv_safe

# The payloads set a marker on the page if they ever run; the browser tests look for it.
IMG_PAYLOAD = "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">"
SCRIPT_PAYLOAD = "</script><script>document.documentElement.setAttribute('data-pwned','script')</script>"
FORMULA = '=HYPERLINK("http://evil.example/x","open")'
QUOTED_REASON = 'manager "X" of 3 permits\u2028in 2 municipalities <b>bold</b> & more'
# Values that must never leave the tables: a keyed hash, a Bloom filter, a column outside the whitelist.
BSN_HASH = "9f86d081884c7d659a2feaa0c55ad015"
NAME_BLOOM = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="
PLAINTEXT_NAME = "Jan de Vries-Plaintext"


def eid(letter: str, seed: str) -> str:
    return f"{letter}-{hashlib.sha256(seed.encode()).hexdigest()[:12]}"


PERSONS = {n: eid("P", f"person{n}") for n in range(1, 9)}
COMPANIES = {n: eid("C", f"company{n}") for n in range(1, 4)}
ADDRESSES = {n: eid("A", f"address{n}") for n in range(1, 4)}
PERMITS = {n: eid("V", f"permit{n}") for n in range(1, 3)}

PURPOSE = {"belastingdienst": "fiscal_supervision", "kvk": "company_register", "ind": "immigration_supervision",
           "gemeente_arnhem": "administrative_supervision"}
SOURCE = {"belastingdienst": "belastingdienst_loonaangifte", "kvk": "kvk_functionarissen",
          "ind": "ind_verblijfsvergunningen", "gemeente_arnhem": "gemeente_arnhem_vergunningen"}


def _records():
    """(partner, record_id, {role: (entity_id, type)}, [(relation type, from role, to role, props)])."""
    day = dt.date(2024, 2, 1)
    records = []
    # Cluster 1: a farm employing four workers at low wages who live at the workplace.
    for n, record_id in zip((1, 2, 3, 4), ("L-101", "L-102", IMG_PAYLOAD, FORMULA)):
        records.append(("belastingdienst", record_id,
                        {"werkgever": (COMPANIES[1], "company"), "werknemer": (PERSONS[n], "person"),
                         "werknemer_adres": (ADDRESSES[1], "address")},
                        [("EMPLOYED_BY", "werknemer", "werkgever",
                          {"wage": 6.5 * 480, "hours": 480.0, "contract_type": "oproep"}),
                         ("REGISTERED_AT", "werknemer", "werknemer_adres", {})]))
    records.append(("kvk", "F-7", {"functionaris": (PERSONS[5], "person"), "bedrijf": (COMPANIES[1], "company"),
                                   "vestiging": (ADDRESSES[1], "address")},
                    [("OFFICER_OF", "functionaris", "bedrijf", {"role": "bestuurder"}),
                     ("LOCATED_AT", "bedrijf", "vestiging", {})]))
    for n, record_id in ((3, "I-31"), (4, "-2+3")):
        records.append(("ind", record_id, {"vreemdeling": (PERSONS[n], "person"), "referent": (COMPANIES[1], "company")},
                        [("SPONSORED_BY", "vreemdeling", "referent", {"permit_purpose": "seizoensarbeid"})]))
    # Cluster 2: two massage-salon permits managed by one person.
    for permit, record_id in ((1, "G-1"), (2, SCRIPT_PAYLOAD)):
        records.append(("gemeente_arnhem", record_id,
                        {"vergunning": (PERMITS[permit], "permit"), "beheerder": (PERSONS[6], "person"),
                         "houder_bedrijf": (COMPANIES[2], "company"), "inrichting": (ADDRESSES[2], "address")},
                        [("MANAGES", "beheerder", "vergunning", {}), ("HOLDS_PERMIT", "houder_bedrijf", "vergunning", {}),
                         ("LOCATED_AT", "vergunning", "inrichting", {})]))
    # Cluster 3: a quiet company, ranked low.
    records.append(("kvk", "F-9", {"functionaris": (PERSONS[7], "person"), "bedrijf": (COMPANIES[3], "company"),
                                   "vestiging": (ADDRESSES[3], "address")},
                    [("OFFICER_OF", "functionaris", "bedrijf", {"role": "bestuurder"}),
                     ("LOCATED_AT", "bedrijf", "vestiging", {})]))
    return day, records


CLUSTER_OF = {
    **{PERSONS[n]: "C0001" for n in (1, 2, 3, 4, 5)}, COMPANIES[1]: "C0001", ADDRESSES[1]: "C0001",
    PERSONS[6]: "C0002", COMPANIES[2]: "C0002", ADDRESSES[2]: "C0002", PERMITS[1]: "C0002", PERMITS[2]: "C0002",
    PERSONS[7]: "C0003", COMPANIES[3]: "C0003", ADDRESSES[3]: "C0003",
}


def build_tables() -> dict[str, pl.DataFrame]:
    """The seven stage tables of docs/tables.md for three clusters from four partners."""
    day, records = _records()
    mentions, resolution, edges, relations = [], [], [], []
    for partner, record_id, roles, relations_of_record in records:
        source = SOURCE[partner]
        for role, (entity_id, entity_type) in roles.items():
            mention_id = f"{source}/{record_id}/{role}"
            mentions.append({
                "mention_id": mention_id, "entity_type": entity_type, "source": source, "partner": partner,
                "purpose": PURPOSE[partner], "record_id": record_id, "row_number": len(mentions) + 1, "role": role,
                "bsn": BSN_HASH if entity_type == "person" else None,
                "given_name_bf": NAME_BLOOM if entity_type == "person" else None,
            })
            resolution.append({"mention_id": mention_id, "entity_id": entity_id, "entity_type": entity_type})
        for relation_type, from_role, to_role, props in relations_of_record:
            relations.append({
                "relation_id": f"{source}/{record_id}/{relation_type}/{from_role}/{to_role}", "type": relation_type,
                "from_mention": f"{source}/{record_id}/{from_role}", "to_mention": f"{source}/{record_id}/{to_role}",
                "valid_from": day, "source": source, "partner": partner, "purpose": PURPOSE[partner],
                "record_id": record_id, **props,
            })
            edges.append({
                "relation_id": f"{source}/{record_id}/{relation_type}/{from_role}/{to_role}",
                "type": relation_type, "from_entity": roles[from_role][0], "to_entity": roles[to_role][0],
                "valid_from": day, "valid_to": None, "source": source, "partner": partner,
                "purpose": PURPOSE[partner], "record_id": record_id, "wage": props.get("wage"),
                "hours": props.get("hours"), "contract_type": props.get("contract_type"),
                "role": props.get("role"), "permit_purpose": props.get("permit_purpose"),
            })
    mentions = pl.DataFrame(mentions)
    resolution = pl.DataFrame(resolution)
    edges = pl.DataFrame(edges, schema_overrides={"valid_to": pl.Date})
    nodes = (
        mentions.join(resolution.select("mention_id", "entity_id"), on="mention_id")
        .group_by("entity_id")
        .agg(pl.col("entity_type").first(), pl.col("partner").unique().sort().alias("partners"),
             pl.col("source").unique().sort().alias("sources"), pl.col("purpose").unique().sort().alias("purposes"),
             pl.len().alias("mention_count"))
        .with_columns(
            municipality=pl.when(pl.col("entity_id") == ADDRESSES[2]).then(pl.lit(SCRIPT_PAYLOAD))
            .when(pl.col("entity_type") == "address").then(pl.lit("Arnhem")).otherwise(None),
            sbi_code=pl.when(pl.col("entity_type") == "company").then(pl.lit("0113")).otherwise(None),
            debug_name=pl.lit(PLAINTEXT_NAME),  # a column the export does not know: must not leak
        )
        .sort("entity_id")
    )
    communities = (
        pl.DataFrame({"entity_id": list(CLUSTER_OF), "cluster_id": list(CLUSTER_OF.values())})
        .with_columns(cluster_size=pl.len().over("cluster_id").cast(pl.Int64))
    )

    def evidence(relation_type, *record_ids, partner="belastingdienst"):
        return [e["relation_id"] for e in edges.iter_rows(named=True)
                if e["type"] == relation_type and e["partner"] == partner and e["record_id"] in record_ids]

    all_four = ("L-101", "L-102", IMG_PAYLOAD, FORMULA)
    hits = pl.DataFrame([
        {"indicator": "wage_below_minimum", "version": "1", "focus_entity": COMPANIES[1], "cluster_id": "C0001",
         "reason": f"4 employees paid 6.50/h, below the minimum of 13.27/h; {FORMULA}",
         "evidence": evidence("EMPLOYED_BY", *all_four), "partners": ["belastingdienst"], "weight": 2.0},
        {"indicator": "crowded_address", "version": "1", "focus_entity": ADDRESSES[1], "cluster_id": "C0001",
         "reason": "4 persons registered at one address in the same period " + IMG_PAYLOAD,
         "evidence": evidence("REGISTERED_AT", *all_four), "partners": ["belastingdienst"], "weight": 1.5},
        {"indicator": "sponsor_of_many_labour_migrants", "version": "2", "focus_entity": COMPANIES[1],
         "cluster_id": "C0001", "reason": "sponsor of 2 labour migrants paid below the minimum",
         "evidence": evidence("SPONSORED_BY", "I-31", "-2+3", partner="ind") + ["ghost/relation/not/in/edges"],
         "partners": ["ind"], "weight": 1.0},
        {"indicator": "permits_linked_to_one_operator", "version": "1", "focus_entity": PERSONS[6],
         "cluster_id": "C0002", "reason": QUOTED_REASON,
         "evidence": evidence("MANAGES", "G-1", SCRIPT_PAYLOAD, partner="gemeente_arnhem"),
         "partners": ["gemeente_arnhem"], "weight": 1.5},
    ])
    sizes = communities.group_by("cluster_id").agg(
        size=pl.len(),
        persons=pl.col("entity_id").str.starts_with("P-").sum(),
        companies=pl.col("entity_id").str.starts_with("C-").sum(),
        addresses=pl.col("entity_id").str.starts_with("A-").sum(),
        permits=pl.col("entity_id").str.starts_with("V-").sum(),
    )
    partners = (mentions.join(resolution.select("mention_id", "entity_id"), on="mention_id")
                .join(communities, on="entity_id").group_by("cluster_id")
                .agg(partners=pl.col("partner").unique().sort()))
    scores = hits.group_by("cluster_id").agg(score=pl.col("weight").sum(), indicators=pl.col("indicator").unique().sort(),
                                              reasons=pl.col("reason").str.join("\n"))
    clusters = (
        sizes.join(partners, on="cluster_id").join(scores, on="cluster_id", how="left")
        .with_columns(score=pl.col("score").fill_null(0.0), puzzle_count=pl.col("partners").list.len(),
                      flagged=pl.col("score").fill_null(0.0) >= RANKING["flag_score"],
                      indicators=pl.col("indicators").fill_null([]), reasons=pl.col("reasons").fill_null(""))
        .sort("score", "cluster_id", descending=[True, False])
        .with_row_index("rank", offset=1)
        .select("cluster_id", pl.col("rank").cast(pl.Int64), "score", "flagged", "size", "persons", "companies", "addresses",
                "permits", "partners", "puzzle_count", "indicators", "reasons")
    )
    return {"clusters": clusters, "communities": communities, "nodes": nodes, "edges": edges, "hits": hits,
            "mentions": mentions, "resolution": resolution, "relations": pl.DataFrame(relations)}


def export(out_dir, tables=None, top=2, run_info=None, **options):
    tables = tables or build_tables()
    options.setdefault("lang", "en")
    return write_outputs(out_dir, tables["clusters"], tables["communities"], tables["nodes"], tables["edges"],
                         tables["hits"], tables["mentions"], tables["resolution"], top=top, run_info=run_info,
                         **options)


RUN_INFO = {"run_purpose": "riec_integral_assessment", "legal_ground": "RIEC covenant; WGS", "run_id": "abc123",
            "sources_used": ["belastingdienst_loonaangifte"], "inputs": [{"file": "loon.csv", "sha256": "ab" * 32}],
            "sources_excluded": [{"source": "gemeente_emmen_vergunningen", "why": "purpose bibob not permitted"}],
            "counts": {"quarantine": 3}}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    return out, export(out, run_info=RUN_INFO)


class _Page(HTMLParser):
    """Collects tags, attributes and script contents of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.scripts, self.text = [], [], [], []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value) for name, value in attrs]
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append([self._in_script, ""])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            self.scripts[-1][1] += data
        else:
            self.text.append(data)


def parse(path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def html_files(out):
    return sorted([out / "index.html", *(out / "clusters").glob("*.html")])


# --- files ---------------------------------------------------------------------------------------

def test_writes_every_output_for_the_top_clusters_only(written):
    out, paths = written
    assert set(paths) == {"clusters_parquet", "clusters_csv", "summary", "index", "cluster:C0001", "cluster:C0002",
                          "partner:belastingdienst", "partner:gemeente_arnhem", "partner:ind", "partner:kvk"}
    assert all(path.is_file() and path.stat().st_size > 0 for path in paths.values())
    assert sorted(p.name for p in (out / "clusters").iterdir()) == ["cluster_C0001.html", "cluster_C0002.html"]
    assert pl.read_parquet(paths["clusters_parquet"])["cluster_id"].to_list() == ["C0001", "C0002", "C0003"]


def test_rewrite_with_fewer_clusters_removes_stale_pictures(tmp_path):
    export(tmp_path, top=2)
    paths = export(tmp_path, top=1)
    assert sorted(p.name for p in (tmp_path / "clusters").iterdir()) == ["cluster_C0001.html"]
    assert "cluster:C0002" not in paths


def test_same_input_gives_identical_bytes_even_with_rows_shuffled(tmp_path):
    tables = build_tables()
    export(tmp_path / "a", tables)
    shuffled = {name: table.sample(fraction=1.0, shuffle=True, seed=3) for name, table in tables.items()}
    assert shuffled["edges"]["relation_id"].to_list() != tables["edges"]["relation_id"].to_list()
    export(tmp_path / "b", shuffled)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 10
    for name in files_a:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_no_clusters_still_writes_a_report(tmp_path):
    tables = build_tables()
    tables["clusters"] = tables["clusters"].clear()
    paths = export(tmp_path, tables, top=10)
    assert "No cluster to show." in paths["summary"].read_text()
    assert not list((tmp_path / "clusters").iterdir())
    assert read_csv_safe(paths["partner:kvk"]).height == 0


@pytest.mark.parametrize("scored, en, nl", [
    (1, "; it is in clusters.csv with its score and reasons.", "; het staat met zijn score en redenen in clusters.csv."),
    (2, "; they are in clusters.csv with their scores and reasons.", "; ze staan met hun score en redenen in clusters.csv."),
])
def test_where_the_scored_clusters_are_is_said_in_the_singular_for_one(scored, en, nl):
    from mhgraph.export.content import overview_blocks
    for lang, expected in (("en", en), ("nl", nl)):
        assert overview_blocks([], False, scored=scored, ranked=6, lang=lang)[1].content[0].value.endswith(expected)


def test_a_report_without_flagged_clusters_says_why_and_where_the_scored_ones_are(tmp_path):
    """A hit under the flag threshold leaves the table empty; the report says so instead of only 'nothing to show'."""
    tables = build_tables()
    tables["clusters"] = tables["clusters"].with_columns(flagged=pl.lit(False))
    scored = tables["clusters"].filter(pl.col("score") > 0).height
    run_info = {**RUN_INFO, "clusters_scored": scored, "clusters_flagged": 0}
    flag = f"{RANKING['flag_score']:.2f}"
    for lang, expected in (("en", f"No cluster flagged: no score reaches the threshold of {flag}. Clusters scoring above "
                                  f"0: {scored} of {tables['clusters'].height}; they are in clusters.csv"),
                           ("nl", f"Geen cluster gemarkeerd: geen score haalt de drempel van {flag.replace('.', ',')}. "
                                  f"Clusters met een "
                                  f"score boven 0: {scored} van de {tables['clusters'].height}")):
        paths = export(tmp_path / lang, tables, top=0, run_info=run_info, lang=lang)
        assert scored > 0 and expected in paths["summary"].read_text()
        assert expected in html.unescape(paths["index"].read_text())
    # a report asked to show none of the flagged clusters does not claim that none was flagged
    paths = export(tmp_path / "none_asked", build_tables(), top=0, run_info={**RUN_INFO, "clusters_scored": 2,
                                                                            "clusters_flagged": 2})
    assert "No cluster to show." in paths["summary"].read_text()


def test_cluster_without_hits_or_node_rows_is_still_shown(tmp_path, caplog):
    tables = build_tables()
    tables["hits"] = tables["hits"].clear()
    tables["nodes"] = tables["nodes"].filter(pl.col("entity_id") != PERSONS[5])
    paths = export(tmp_path, tables, top=1)
    assert "No indicator fired in this cluster." in paths["summary"].read_text()
    assert "1 community members have no row in the nodes table" in caplog.text
    page = parse(paths["cluster:C0001"])
    data = json.loads(next(body for attrs, body in page.scripts if attrs.get("id") == "graph-data"))
    assert {node["id"]: node["label"] for node in data["nodes"]}[PERSONS[5]] == "Entity 1"
    assert len(data["nodes"]) == 7


def test_works_on_the_graph_stage_tables(tmp_path):
    from mhgraph import graph
    tables = build_tables()
    tables["nodes"], tables["edges"] = graph.build_graph_tables(tables["mentions"], tables["relations"],
                                                                tables["resolution"])
    paths = export(tmp_path, tables)
    for cluster_id, nodes, edges in (("C0001", 7, 12), ("C0002", 5, 6)):
        page = parse(paths[f"cluster:{cluster_id}"])
        data = json.loads(next(body for attrs, body in page.scripts if attrs.get("id") == "graph-data"))
        assert (len(data["nodes"]), len(data["edges"])) == (nodes, edges)
    assert "EUR 6.50/h over 480 h" in paths["cluster:C0001"].read_text()


# --- CSV -----------------------------------------------------------------------------------------

def _csv_cells(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:  # as Dutch Excel reads it
        return [cell for row in csv.reader(handle, delimiter=";") for cell in row]


def test_csv_cells_never_start_like_a_formula(written):
    out, paths = written
    for path in [paths["clusters_csv"], *(out / "partners").glob("*.csv")]:
        for cell in _csv_cells(path):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (path.name, cell)
    belastingdienst = _csv_cells(paths["partner:belastingdienst"])
    assert "'" + FORMULA in belastingdienst
    assert "'-2+3" in _csv_cells(paths["partner:ind"])
    clusters = read_csv_safe(paths["clusters_csv"])
    assert clusters.row(0, named=True)["partners"] == "belastingdienst; ind; kvk"
    assert FORMULA in clusters.row(0, named=True)["reasons"]  # kept, as text inside the cell


def test_neutralise_formulas_handles_lists_nulls_and_leaves_numbers():
    frame = pl.DataFrame({"text": ["@SUM(A1)", "\tx", "\rx", "ok", None], "number": [-1, 2, 3, 4, 5],
                          "items": [["+1", "b"], None, [], ["=x"], ["a", None]]})
    assert neutralise_formulas(frame).rows() == [
        ("'@SUM(A1)", -1, "'+1; b"), ("'\tx", 2, None), ("'\rx", 3, ""), ("ok", 4, "'=x"), (None, 5, "a"),
    ]


# --- partner lists -------------------------------------------------------------------------------

def _listed(path):
    return read_csv_safe(path, infer_schema=False)


def _csv_text(value: str) -> str:
    return value if not value.startswith(("=", "-")) else "'" + value


def test_each_partner_list_holds_exactly_its_own_evidence_records_by_default(written):
    out, paths = written
    tables = build_tables()
    evidence = set(tables["hits"].filter(pl.col("cluster_id").is_in(["C0001", "C0002"]))["evidence"].explode())
    evidence_records = set(tables["edges"].filter(pl.col("relation_id").is_in(list(evidence)))
                           .select("source", "record_id").iter_rows())
    placed = (tables["mentions"].join(tables["resolution"].select("mention_id", "entity_id"), on="mention_id")
              .join(tables["communities"], on="entity_id").filter(pl.col("cluster_id").is_in(["C0001", "C0002"])))
    for partner in ("belastingdienst", "kvk", "ind", "gemeente_arnhem"):
        listed = _listed(paths[f"partner:{partner}"])
        assert listed.columns == ["source", "record_id", "role", "cluster_id", "entity_id", "alias"]
        expected = {(s, _csv_text(r), role, c, e) for s, r, role, c, e in
                    placed.filter(pl.col("partner") == partner)
                    .select("source", "record_id", "role", "cluster_id", "entity_id").iter_rows()
                    if (s, r) in evidence_records}
        assert set(listed.drop("alias").iter_rows()) == expected
        others = tables["mentions"].filter(pl.col("partner") != partner)
        text = paths[f"partner:{partner}"].read_text(encoding="utf-8")
        for source in others["source"].unique():
            assert source not in text
    # The KvK officer record is in the cluster but is no indicator's evidence: not listed by default.
    assert _listed(paths["partner:kvk"]).height == 0
    assert _listed(paths["partner:belastingdienst"]).height == 12  # 4 records × 3 roles


def test_full_partner_lists_on_request_hold_every_own_record_in_the_top_clusters(tmp_path):
    paths = export(tmp_path, partner_lists="all")
    tables = build_tables()
    placed = (tables["mentions"].join(tables["resolution"].select("mention_id", "entity_id"), on="mention_id")
              .join(tables["communities"], on="entity_id").filter(pl.col("cluster_id").is_in(["C0001", "C0002"])))
    for partner in ("belastingdienst", "kvk", "ind", "gemeente_arnhem"):
        expected = {(s, _csv_text(r), role, c, e) for s, r, role, c, e in placed.filter(pl.col("partner") == partner)
                    .select("source", "record_id", "role", "cluster_id", "entity_id").iter_rows()}
        assert set(_listed(paths[f"partner:{partner}"]).drop("alias").iter_rows()) == expected and expected
    kvk = _listed(paths["partner:kvk"])
    assert "F-9" not in kvk["record_id"].to_list()  # cluster C0003 is not in the top 2
    assert "every record in the clusters shown" in paths["summary"].read_text()


def test_aliases_are_the_same_in_picture_summary_and_partner_lists(written):
    out, paths = written
    listed = pl.concat([_listed(paths[f"partner:{p}"]) for p in ("belastingdienst", "ind", "gemeente_arnhem")])
    pictured = {}
    for cluster in ("C0001", "C0002"):
        data = _graph_data(out, cluster)
        pictured.update({node["id"]: node["label"] for node in data["nodes"]})
    summary = paths["summary"].read_text(encoding="utf-8")
    for entity_id, alias in listed.select("entity_id", "alias").unique().iter_rows():
        assert pictured[entity_id] == alias
    assert pictured[COMPANIES[1]] == "Employer A" and "**Employer A**" in summary
    assert pictured[PERSONS[5]] == "Director 1" and pictured[PERSONS[6]] == "Manager 1"
    assert {pictured[PERSONS[n]] for n in (1, 2, 3, 4)} == {f"Worker {n}" for n in (1, 2, 3, 4)}


# --- escaping and page safety --------------------------------------------------------------------

ALLOWED_TAGS = {"html", "head", "meta", "title", "script", "style", "body", "h1", "h2", "h3", "h4", "p", "a",
                "ul", "ol", "li", "code", "strong", "table", "thead", "tbody", "tr", "th", "td", "div", "span",
                "details", "summary", "figure", "figcaption", "header", "aside", "label", "input", "button",
                "fieldset", "legend", "output"}
# Inline SVG charts and pictures, made by the export itself.
SVG_TAGS = {"svg", "g", "rect", "line", "text", "circle", "polygon", "polyline", "path", "title"}


def test_pages_contain_only_expected_markup_whatever_the_data(written):
    out, _ = written
    for path in html_files(out):
        page = parse(path)
        assert set(page.tags) <= ALLOWED_TAGS | SVG_TAGS, (path.name, set(page.tags) - ALLOWED_TAGS - SVG_TAGS)
        assert not [a for a in page.attributes if a[1].startswith("on")], path.name
        for tag, name, value in page.attributes:
            if name in ("href", "src"):
                assert not re.match(r"[a-z]+:", value), (path.name, value)
        raw = path.read_text(encoding="utf-8")
        for payload in ("<img src=x", "<script>document", "<b>bold"):
            assert payload not in raw, (path.name, payload)
        for attrs, body in page.scripts:  # line separators would end a JavaScript string early
            assert "\u2028" not in body and "\u2029" not in body, path.name


def _graph_data(out, cluster_id):
    page = parse(out / "clusters" / f"cluster_{cluster_id}.html")
    return json.loads(next(body for attrs, body in page.scripts if attrs.get("id") == "graph-data"))


def test_hostile_values_are_shown_verbatim_as_text(written):
    out, _ = written
    index_text = "".join(parse(out / "index.html").text)
    for value in (IMG_PAYLOAD, FORMULA, "-2+3", 'manager "X" of 3 permits'):
        assert value in index_text
    data = _graph_data(out, "C0002")
    shown = "\n".join(line for item in data["nodes"] for line in item["detail"] + item["records"] + item["flags"])
    shown += "\n".join(line for item in data["edges"] for line in item["detail"])
    assert SCRIPT_PAYLOAD in shown and QUOTED_REASON in shown
    assert {node["label"] for node in data["nodes"] if not node["outside"]} == {
        "Manager 1", "Permit holder A", "Premises 1", "Permit 1", "Permit 2"}
    assert {edge["type"] for edge in data["edges"]} == {"MANAGES", "HOLDS_PERMIT", "LOCATED_AT"}


def test_summary_markdown_renders_no_html_or_formatting_from_data(written):
    _, paths = written
    text = paths["summary"].read_text(encoding="utf-8")
    assert "\u2028" not in text
    # Rendered as a viewer would, raw HTML allowed: the data must still come out as plain text.
    markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    page = _Page()
    page.feed(markdown.render(text))
    assert set(page.tags) <= (ALLOWED_TAGS | {"blockquote"}) - {"script", "style", "meta", "div", "span"}, set(page.tags)
    assert not [a for a in page.attributes if a[1] != "href"]
    assert {value for _, _, value in page.attributes} == {"clusters/cluster_C0001.html", "clusters/cluster_C0002.html"}
    shown = "".join(page.text)
    for value in (IMG_PAYLOAD, SCRIPT_PAYLOAD, FORMULA, "-2+3", "<b>bold</b> & more", "4 employees paid 6.50/h"):
        assert value in shown, value


def test_every_page_has_a_strict_csp_that_allows_exactly_its_own_scripts(written):
    out, _ = written
    for path in html_files(out):
        page = parse(path)
        raw = path.read_text(encoding="utf-8")
        policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', raw)
        assert policy and raw.index(policy.group(0)) < raw.index("<script"), path.name
        directives = dict(d.strip().split(" ", 1) for d in policy.group(1).split(";"))
        assert directives["default-src"] == "'none'" and directives["img-src"] == "data:"
        assert "unsafe" not in directives["script-src"]
        allowed = set(directives["script-src"].split())
        executable = [body for attrs, body in page.scripts if attrs.get("type") != "application/json"]
        hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
                  for b in executable}
        assert hashes == allowed, path.name


def test_no_url_a_browser_could_load(written):
    out, _ = written
    for path in html_files(out):
        raw = path.read_text(encoding="utf-8")
        # The only URLs: the SVG namespace name (never fetched) and the hostile one in the data, as text.
        rest = raw.replace("http://www.w3.org/2000/svg", "").replace("http://evil.example/x", "")
        assert re.findall(r"https?://", rest) == [], path.name
        assert "vis-network" not in raw


def test_cluster_page_runs_only_its_own_scripts_which_write_text_never_markup(written):
    out, _ = written
    page = parse(out / "clusters" / "cluster_C0001.html")
    executable = [body for attrs, body in page.scripts if attrs.get("type") != "application/json"]
    assert executable == [asset("page_status.js"), asset("graph.js")]
    assert not [attrs for attrs, body in page.scripts if "src" in attrs]
    assert "textContent" in asset("graph.js")
    for markup_sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function("):
        assert markup_sink not in asset("graph.js")


# --- content -------------------------------------------------------------------------------------

def test_report_says_everything_the_case_meeting_needs(written):
    out, paths = written
    tables = build_tables()
    summary = paths["summary"].read_text(encoding="utf-8")
    index_text = html.unescape("".join(parse(out / "index.html").text))
    cluster_text = html.unescape("".join(parse(out / "clusters" / "cluster_C0001.html").text))
    for text in (summary.replace("\\", ""), index_text):
        assert "indications for review by a person, not a decision" in text
        assert "run purpose: riec_integral_assessment" in text and "gemeente_emmen_vergunningen" in text
        assert "7 entities: 5 persons, 1 company, 1 address" in text
        assert "puzzle count: 3 partners (belastingdienst, ind, kvk)" in text
        assert "fiscal_supervision): 4 records from" in text
        assert "EMPLOYED_BY ×4" in text
        for kind in ("administrative", "fiscal", "labour inspection", "criminal"):
            assert kind in text
        assert "ghost/relation/not/in/edges" in text and "not in the edges table" in text
    for hit in tables["hits"].filter(pl.col("cluster_id") == "C0001").iter_rows(named=True):
        for text in (index_text, cluster_text):
            assert hit["reason"] in text and hit["indicator"] in text
        for relation_id in hit["evidence"]:
            edge = tables["edges"].filter(pl.col("relation_id") == relation_id)
            if edge.height:
                assert edge["record_id"][0] in index_text and edge["source"][0] in index_text
    # The order of the barrier model: administrative before fiscal before criminal.
    assert index_text.index("administrative —") < index_text.index("fiscal —") < index_text.index("criminal —")
    # The permit cluster has no payroll: no labour inspection there.
    second = index_text[index_text.index("2. Cluster C0002"):]
    assert "labour inspection" not in second and "payroll audit" not in second


def test_no_identifier_or_unknown_column_leaves_the_tables(written):
    out, _ = written
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (BSN_HASH, NAME_BLOOM, PLAINTEXT_NAME):
                assert secret.encode() not in data, (path.name, secret)


# --- bad input -----------------------------------------------------------------------------------

def test_missing_column_is_a_clear_error(tmp_path):
    tables = build_tables()
    tables["edges"] = tables["edges"].drop("record_id")
    with pytest.raises(InputError, match="'edges' table lacks the column.*record_id"):
        export(tmp_path, tables)


@pytest.mark.parametrize("table, column, value", [
    ("clusters", "cluster_id", "../../etc/C0001"),
    ("mentions", "partner", "kvk/../ind"),
])
def test_names_that_would_escape_the_output_folder_are_refused(tmp_path, table, column, value):
    tables = build_tables()
    frame = tables[table]
    tables[table] = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(value)).otherwise(pl.col(column)).alias(column))
    with pytest.raises(InputError, match=f"file {table}, row 2, column '{column}'"):
        export(tmp_path, tables)
    assert not any(tmp_path.rglob("*.csv"))


def test_duplicate_entity_in_communities_is_refused(tmp_path):
    tables = build_tables()
    tables["communities"] = pl.concat([tables["communities"], tables["communities"].head(1)])
    with pytest.raises(InputError, match="appears more than once"):
        export(tmp_path, tables)


def test_the_resolution_as_a_scan_gives_the_same_files_and_only_the_shown_rows_are_read(tmp_path):
    """A run hands the export a scan of its resolution: the same documents as from the table, and a
    mention the documents show that is resolved twice is refused at its row, in the scan as in the table."""
    tables = build_tables()
    resolution = tables["resolution"]
    resolution.write_parquet(tmp_path / "resolution.parquet")
    whole = export(tmp_path / "whole", tables)
    scanned = export(tmp_path / "scanned", {**tables, "resolution": pl.scan_parquet(tmp_path / "resolution.parquet")})
    assert sorted(p.relative_to(tmp_path / "whole") for p in whole.values()) == \
        sorted(p.relative_to(tmp_path / "scanned") for p in scanned.values())
    for path in whole.values():
        assert path.read_bytes() == (tmp_path / "scanned" / path.relative_to(tmp_path / "whole")).read_bytes()
    shown = tables["mentions"].filter(pl.col("record_id") == "L-101").get_column("mention_id")[0]
    twice = pl.concat([resolution, resolution.filter(pl.col("mention_id") == shown)])
    twice.write_parquet(tmp_path / "twice.parquet")
    first = resolution.get_column("mention_id").to_list().index(shown) + 1
    for given in (twice, pl.scan_parquet(tmp_path / "twice.parquet")):
        with pytest.raises(InputError, match=f"file resolution, row {first}, column .mention_id.: .* appears more"):
            export(tmp_path / "twice", {**tables, "resolution": given})


@pytest.mark.parametrize(("twin", "problem"), [("entity", "appears more than once"), (None, "is empty")])
def test_a_duplicate_or_missing_key_in_sorted_nodes_is_refused_at_its_row(tmp_path, twin, problem):
    """Sorted keys are checked without hashing them: a twin sits next to its key, and is still refused."""
    tables = build_tables()
    nodes = tables["nodes"].sort("entity_id")
    extra = nodes.slice(2, 1) if twin else nodes.slice(2, 1).with_columns(entity_id=pl.lit(None, dtype=pl.String))
    tables["nodes"] = pl.concat([nodes, extra]).sort("entity_id", nulls_last=True)
    assert tables["nodes"]["entity_id"].is_sorted(nulls_last=True)
    row = 3 if twin else nodes.height + 1
    with pytest.raises(InputError, match=f"file nodes, row {row}, column .entity_id.: entity_id .*{problem}"):
        export(tmp_path, tables)


# --- pictures, minimisation, language --------------------------------------------------------------

def test_parallel_relations_become_one_edge_with_count_and_period_range(tmp_path):
    tables = build_tables()
    first = tables["edges"].filter(pl.col("record_id") == "L-101", pl.col("type") == "EMPLOYED_BY")
    later = [first.with_columns(relation_id=pl.lit(f"belastingdienst_loonaangifte/L-1{n:02d}b/EMPLOYED_BY"),
                                record_id=pl.lit(f"L-1{n:02d}b"), valid_from=pl.lit(dt.date(2024, n, 1)),
                                valid_to=pl.lit(dt.date(2024, n, 28))) for n in (3, 4, 5)]
    tables["edges"] = pl.concat([tables["edges"], *later])
    export(tmp_path, tables)
    merged = [e for e in _graph_data(tmp_path, "C0001")["edges"]
              if e["a"] == PERSONS[1] and e["type"] == "EMPLOYED_BY"]
    assert len(merged) == 1
    edge = merged[0]
    assert edge["n"] == 4 and edge["label"] == "EMPLOYED_BY ×4 2024-02…now"
    assert len(edge["periods"]) == 4 and sum("L-1" in line for line in edge["detail"]) == 4


def test_wages_and_bibob_outcomes_are_shown_only_where_an_indicator_rests_on_them(tmp_path):
    tables = build_tables()
    tables["nodes"] = tables["nodes"].with_columns(
        bibob_outcome=pl.when(pl.col("entity_type") == "permit").then(pl.lit("ernstig gevaar")).otherwise(None))
    export(tmp_path / "with", tables)
    page = (tmp_path / "with" / "clusters" / "cluster_C0001.html").read_text()
    assert "EUR 6.50/h" in page  # the payroll records are the evidence of wage_below_minimum
    assert "ernstig gevaar" not in (tmp_path / "with" / "clusters" / "cluster_C0002.html").read_text()
    # Without the wage indicator nothing rests on the wages: they are not shown.
    tables["hits"] = tables["hits"].filter(pl.col("indicator") != "wage_below_minimum")
    export(tmp_path / "without", tables)
    for path in html_files(tmp_path / "without"):
        assert "EUR 6.50" not in path.read_text() and "3120" not in path.read_text()
    # A refusal link rests on the Bibob outcome: then it is shown on that permit.
    tables["hits"] = pl.concat([tables["hits"], tables["hits"].filter(pl.col("cluster_id") == "C0002").with_columns(
        indicator=pl.lit("link_to_earlier_refusal"))])
    export(tmp_path / "refusal", tables)
    assert "bibob_outcome: ernstig gevaar" in (tmp_path / "refusal" / "clusters" / "cluster_C0002.html").read_text()


def test_evidence_is_summarised_with_its_records_one_click_away(written):
    out, paths = written
    index = (out / "index.html").read_text()
    assert "4 payroll periods (belastingdienst) 2024-02…now, lowest EUR 6.50/h" in index
    summary_line = index[index.index("4 payroll periods"):]
    assert summary_line.index("</summary>") < summary_line.index("L-101")  # the records sit in the <details>
    assert "4 address registrations (belastingdienst) 2024-02…now" in paths["summary"].read_text()


def test_dutch_is_the_default_and_english_on_request(tmp_path):
    tables = build_tables()
    dutch = write_outputs(tmp_path / "nl", tables["clusters"], tables["communities"], tables["nodes"],
                          tables["edges"], tables["hits"], tables["mentions"], tables["resolution"], top=2)
    english = export(tmp_path / "en", tables)
    nl_text, en_text = dutch["summary"].read_text(), english["summary"].read_text()
    assert "Gerangschikte clusters" in nl_text and "Wie kan optreden" in nl_text and "Werkgever A" in nl_text
    assert "boekenonderzoek" in nl_text and "Ranked clusters" not in nl_text
    assert "Ranked clusters" in en_text and "Employer A" in en_text and "Werkgever" not in en_text
    assert '<html lang="nl">' in dutch["index"].read_text()
    with pytest.raises(ValueError, match="unknown language 'de'"):
        export(tmp_path / "de", tables, lang="de")


def test_what_changed_goes_on_top_when_given_and_nothing_shows_without(tmp_path, written):
    out, paths = written
    assert "What changed" not in paths["summary"].read_text() and "What changed" not in (out / "index.html").read_text()
    changes = {"since": "2026-01-01T03:00:00+00:00", "previous_run_id": "ab12", "grown": [], "shrunk": [],
               "changed": [], "new": [{"cluster_id": "C0001", "members_before": 0, "members_after": 7,
                                       "came_from": []}],
               "dissolved": [{"cluster_id": "C0007", "members_before": 5, "members_after": 0,
                              "now_in": [{"cluster_id": "C0002", "members": 3}]}],
               "indicators": {"fired": [], "stopped": []}}
    with_changes = export(tmp_path, changes=changes)
    for path in (with_changes["summary"], with_changes["index"]):
        text = html.unescape(path.read_text())
        assert text.index("What changed since 2026-01-01") < text.index("Ranked clusters")
        assert "C0007: 5 members; members now in C0002 (3)" in text.replace("`", "").replace("<code>", "").replace(
            "</code>", "")


def test_score_breakdown_draws_whatever_parts_the_clusters_table_holds(tmp_path):
    tables = build_tables()
    parts = [{"part": "crowded_address", "kind": "add", "value": 1.5}, {"part": "a_future_part", "kind": "add",
             "value": 0.7}, {"part": "puzzle", "kind": "multiply", "value": 2.0}]
    tables["clusters"] = tables["clusters"].with_columns(score_parts=pl.when(pl.col("cluster_id") == "C0001")
                                                         .then(pl.lit(parts)).otherwise(pl.lit([], dtype=pl.List(
                                                             pl.Struct({"part": pl.String, "kind": pl.String,
                                                                        "value": pl.Float64})))))
    paths = export(tmp_path, tables)
    index = paths["index"].read_text()
    first = index[index.index("1. Cluster"):index.index("2. Cluster")]
    assert "a_future_part 0.70" in first and "× 2.00 puzzle multiplier" in first and "<svg" in first
    second = index[index.index("2. Cluster"):]
    assert "does not record how the score is built" in second


def test_the_ranking_records_its_score_parts():
    from mhgraph.rank import rank_clusters
    tables = build_tables()
    ranked = rank_clusters(tables["communities"], tables["nodes"], tables["edges"], tables["hits"])
    for row in ranked.filter(pl.col("score") > 0).iter_rows(named=True):
        added = sum(p["value"] for p in row["score_parts"] if p["kind"] == "add")
        factor = math.prod(p["value"] for p in row["score_parts"] if p["kind"] == "multiply")
        assert added * factor == pytest.approx(row["score"])


def test_bold_text_with_outer_spaces_renders_as_bold_in_markdown():
    from mhgraph.export.document import Paragraph, Text, to_markdown

    markdown = to_markdown([Paragraph((Text("13 als bewijs"), Text(" — telt mee in de puzzel", "strong")))])
    assert "13 als bewijs **— telt mee in de puzzel**" in markdown and "** " not in markdown


def test_a_scan_of_the_mentions_writes_the_same_files_as_the_whole_table(tmp_path):
    """A national run hands the export a scan of its mentions: only the mentions the top clusters
    show are read, and every written file is byte for byte the one the whole table gives."""
    tables = build_tables()
    tables["mentions"].write_parquet(tmp_path / "mentions.parquet")
    whole = export(tmp_path / "whole", tables, run_info=RUN_INFO, partner_lists="all")
    scanned = export(tmp_path / "scan", {**tables, "mentions": pl.scan_parquet(tmp_path / "mentions.parquet")},
                     run_info=RUN_INFO, partner_lists="all")
    assert sorted(whole) == sorted(scanned)
    assert any(name.startswith("partner:") for name in whole)
    for name, path in whole.items():
        assert path.read_bytes() == scanned[name].read_bytes(), name


def _municipal_dossier(lang: str, housing: str = "gemeente_b", permits_purpose: str = "administrative_supervision"):
    """One cluster holding a permit register (a permit, its holder) of ``gemeente_a`` under
    ``permits_purpose`` and a housing register (a person registered at an address) of
    ``housing`` under ``administrative_supervision``: by default two municipalities under the
    same purpose."""
    from mhgraph.export.dossier import build_dossiers

    rows = [("gemeente_a", "gemeente_a_vergunningen", "1", "vergunning", "permit", "V-1"),
            ("gemeente_a", "gemeente_a_vergunningen", "1", "houder", "company", "C-1"),
            (housing, "gemeente_b_woonregister", "7", "bewoner", "person", "P-1"),
            (housing, "gemeente_b_woonregister", "7", "adres", "address", "A-1")]
    purposes = {"gemeente_a_vergunningen": permits_purpose, "gemeente_b_woonregister": "administrative_supervision"}
    mentions = pl.DataFrame([{"mention_id": f"{r[1]}/{r[2]}/{r[3]}", "entity_type": r[4], "partner": r[0],
                              "source": r[1], "purpose": purposes[r[1]], "record_id": r[2],
                              "role": r[3]} for r in rows])
    resolution = pl.DataFrame({"mention_id": mentions["mention_id"], "entity_id": [r[5] for r in rows]})
    entities = ["V-1", "C-1", "P-1", "A-1"]
    communities = pl.DataFrame({"entity_id": entities, "cluster_id": ["C0001"] * 4})
    nodes = pl.DataFrame({"entity_id": entities, "entity_type": ["permit", "company", "person", "address"],
                          "partners": [["gemeente_a"]] * 2 + [[housing]] * 2,
                          "sources": [["gemeente_a_vergunningen"]] * 2 + [["gemeente_b_woonregister"]] * 2,
                          "purposes": [[permits_purpose]] * 2 + [["administrative_supervision"]] * 2})
    edges = pl.DataFrame({"relation_id": ["gemeente_a_vergunningen/1/HOLDS_PERMIT",
                                          "gemeente_b_woonregister/7/REGISTERED_AT"],
                          "type": ["HOLDS_PERMIT", "REGISTERED_AT"], "from_entity": ["C-1", "P-1"],
                          "to_entity": ["V-1", "A-1"], "source": ["gemeente_a_vergunningen", "gemeente_b_woonregister"],
                          "partner": ["gemeente_a", housing], "purpose": list(purposes.values()),
                          "record_id": ["1", "7"]})
    hits = pl.DataFrame({"indicator": ["crowded_address"], "version": ["1"], "focus_entity": ["A-1"],
                         "cluster_id": ["C0001"], "reason": ["1 person"],
                         "evidence": [["gemeente_b_woonregister/7/REGISTERED_AT"]], "partners": [[housing]],
                         "weight": [1.0]})
    clusters = pl.DataFrame({"cluster_id": ["C0001"], "rank": [1], "score": [1.5], "flagged": [True], "size": [4],
                             "persons": [1], "companies": [1], "addresses": [1], "permits": [1],
                             "partners": [[housing]], "puzzle_count": [1], "indicators": [["crowded_address"]],
                             "reasons": [""]})
    return build_dossiers(clusters, communities, nodes, edges, hits, mentions, resolution, lang=lang)[0]


def _actions_by_partner(dossier) -> dict[str, list[str]]:
    """What each partner could do: every action, in the order listed."""
    actions: dict[str, list[str]] = {}
    for action in dossier.actions:
        actions.setdefault(action.actor, []).append(action.how)
    return actions


def test_what_a_municipality_could_do_follows_what_its_register_holds_in_dutch_too():
    from mhgraph.export.content import cluster_blocks
    from mhgraph.export.document import to_markdown

    actions = _actions_by_partner(_municipal_dossier("en"))
    assert len(actions["gemeente_a"]) == 1 and "permits" in actions["gemeente_a"][0]
    assert len(actions["gemeente_b"]) == 1 and "addresses" in actions["gemeente_b"][0]
    assert "permit" not in actions["gemeente_b"][0]
    dutch = to_markdown(cluster_blocks(_municipal_dossier("nl"), None, figures=False))
    actions_part = dutch[dutch.index("Wie kan optreden"):]
    permit_line = next(line for line in actions_part.splitlines() if "gemeente\\_a" in line or "gemeente_a" in line)
    housing_line = next(line for line in actions_part.splitlines() if "gemeente\\_b" in line or "gemeente_b" in line)
    assert "de vergunningen in dit cluster bekijken" in permit_line
    assert "de inschrijvingen op de adressen in dit cluster onderzoeken" in housing_line
    assert "vergunning" not in housing_line.lower() and "Huisvestingswet 2014" in housing_line


def test_one_municipality_is_offered_what_each_purpose_of_its_registers_allows():
    # its Bibob permit source and its housing register under administrative supervision: the
    # permits are screened under Bibob; under supervision it investigates the addresses, and has
    # no permits to review there
    dossier = _municipal_dossier("en", housing="gemeente_a", permits_purpose="bibob")
    by_purpose = {}
    for action in dossier.actions:
        if action.actor == "gemeente_a":
            by_purpose.setdefault(action.purpose, []).append(action.how)
    assert sorted(by_purpose) == ["administrative_supervision", "bibob"]
    assert len(by_purpose["bibob"]) == 1 and "Bibob screening" in by_purpose["bibob"][0]
    assert len(by_purpose["administrative_supervision"]) == 1
    assert "addresses" in by_purpose["administrative_supervision"][0]
    assert "permit" not in by_purpose["administrative_supervision"][0]
