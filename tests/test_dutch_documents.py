"""The case-meeting documents of a run over data/sample are Dutch throughout — indicator reasons,
score parts, relation types, legal ground, wages, plurals — and the English variant stays English."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from mhgraph.export.content import run_blocks
from mhgraph.export.document import to_markdown
from mhgraph.export.i18n import words
from mhgraph.indicators import INDICATORS, render_reason
from mhgraph.ingest.validate import REASONS
from mhgraph.pseudonymise import PLAINTEXT_REASONS
from mhgraph.purpose import RUN_PURPOSES
from mhgraph.reference import HIGH_RISK_SBI_PREFIXES

pytestmark = pytest.mark.slow

# English that has no place in a Dutch document (outside `code`: source names, purposes, indicator names).
ENGLISH = re.compile(r"\b(the|of the|with|employees|Weak signal|threshold|thresholds|registered|dissolved|EUR/h|"
                     r"payroll|sponsor|legal|covenant|left out|add|multiply|samenleggen)\b|/h\b|"
                     r"\b[A-Z]{3,}\\?_[A-Z]{2,}\b")
# A count of one with a Dutch plural noun after it.
ONE_PLURAL = re.compile(r"(?<![\d,.])1 (partners|registraties|personen|bedrijven|adressen|vergunningen|entiteiten|"
                        r"vestigingen|functies|adresinschrijvingen|loonaangifteperiodes|verblijfsvergunningen)\b")


class _Text(HTMLParser):
    """The visible text of a page (no scripts, styles or code elements)."""

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("script", "style", "code")

    def handle_endtag(self, tag):
        self._hidden -= tag in ("script", "style", "code")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def page_text(path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return " ".join(parser.parts)


def markdown_text(path) -> str:
    """summary.md without its code spans."""
    return re.sub(r"`[^`]*`", "", path.read_text(encoding="utf-8"))


def english_in(text: str) -> list[str]:
    """English words in ``text``, names in snake_case (indicators, purposes) aside."""
    prose = re.sub(r"\b[a-z]+(\\?_[a-z0-9]+)+\b", "", text)
    return sorted({m.group(0) for m in ENGLISH.finditer(prose)})


def test_the_dutch_summary_and_pages_hold_no_english(sample_export):
    out, _ = sample_export
    summary = markdown_text(out / "summary.md")
    assert "Functionaris van" in summary and "€/u" in summary and "opgeteld" in summary
    assert english_in(summary) == []
    assert ONE_PLURAL.findall(summary) == []
    assert "\\`" not in (out / "summary.md").read_text(encoding="utf-8")  # no backticks shown as text
    assert "samengelegd" in summary and "RIEC-convenant" in summary
    assert re.search(r"de hoogste \d+ getoond \(gevraagd: 10\)", summary)  # the flagged ones, at most 10
    for page in [out / "index.html", *sorted((out / "clusters").glob("cluster_*.html"))]:
        text = page_text(page)
        assert english_in(text) == [], page.name
        assert ONE_PLURAL.findall(text) == [], page.name
    picture = next(text for page in sorted((out / "clusters").glob("cluster_*.html"))
                   if 'data-type="EMPLOYED_BY"' in (text := page.read_text(encoding="utf-8")))
    assert 'data-type="EMPLOYED_BY" checked> in dienst bij<' in picture  # the filter keeps the graph's type name
    assert "in dienst bij ×" in picture and "EMPLOYED_BY ×" not in picture
    details = " ".join(line for page in (out / "clusters").glob("cluster_*.html")
                       for line in re.findall(r'"detail":\[([^\]]*)\]', page.read_text(encoding="utf-8")))
    assert "contractsoort " in details and "SBI-code: " in details
    assert not re.search(r"\b(contract_type|role|sbi_code|registered_on|permit_type)\b", details)


def test_every_hit_carries_its_reason_in_dutch(sample_export):
    _, result = sample_export
    hits = result.tables["indicator_hits"]
    assert hits.filter(pl.col("reason_nl").is_null() | (pl.col("reason_nl") == pl.col("reason"))).height == 0
    weak = hits.filter(pl.col("grade") == "weak")
    assert weak.height and weak["reason_nl"].str.starts_with("Zwak signaal").all()
    for reason in hits["reason_nl"].unique().to_list():
        assert english_in(reason) == [], reason


def test_the_english_report_keeps_english_reasons(sample_export, tmp_path):
    from mhgraph.cli import main

    out, _ = sample_export
    run = tmp_path / "run"
    shutil.copytree(out, run)
    assert main(["--quiet", "report", str(run), "--lang", "en"]) == 0
    summary = (run / "summary.md").read_text(encoding="utf-8")
    assert "Officer of" in summary and "EUR/h" in summary and "pay (add)" in summary
    assert "EMPLOYED\\_BY: " in summary and "integral assessment" in summary
    assert "Functionaris van" not in summary and "€/u" not in summary and "in dienst bij" not in summary
    clusters = (run / "clusters.csv").read_text(encoding="utf-8-sig")
    assert clusters.startswith("cluster_id;rank;score;flagged;") and ";true;" in clusters and ";ja;" not in clusters
    assert " on " in clusters and "Weight ×" in clusters and "Gewicht" not in clusters


# indicator, version and focus entity of one reason line, in either language
REASON_LINE = re.compile(r"^(\S+) v(\S+) \[[^\]]*\] (?:on|bij) (\S+): ", re.MULTILINE)


def test_the_dutch_clusters_csv_is_dutch_and_opens_in_dutch_excel(sample_export):
    from mhgraph.safe_output import read_csv_safe

    out, result = sample_export
    raw = (out / "clusters.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, as Dutch Excel reads it
    header = raw[3:].split(b"\n", 1)[0].decode("utf-8").split(";")
    english = [column for column in pl.read_parquet_schema(out / "clusters.parquet") if column != "reasons_nl"]
    assert header == [words("nl")["cluster_columns"][column] for column in english]
    assert header[:4] == ["cluster", "rang", "score", "gemarkeerd"] and "redenen" in header
    documented = (Path(__file__).resolve().parents[1] / "docs" / "case-meeting.md").read_text(encoding="utf-8")
    assert [column for column in header if f"`{column}`" not in documented] == []
    table = read_csv_safe(out / "clusters.csv", infer_schema=False)
    clusters = result.tables["clusters"]
    flagged = clusters.filter(pl.col("flagged")).height
    assert table["gemarkeerd"].to_list() == ["ja"] * flagged + ["nee"] * (clusters.height - flagged)
    assert re.fullmatch(r"\d+,\d+", table["score"][0])  # a decimal comma
    # one Dutch line per English line of the ranking, hit for hit
    english_lines = dict(clusters.select("cluster_id", "reasons").iter_rows())
    dutch = table["redenen"].fill_null("").to_list()
    assert [REASON_LINE.findall(text) for text in dutch] == [REASON_LINE.findall(english_lines[c])
                                                             for c in table["cluster"]]
    top = table["redenen"][0]
    assert top.count("\n") == clusters["reasons"][0].count("\n") > 0 and " bij " in top and " on " not in top
    assert english_in(top) == [] and "€" in top
    # the parts of the score and the score without each partner, in Dutch form
    ranked = clusters.sort("rank")
    for cell, parts in zip(table["score_delen"].fill_null(""), ranked["score_parts"].to_list()):
        signs = {"add": "+", "multiply": "×"}
        assert cell == "; ".join(f"{p['part']} {signs[p['kind']]} {str(p['value']).replace('.', ',')}" for p in parts)
    without = [(cell, entries) for cell, entries in zip(table["zonder_partner"].fill_null(""),
                                                        ranked["without_partner"].to_list()) if entries]
    assert without and "," in " ".join(cell for cell, _ in without)
    for cell, entries in without:
        assert cell == "; ".join(f"{e['partner']}: {str(e['score']).replace('.', ',')} "
                                 f"({'ja' if e['flagged'] else 'nee'})" for e in entries)
        assert "true" not in cell and "false" not in cell and "{" not in cell


def test_the_dutch_clusters_csv_gives_the_ranked_reasons_whatever_hits_the_export_is_given(sample_export, tmp_path):
    # The API as documented and as the walkthrough uses it: the rules' hits as they come, not
    # the hits the score counts. A lone weak hit is no reason; the Dutch CSV must say what the
    # ranking says.
    from mhgraph import compute_indicators, rank_clusters, write_outputs
    from mhgraph.rank import counted_hits
    from mhgraph.safe_output import read_csv_safe

    _, result = sample_export
    tables = result.tables
    nodes, edges, communities = tables["nodes"], tables["edges"], tables["communities"]
    hits = compute_indicators(nodes, edges, communities)
    assert hits.height > counted_hits(hits, communities).height  # some hits are not counted
    clusters = rank_clusters(communities, nodes, edges, hits)
    write_outputs(tmp_path, clusters, communities, nodes, edges, hits, tables["mentions"], tables["resolution"],
                  top=5)
    table = read_csv_safe(tmp_path / "clusters.csv", infer_schema=False)
    english_lines = dict(clusters.select("cluster_id", "reasons").iter_rows())
    dutch = [REASON_LINE.findall(text) for text in table["redenen"].fill_null("")]
    assert sum(map(len, dutch)) > 0
    assert dutch == [REASON_LINE.findall(english_lines[c]) for c in table["cluster"]]


def test_every_rule_and_every_sector_and_run_purpose_has_its_dutch_words():
    assert [name for name, rule in INDICATORS.items() if not rule.reason_nl] == []
    nl_words = render_reason("high_risk_sector", {"sector": "x", "sbi_code": "1"}, {}, "nl")
    assert nl_words.startswith("Sector x")
    for sector in HIGH_RISK_SBI_PREFIXES.values():
        dutch = render_reason("high_risk_sector", {"sector": sector, "sbi_code": "1"}, {}, "nl")
        assert sector not in dutch, dutch
    assert sorted(words("nl")["legal_grounds"]) == sorted(RUN_PURPOSES)
    assert sorted(words("nl")["quarantine_reasons"]) == sorted({*REASONS, *PLAINTEXT_REASONS})


def test_a_source_left_out_is_explained_in_dutch():
    info = {"run_purpose": "permit_supervision", "legal_ground": RUN_PURPOSES["permit_supervision"][0],
            "sources_excluded": [{"source": "ind_referenten", "partner": "ind", "purpose": "immigration_supervision",
                                  "why": "run purpose 'permit_supervision' does not permit purpose "
                                         "'immigration_supervision'"}],
            "ingest": {"sources": [{"source": "kvk_inschrijvingen", "rows_read": 10, "rows_accepted": 7,
                                    "quarantined_by_reason": {"bad_date": 3}}]}}
    counts = dict(clusters=0, entities=0, relations=0, mentions=0, partners=0, hits=0)
    dutch = to_markdown(run_blocks(info, counts, 10, 0, "nl"))
    assert "weggelaten bronnen:" in dutch
    assert "staat het doel van deze bron (immigration\\_supervision) niet toe" in dutch
    assert "zonder Bibob-toets" in dutch and english_in(re.sub(r"`[^`]*`", "", dutch)) == []
    assert "geen datum in de formaten van de spec, of een dag die niet bestaat (bad\\_date): 3 in" in dutch
    english = to_markdown(run_blocks(info, counts, 10, 0, "en"))
    assert "sources left out:" in english and "does not permit purpose" in english
    assert "- bad\\_date: 3 in `kvk_inschrijvingen`" in english


def test_rows_the_partner_held_back_are_counted_in_the_run_section():
    """Rows a partner's own checks held back never reach the quarantine; the sidecar counts them."""
    info = {"ingest": {"sources": [
        {"source": "kvk_inschrijvingen", "rows_read": 10, "rows_accepted": 10, "rows_quarantined_by_partner": 2},
        {"source": "kvk_inschrijvingen", "rows_read": 5, "rows_accepted": 5, "rows_quarantined_by_partner": 1,
         "values_left_out_by_partner": {"bad_birth_date": 4, "bad_postcode": 0}},
        {"source": "ind_referenten", "rows_read": 4, "rows_accepted": 4, "rows_quarantined_by_partner": 0}]}}
    counts = dict(clusters=0, entities=0, relations=0, mentions=0, partners=0, hits=0)
    dutch = to_markdown(run_blocks(info, counts, 10, 0, "nl"))
    assert "in quarantaine: 0" in dutch and "bij het pseudonimiseren, niet geleverd: 3 rijen" in dutch
    assert "  - `kvk_inschrijvingen` 3\n" in dutch and "`ind_referenten`" not in dutch
    assert ("weggelaten waarden, de rij wel geleverd: 4:\n  - geen bestaande geboortedatum, of een in de toekomst "
            "(bad\\_birth\\_date): 4 in `kvk_inschrijvingen`\n") in dutch
    assert "bad\\_postcode" not in dutch and english_in(re.sub(r"`[^`]*`|\([a-z\\_]+\)", "", dutch)) == []
    english = to_markdown(run_blocks(info, counts, 10, 0, "en"))
    assert "held back by the partner's own checks when pseudonymising, not delivered: 3 rows" in english
    assert "values the partner's own checks left out of rows it delivered: 4:" in english
    one = to_markdown(run_blocks({"ingest": {"sources": info["ingest"]["sources"][1:2]}}, counts, 10, 0, "nl"))
    assert "niet geleverd: 1 rij " in one and "1 rijen" not in one
    quiet = to_markdown(run_blocks({"ingest": {"sources": info["ingest"]["sources"][2:]}}, counts, 10, 0, "nl"))
    assert "pseudonimiseren" not in quiet and "weggelaten waarden" not in quiet


def test_a_partner_list_shows_a_case_alias_or_none_never_the_pseudonym_twice(sample_export):
    from mhgraph.safe_output import read_csv_safe

    out, _ = sample_export
    listed = pl.concat([read_csv_safe(path, infer_schema=False) for path in sorted((out / "partners").glob("*.csv"))])
    assert listed.filter(pl.col("alias") == pl.col("entity_id")).height == 0
    assert listed["alias"].drop_nulls().str.contains(r"^\w+ [A-Z0-9]+$").all() and listed["alias"].null_count() > 0


def test_indicators_that_fired_or_stopped_since_the_last_run_read_in_the_documents_language():
    from mhgraph.diff import CHANGE_KINDS
    from mhgraph.export.changes import changes_blocks

    hit = {"cluster_id": "C0003", "indicator": "straw_director", "focus_entity": "P-1",
           "reason": "Officer of 4 companies", "reason_nl": "Functionaris van 4 bedrijven"}
    changes = {"since": "2026-11-01", "run_id": "r1", **{kind: [] for kind in CHANGE_KINDS},
               "indicators": {"fired": [hit], "stopped": [{**hit, "stopped_because": "rule_no_longer_holds"}]}}
    dutch, english = (to_markdown(changes_blocks(changes, lang)) for lang in ("nl", "en"))
    assert dutch.count("Functionaris van 4 bedrijven") == 2 and "Officer of" not in dutch
    assert english.count("Officer of 4 companies") == 2 and "Functionaris" not in english
    earlier = {**changes, "indicators": {"fired": [{k: v for k, v in hit.items() if k != "reason_nl"}], "stopped": []}}
    assert "Officer of 4 companies" in to_markdown(changes_blocks(earlier, "nl"))  # a run from before reason_nl
