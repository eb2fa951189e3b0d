"""The export on a real run over data/sample: one truth for counts, evidence drawn where it
leaves the cluster, a report that starts with the clusters."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import polars as pl
import pytest

from mhgraph.export.dossier import build_dossiers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dossiers(sample_export):
    out, result = sample_export
    t = result.tables
    top = len(list((out / "clusters").glob("cluster_*.html")))
    return build_dossiers(t["clusters"], t["communities"], t["nodes"], t["edges"], t["indicator_hits"],
                          t["mentions"], t["resolution"], top, lang="nl")


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.data, self._open = {}, None

    def handle_starttag(self, tag, attrs):
        self._open = dict(attrs).get("id") if tag == "script" else None

    def handle_data(self, data):
        if self._open:
            self.data[self._open] = self.data.get(self._open, "") + data


def graph_data(out, cluster_id) -> dict:
    parser = _Scripts()
    parser.feed((out / "clusters" / f"cluster_{cluster_id}.html").read_text(encoding="utf-8"))
    return json.loads(parser.data["graph-data"])


def test_partners_are_counted_one_way_in_table_puzzle_picture_and_barrier_model(sample_export, dossiers):
    out, _ = sample_export
    index = (out / "index.html").read_text(encoding="utf-8")
    table = index[index.index("<table>"):index.index("</table>")]
    assert sample_export[1].manifest["clusters_flagged"] >= 5  # 9 measured: the checks below see real clusters
    assert len(dossiers) == min(10, sample_export[1].manifest["clusters_flagged"])  # the flagged, at most 10
    for d in dossiers:
        pieces = {p.partner for p in d.pieces}
        puzzle = set(d.row["partners"])
        assert puzzle <= pieces, d.cluster_id
        assert {p.partner for p in d.pieces if p.in_puzzle} == puzzle and d.row["puzzle_count"] == len(puzzle)
        data = graph_data(out, d.cluster_id)
        assert {p["name"] for p in data["partners"]} == pieces, d.cluster_id
        acting = {a.actor for a in d.actions}
        assert pieces <= acting, d.cluster_id
        row = table[table.index(f">{d.cluster_id}<"):]
        row = row[:row.index("</tr>")]
        for piece in d.pieces:  # every partner with its record count; bold where it counts in the puzzle
            shown = f"{piece.partner} {piece.records}"
            assert (f"<strong>{shown}</strong>" if piece.in_puzzle else shown) in row, (d.cluster_id, shown)


def test_a_partner_piece_counts_the_cluster_s_entities_apart_from_those_its_records_name_outside(
        sample_export, dossiers):
    out, result = sample_export
    outside_named = 0
    for d in dossiers:
        members = dict(d.members.group_by("entity_type").len().iter_rows())
        for piece in d.pieces:
            own = d.mentions.filter(pl.col("partner") == piece.partner)
            inside = own.filter(pl.col("entity_id").is_in(d.members["entity_id"].implode()))
            assert dict(piece.entities) == dict(inside.group_by("entity_type").agg(pl.col("entity_id").n_unique())
                                                .iter_rows()), (d.cluster_id, piece.partner)
            assert all(count <= members[kind] for kind, count in piece.entities), (d.cluster_id, piece.partner)
            beyond = own.filter(~pl.col("entity_id").is_in(d.members["entity_id"].implode()))
            assert sum(n for _, n in piece.entities_outside) == beyond["entity_id"].n_unique()
            outside_named += bool(piece.entities_outside)
    assert outside_named > 0  # evidence records of the sample name entities outside their cluster
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "entities in the cluster: " in summary or "entiteiten in het cluster: " in summary
    assert "; outside it, in the same records: " in summary or "; daarbuiten in dezelfde registraties: " in summary


def test_a_path_that_explains_an_indicator_is_drawn_even_where_it_leaves_the_cluster(sample_export, dossiers):
    out, result = sample_export
    edges = result.tables["edges"]
    left_the_cluster = 0
    for d in dossiers:
        data = graph_data(out, d.cluster_id)
        drawn = {(e["a"], e["b"], e["type"]) for e in data["edges"] if not e["tie"]}
        outside = {n["id"] for n in data["nodes"] if n["outside"]}
        evidence = edges.filter(pl.col("relation_id").is_in(list(d.evidence_ids)))
        for a, b, kind in evidence.select("from_entity", "to_entity", "type").iter_rows():
            assert (a, b, kind) in drawn, (d.cluster_id, a, b, kind)
            left_the_cluster += a in outside or b in outside
    assert left_the_cluster > 0  # the sample has refusal links whose path leaves the cluster


def test_the_overview_starts_with_the_ranked_clusters_not_with_checksums(sample_export):
    out, _ = sample_export
    for name in ("index.html", "summary.md"):
        text = (out / name).read_text(encoding="utf-8")
        assert text.index("Gerangschikte clusters") < text.index("(sha256 "), name
        assert text.index("Gerangschikte clusters") < text.index("De run"), name
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("<details>") >= index.count("registraties</summary>") > 0
    # The evidence is summarised: no indicator lists its records outside a collapsed block.
    assert not re.search(r"</ol>\s*<ul>\s*(<li>[^<]*<code>belastingdienst_loonaangifte</code>){5}", index)


def test_aliases_read_as_roles_and_the_pseudonym_stays_in_the_detail(sample_export, dossiers):
    out, _ = sample_export
    roles = {"Werkgever", "Bestuurder", "Werknemer", "Beheerder", "Pand", "Woonadres", "Vergunning", "Referent",
             "Arbeidsmigrant", "Bewoner", "Vergunninghouder", "Bedrijf", "Persoon", "Adres"}
    for d in dossiers:
        for node in graph_data(out, d.cluster_id)["nodes"]:
            role, number = node["label"].rsplit(" ", 1)
            assert role in roles and re.fullmatch(r"[A-Z]+|\d+", number), node["label"]
            assert node["id"] not in node["label"] and any(node["id"] in line for line in node["detail"])


def test_report_command_rewrites_a_finished_run_in_english(sample_export, tmp_path, capsys):
    import shutil

    from mhgraph.cli import main

    out, _ = sample_export
    run = tmp_path / "run"
    shutil.copytree(out, run)
    assert main(["--quiet", "report", str(run), "--lang", "en", "--partner-lists", "all"]) == 0
    summary = (run / "summary.md").read_text(encoding="utf-8")
    assert "Ranked clusters" in summary and "every record in the clusters shown" in summary
    shown = min(10, sample_export[1].manifest["clusters_flagged"])  # the flagged, at most 10
    assert len(list((run / "clusters").glob("cluster_*.html"))) == shown
    assert pl.read_csv(run / "partners" / "belastingdienst.csv").height > pl.read_csv(
        out / "partners" / "belastingdienst.csv").height  # evidence only by default, everything on request
    assert main(["--quiet", "report", str(tmp_path / "nothing")]) == 2
    assert "not a finished run folder" in capsys.readouterr().err
