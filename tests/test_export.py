"""Tests of the export stage on small, realistic stage tables that carry hostile values."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import html
import json
import re
from html.parser import HTMLParser

import polars as pl
import pytest
from markdown_it import MarkdownIt

from mhgraph.errors import InputError
from mhgraph.export import write_outputs
from mhgraph.export.page import vis_network_js
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
                      indicators=pl.col("indicators").fill_null([]), reasons=pl.col("reasons").fill_null(""))
        .sort("score", "cluster_id", descending=[True, False])
        .with_row_index("rank", offset=1)
        .select("cluster_id", pl.col("rank").cast(pl.Int64), "score", "size", "persons", "companies", "addresses",
                "permits", "partners", "puzzle_count", "indicators", "reasons")
    )
    return {"clusters": clusters, "communities": communities, "nodes": nodes, "edges": edges, "hits": hits,
            "mentions": mentions, "resolution": resolution, "relations": pl.DataFrame(relations)}


def export(out_dir, tables=None, top=2, run_info=None):
    tables = tables or build_tables()
    return write_outputs(out_dir, tables["clusters"], tables["communities"], tables["nodes"], tables["edges"],
                         tables["hits"], tables["mentions"], tables["resolution"], top=top, run_info=run_info)


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
    assert pl.read_csv(paths["partner:kvk"]).height == 0


def test_cluster_without_hits_or_node_rows_is_still_shown(tmp_path, caplog):
    tables = build_tables()
    tables["hits"] = tables["hits"].clear()
    tables["nodes"] = tables["nodes"].filter(pl.col("entity_id") != PERSONS[5])
    paths = export(tmp_path, tables, top=1)
    assert "No indicator fired in this cluster." in paths["summary"].read_text()
    assert "1 community members have no row in the nodes table" in caplog.text
    page = parse(paths["cluster:C0001"])
    data = json.loads(next(body for attrs, body in page.scripts if attrs.get("id") == "network-data"))
    assert f"Entity {PERSONS[5]}" in {node["label"] for node in data["nodes"]}
    assert len(data["nodes"]) == 7


def test_works_on_the_graph_stage_tables(tmp_path):
    from mhgraph import graph
    tables = build_tables()
    tables["nodes"], tables["edges"] = graph.build_graph_tables(tables["mentions"], tables["relations"],
                                                                tables["resolution"])
    paths = export(tmp_path, tables)
    for cluster_id, nodes, edges in (("C0001", 7, 12), ("C0002", 5, 6)):
        page = parse(paths[f"cluster:{cluster_id}"])
        data = json.loads(next(body for attrs, body in page.scripts if attrs.get("id") == "network-data"))
        assert (len(data["nodes"]), len(data["edges"])) == (nodes, edges)
    assert "wage: 3120.00" in paths["cluster:C0001"].read_text()


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

def test_each_partner_list_holds_exactly_its_own_records_in_the_top_clusters(written):
    out, paths = written
    tables = build_tables()
    placed = (tables["mentions"].join(tables["resolution"].select("mention_id", "entity_id"), on="mention_id")
              .join(tables["communities"], on="entity_id").filter(pl.col("cluster_id").is_in(["C0001", "C0002"])))
    for partner in ("belastingdienst", "kvk", "ind", "gemeente_arnhem"):
        listed = read_csv_safe(paths[f"partner:{partner}"], infer_schema=False)
        assert listed.columns == ["source", "record_id", "role", "cluster_id", "entity_id"]
        expected = {(s, r if not r.startswith(("=", "-")) else "'" + r, role, c, e) for s, r, role, c, e in
                    placed.filter(pl.col("partner") == partner)
                    .select("source", "record_id", "role", "cluster_id", "entity_id").iter_rows()}
        assert set(listed.iter_rows()) == expected and expected
        others = tables["mentions"].filter(pl.col("partner") != partner)
        text = paths[f"partner:{partner}"].read_text(encoding="utf-8")
        for source in others["source"].unique():
            assert source not in text
    kvk = read_csv_safe(paths["partner:kvk"], infer_schema=False)
    assert "F-9" not in kvk["record_id"].to_list()  # cluster C0003 is not in the top 2


# --- escaping and page safety --------------------------------------------------------------------

ALLOWED_TAGS = {"html", "head", "meta", "title", "script", "style", "body", "h1", "h2", "h3", "h4", "p", "a",
                "ul", "ol", "li", "code", "strong", "table", "thead", "tbody", "tr", "th", "td", "div", "span"}


def test_pages_contain_only_expected_markup_whatever_the_data(written):
    out, _ = written
    for path in html_files(out):
        page = parse(path)
        assert set(page.tags) <= ALLOWED_TAGS, (path.name, set(page.tags) - ALLOWED_TAGS)
        assert not [a for a in page.attributes if a[1].startswith("on")], path.name
        for tag, name, value in page.attributes:
            if name in ("href", "src"):
                assert not re.match(r"[a-z]+:", value), (path.name, value)
        raw = path.read_text(encoding="utf-8")
        for payload in ("<img src=x", "<script>document", "<b>bold"):
            assert payload not in raw, (path.name, payload)
        for attrs, body in page.scripts:  # line separators would end a JavaScript string early
            assert "\u2028" not in body and "\u2029" not in body, path.name


def test_hostile_values_are_shown_verbatim_as_text(written):
    out, _ = written
    index_text = "".join(parse(out / "index.html").text)
    for value in (IMG_PAYLOAD, FORMULA, "-2+3", 'manager "X" of 3 permits'):
        assert value in index_text
    cluster = parse(out / "clusters" / "cluster_C0002.html")
    data = json.loads(next(body for attrs, body in cluster.scripts if attrs.get("id") == "network-data"))
    titles = "\n".join(item["title"] for item in data["nodes"] + data["edges"])
    assert SCRIPT_PAYLOAD in titles and QUOTED_REASON in titles
    assert {node["label"] for node in data["nodes"]} == {
        f"{kind} {entity}" for kind, entity in (("Person", PERSONS[6]), ("Company", COMPANIES[2]),
                                                ("Address", ADDRESSES[2]), ("Permit", PERMITS[1]),
                                                ("Permit", PERMITS[2]))}
    assert {edge["label"] for edge in data["edges"]} == {"MANAGES", "HOLDS_PERMIT", "LOCATED_AT"}


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
    vendored = vis_network_js()
    vendored_urls = set(re.findall(r"https?://[^\s\"'()<>]+", vendored))
    # Comments (licence, home page) and the SVG namespace name: strings, never fetched.
    assert vendored_urls <= {
        "https://visjs.github.io/vis-network/", "http://almende.com", "https://github.com/visjs",
        "http://www.apache.org/licenses/LICENSE-2.0", "http://opensource.org/licenses/MIT",
        "http://www.w3.org/2000/svg", "https://github.com/zloirock/core-js",
        "https://github.com/zloirock/core-js/blob/v3.21.1/LICENSE",
        "https://github.com/uuidjs/uuid#getrandomvalues-not-supported",
    }
    assert "sourceMappingURL" not in vendored
    for path in html_files(out):
        raw = path.read_text(encoding="utf-8").replace(vendored, "")
        # The only URL outside the library is the hostile one in the data, escaped as text.
        assert re.findall(r"https?://", raw.replace("http://evil.example/x", "")) == [], path.name
        assert "vis-network" not in raw or path.parent.name == "clusters"


def test_cluster_page_embeds_vis_network_from_the_pyvis_package(written):
    out, _ = written
    page = parse(out / "clusters" / "cluster_C0001.html")
    assert any(body == vis_network_js() for attrs, body in page.scripts)
    assert not [attrs for attrs, body in page.scripts if "src" in attrs]
    network_js = (out / "clusters" / "cluster_C0001.html").read_text().split("<script>")[-1]
    assert "textContent" in network_js and "innerHTML" not in network_js


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
