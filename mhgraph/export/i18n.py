"""The words of the case-meeting documents, in Dutch and English.

Case-meeting documents are Dutch by default (``mhgraph run --lang nl``); ``--lang en`` gives
the same documents in English. Indicator names and their reasons come from the indicator
rules and are shown as they are.

>>> words("nl")["ranked_clusters"], words("en")["ranked_clusters"]
('Gerangschikte clusters', 'Ranked clusters')
>>> counted("nl", 3, "person"), counted("en", 1, "company")
('3 personen', '1 company')
>>> words("fr")
Traceback (most recent call last):
ValueError: unknown language 'fr'; choose one of: en, nl
"""

from __future__ import annotations

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "counted", "translated", "words"]

DEFAULT_LANGUAGE = "nl"

_NL = {
    "title": "mhgraph – clusters ter bespreking",
    "not_a_decision": (
        "Dit zijn aanwijzingen die een mens moet beoordelen, geen besluit. Geen indicator bewijst uitbuiting "
        "of enig ander strafbaar feit: elke indicator is een gedocumenteerde regel met een reden en de "
        "partnerregistraties erachter. Wat er gebeurt, besluiten mensen in het casusoverleg, elke partner "
        "binnen de eigen bevoegdheden en het doel waarvoor hij de gegevens verzamelde."),
    "changes_heading": "Wat veranderde sinds {since}",
    "ranked_clusters": "Gerangschikte clusters",
    "no_cluster": "Geen cluster om te tonen.",
    "col_rank": "rang", "col_cluster": "cluster", "col_score": "score", "col_size": "omvang",
    "col_puzzle": "puzzel", "col_partners": "partners (vet: telt mee in de puzzel)", "col_indicators": "indicatoren",
    "score_distribution": "Verdeling van de scores",
    "score_distribution_text": ("{flagged} van de {clusters} clusters hebben een score boven 0; de {shown} "
                                "hoogste staan in dit overzicht (vanaf score {cut})."),
    "clusters_axis": "clusters", "score_axis": "score", "shown_from": "getoond vanaf {cut}",
    "zero_scores": "{n} clusters met score 0 niet getekend",
    "cluster_heading": "{rank}. Cluster ", "score_suffix": " — score {score}",
    "facts_rank": "rang {rank}, score {score}",
    "facts_size": "omvang: {size}; {inside} relaties binnen het cluster, {outside} naar buiten",
    "facts_puzzle": "puzzelstukken: {count} ({partners})",
    "picture": "netwerkbeeld: ",
    "why_ranks": "Waarom dit cluster hier staat",
    "formula": ("score = (som van de indicatordelen) × puzzelfactor; een indicator telt minder mee naarmate hij "
                "vaker in hetzelfde cluster afgaat, en elke partner boven de eerste verhoogt de puzzelfactor "
                "(zie docs/indicators.md)."),
    "no_parts": "Deze run legt de opbouw van de score niet vast; alleen het totaal is bekend.",
    "part_multiply": "× {value} {part}",
    "part_puzzle": "puzzelfactor",
    "pieces_heading": "Welke partner welke stukken aanleverde",
    "no_pieces": "Geen partnerregistraties gevonden voor dit cluster.",
    "piece_line": " (doel {purposes}): {records} van ",
    "piece_rest": "; entiteiten: {entities}; relaties in het cluster: {relations}",
    "piece_evidence": "; {n} als bewijs van een indicator",
    "piece_in_puzzle": " — telt mee in de puzzel",
    "piece_not_in_puzzle": " — registraties in het cluster, niet achter een indicator",
    "findings_heading": "Indicatoren die afgingen, met de registraties erachter",
    "no_findings": "Geen indicator ging af in dit cluster.",
    "finding_head": " (versie {version}, gewicht {weight}) op ",
    "finding_partners": ", partners {partners}: ",
    "own_records": "eigen registraties, doel {purpose}",
    "th_record": "registratie", "th_relation": "relatie", "th_period": "periode",
    "missing_relations": "{n} relatie(s)",
    "no_records": "geen registraties als bewijs genoemd",
    "not_in_edges": " — niet in de relatietabel van deze run",
    "actions_heading": "Wie kan optreden, en hoe (barrièremodel)",
    "timeline_heading": "Tijdlijn",
    "timeline_text": ("Inschrijvingen en opheffingen (KvK), vergunningbesluiten, dienstverbanden (aantal per maand) "
                      "en verhuizingen (inschrijvingen op een adres)."),
    "no_timeline": "Geen gedateerde gebeurtenissen in dit cluster.",
    "employed": "in dienst", "registered": "ingeschreven", "dissolved": "opgeheven",
    "moves": "inschrijvingen op het adres", "decision": "besluit",
    "officer_period": "functionaris",
    "run_heading": "De run",
    "run_purpose_text": ("Doel van dit rapport: de stukken die partners hebben samenleggen, zodat mensen clusters "
                         "kunnen bekijken waar registraties van meerdere partners naar wijzen."),
    "run_fields": {"run_purpose": "doel van de run", "legal_ground": "grondslag", "run_id": "run-id",
                   "started": "gestart", "mhgraph_version": "mhgraph-versie", "seed": "seed",
                   "allowed_source_purposes": "bronddoelen die deze run mag gebruiken",
                   "sources_used": "gebruikte bronnen"},
    "sources_left_out": "weggelaten bronnen:",
    "inputs": "invoerbestanden ({n}, met sha256):",
    "rows_read": "partnerrijen gelezen: {read}, opgenomen: {accepted}, in quarantaine: {quarantined}",
    "see_quarantine": " (zie quarantine.csv):",
    "reason_in": "{reason}: {n} in ",
    "this_export": ("deze export: {clusters} gerangschikte clusters, de hoogste {shown} getoond (gevraagd: {top}); "
                    "{entities} entiteiten, {relations} relaties en {mentions} partnerregistraties (mentions) van "
                    "{partners} partners; {hits} indicatortreffers"),
    "table_sizes": "tabelgroottes van de run: ",
    "partner_lists_evidence": ("partnerlijsten (partners/*.csv): alleen de registraties die als bewijs dienen; de "
                               "volledige lijst met `--partner-lists all`"),
    "partner_lists_all": "partnerlijsten (partners/*.csv): alle registraties in de getoonde clusters",
    "back": "← alle gerangschikte clusters",
    "search": "Zoeken", "search_placeholder": "alias of pseudoniem", "fit": "Passend", "zoom_in": "Inzoomen",
    "zoom_out": "Uitzoomen", "reset": "Herstel", "ties_out": "Banden naar buiten tonen ({n})",
    "filter_partners": "Partners", "filter_types": "Relaties", "period": "Periode", "from": "van", "to": "tot",
    "node_table": "Alle knopen", "th_alias": "alias", "th_role": "rol", "th_type": "soort",
    "th_partners": "partners", "th_relations": "relaties", "th_flag": "indicator",
    "detail_hint": "Klik op een knoop voor de details en de registraties erachter.",
    "pseudonym": "pseudoniem", "outside": "buiten het cluster", "in_cluster": "in cluster {cluster}",
    "flagged_cluster": "ook gemarkeerd: cluster {cluster}, rang {rank}",
    "legend_evidence": "rode rand of lijn: bewijs van een indicator",
    "legend_outside": "gestippeld: buiten het cluster",
    "legend_badges": "letters onder een knoop: partners met een registratie ervan",
    "records_of": "registraties", "evidence_for": "bewijs voor",
    "summary_periods": "{n} {what}", "summary_span": " {first}…{last}",
    "summary_lowest": ", laagste EUR {wage}/u",
    "open_end": "heden",
    "entity": {"person": ("persoon", "personen"), "company": ("bedrijf", "bedrijven"),
               "address": ("adres", "adressen"), "permit": ("vergunning", "vergunningen"),
               "entity": ("entiteit", "entiteiten"), "record": ("registratie", "registraties"),
               "partner": ("partner", "partners")},
    "size_none": "geen naar soort",
    "relation_nouns": {"EMPLOYED_BY": "loonaangifteperiodes", "REGISTERED_AT": "adresinschrijvingen",
                       "OFFICER_OF": "functies", "LOCATED_AT": "vestigingen", "SPONSORED_BY": "verblijfsvergunningen",
                       "HOLDS_PERMIT": "vergunningen (houder)", "MANAGES": "vergunningen (beheerder)"},
    "roles": {"director": "Bestuurder", "manager": "Beheerder", "worker": "Werknemer", "migrant": "Arbeidsmigrant",
              "resident": "Bewoner", "person": "Persoon", "employer": "Werkgever", "sponsor": "Referent",
              "holder": "Vergunninghouder", "company": "Bedrijf", "premises": "Pand", "home": "Woonadres",
              "address": "Adres", "permit": "Vergunning", "entity": "Entiteit"},
    "kinds": {"administrative": "bestuurlijk", "fiscal": "fiscaal", "labour inspection": "arbeidsinspectie",
              "criminal": "strafrechtelijk"},
    "none": "geen", "unknown": "onbekend",
    # The barrier model (mhgraph.export.barriers) in Dutch: English text -> Dutch text.
    "barrier_text": {
        "review the permits in this cluster: inspection, stricter conditions, suspension or withdrawal; closure "
        "of premises": ("de vergunningen in dit cluster bekijken: controle, strengere voorschriften, schorsing of "
                        "intrekking; sluiting van het pand"),
        "Bibob screening of the permit holder or applicant before granting or renewing a permit":
            "Bibob-toets van de vergunninghouder of aanvrager vóór verlening of verlenging van een vergunning",
        "review the sponsor recognition (suspension or revocation) and the residence permits that depend on it":
            "de erkenning als referent bekijken (schorsing of intrekking) en de verblijfsvergunningen die ervan afhangen",
        "check the registrations and officers in the trade register; supply register facts for a Bibob screening":
            ("de inschrijvingen en functionarissen in het handelsregister nagaan; registerfeiten leveren voor een "
             "Bibob-toets"),
        "payroll audit (boekenonderzoek) of the employers in this cluster: wages, hours, employees declared":
            "boekenonderzoek bij de werkgevers in dit cluster: lonen, uren, aangegeven werknemers",
        "no intervention is known for this purpose; to be discussed in the case meeting":
            "voor dit doel is geen interventie bekend; te bespreken in het casusoverleg",
        "Nederlandse Arbeidsinspectie (via the RIEC)": "Nederlandse Arbeidsinspectie (via het RIEC)",
        "inspect working and housing conditions and minimum-wage compliance at the employers in this cluster":
            ("arbeids- en huisvestingsomstandigheden en naleving van het minimumloon controleren bij de werkgevers "
             "in dit cluster"),
        "police and Public Prosecution Service (OM)": "politie en Openbaar Ministerie (OM)",
        "APV and Wet regulering sekswerk, permit supervision": "APV en Wet regulering sekswerk, vergunningtoezicht",
        "Vreemdelingenwet 2000, sponsor recognition": "Vreemdelingenwet 2000, erkend referentschap",
        "AWR and Wet op de loonbelasting 1964": "AWR en Wet op de loonbelasting 1964",
        "Wet minimumloon en minimumvakantiebijslag, Wet arbeid vreemdelingen; referral under the RIEC covenant":
            "Wet minimumloon en minimumvakantiebijslag, Wet arbeid vreemdelingen; melding via het RIEC-convenant",
        "RIEC covenant; art. 3:3 Awb: no supervision powers for criminal investigation":
            "RIEC-convenant; art. 3:3 Awb: geen toezichtsbevoegdheden voor strafrechtelijk onderzoek",
        "only if the case meeting decides so, as the last barrier; the records here were collected for "
        "supervision and do not become criminal evidence by being shown here": (
            "alleen als het casusoverleg daartoe besluit, als laatste barrière; de registraties hier zijn "
            "verzameld voor toezicht en worden geen strafrechtelijk bewijs doordat ze hier staan"),
    },
}

_EN = {
    "title": "mhgraph – clusters for review",
    "not_a_decision": (
        "These are indications for review by a person, not a decision. No indicator proves exploitation or "
        "any wrongdoing: each is a documented rule with its reason and the partner records behind it. What "
        "happens next is decided by people in the case meeting (casusoverleg), each partner within its own "
        "powers and the purpose it collected its records for."),
    "changes_heading": "What changed since {since}",
    "ranked_clusters": "Ranked clusters",
    "no_cluster": "No cluster to show.",
    "col_rank": "rank", "col_cluster": "cluster", "col_score": "score", "col_size": "size",
    "col_puzzle": "puzzle", "col_partners": "partners (bold: counts in the puzzle)", "col_indicators": "indicators",
    "score_distribution": "How the scores are spread",
    "score_distribution_text": ("{flagged} of the {clusters} clusters score above 0; the {shown} highest are in "
                                "this overview (from score {cut})."),
    "clusters_axis": "clusters", "score_axis": "score", "shown_from": "shown from {cut}",
    "zero_scores": "{n} clusters scoring 0 not drawn",
    "cluster_heading": "{rank}. Cluster ", "score_suffix": " — score {score}",
    "facts_rank": "rank {rank}, score {score}",
    "facts_size": "size: {size}; {inside} relations inside the cluster, {outside} leading outside it",
    "facts_puzzle": "puzzle count: {count} ({partners})",
    "picture": "picture: ",
    "why_ranks": "Why it ranks here",
    "formula": ("score = (sum of the indicator parts) × puzzle multiplier; an indicator counts less each time it "
                "fires again in the same cluster, and every partner beyond the first raises the multiplier "
                "(see docs/indicators.md)."),
    "no_parts": "This run does not record how the score is built; only the total is known.",
    "part_multiply": "× {value} {part}",
    "part_puzzle": "puzzle multiplier",
    "pieces_heading": "Which partner contributed which pieces",
    "no_pieces": "No partner records found for this cluster.",
    "piece_line": " (purpose {purposes}): {records} from ",
    "piece_rest": "; entities: {entities}; relations inside the cluster: {relations}",
    "piece_evidence": "; {n} as evidence of an indicator",
    "piece_in_puzzle": " — counts in the puzzle",
    "piece_not_in_puzzle": " — records in the cluster, not behind an indicator",
    "findings_heading": "Indicators that fired, with the records behind them",
    "no_findings": "No indicator fired in this cluster.",
    "finding_head": " (version {version}, weight {weight}) on ",
    "finding_partners": ", partners {partners}: ",
    "own_records": "own records, purpose {purpose}",
    "th_record": "record", "th_relation": "relation", "th_period": "period",
    "missing_relations": "{n} relation(s)",
    "no_records": "no records listed as evidence",
    "not_in_edges": " — not in the edges table of this run",
    "actions_heading": "Who could act, and how (barrier model)",
    "timeline_heading": "Timeline",
    "timeline_text": ("Registrations and dissolutions (KvK), permit decisions, employment (people per month) and "
                      "moves (registrations at an address)."),
    "no_timeline": "No dated events in this cluster.",
    "employed": "employed", "registered": "registered", "dissolved": "dissolved",
    "moves": "registrations at the address", "decision": "decision",
    "officer_period": "officer",
    "run_heading": "The run",
    "run_purpose_text": ("Purpose of this report: put the pieces that partners hold together, so that people can "
                         "review clusters that several partners' records point at."),
    "run_fields": {"run_purpose": "run purpose", "legal_ground": "legal ground", "run_id": "run id",
                   "started": "started", "mhgraph_version": "mhgraph version", "seed": "seed",
                   "allowed_source_purposes": "source purposes this run may use", "sources_used": "sources used"},
    "sources_left_out": "sources left out:",
    "inputs": "input files ({n}, with sha256):",
    "rows_read": "partner rows read: {read}, taken in: {accepted}, quarantined: {quarantined}",
    "see_quarantine": " (see quarantine.csv):",
    "reason_in": "{reason}: {n} in ",
    "this_export": ("this export: {clusters} ranked clusters, the top {shown} shown (asked for {top}); {entities} "
                    "entities, {relations} relations and {mentions} partner records (mentions) from {partners} "
                    "partners; {hits} indicator hits"),
    "table_sizes": "table sizes of the run: ",
    "partner_lists_evidence": ("partner lists (partners/*.csv): only the records that are evidence; the full list "
                               "with `--partner-lists all`"),
    "partner_lists_all": "partner lists (partners/*.csv): every record in the clusters shown",
    "back": "← all ranked clusters",
    "search": "Search", "search_placeholder": "alias or pseudonym", "fit": "Fit", "zoom_in": "Zoom in",
    "zoom_out": "Zoom out", "reset": "Reset", "ties_out": "Show ties leading out ({n})",
    "filter_partners": "Partners", "filter_types": "Relations", "period": "Period", "from": "from", "to": "to",
    "node_table": "All nodes", "th_alias": "alias", "th_role": "role", "th_type": "type",
    "th_partners": "partners", "th_relations": "relations", "th_flag": "indicator",
    "detail_hint": "Click a node for its details and the records behind it.",
    "pseudonym": "pseudonym", "outside": "outside the cluster", "in_cluster": "in cluster {cluster}",
    "flagged_cluster": "also flagged: cluster {cluster}, rank {rank}",
    "legend_evidence": "red border or line: evidence of an indicator",
    "legend_outside": "dashed: outside the cluster",
    "legend_badges": "letters under a node: partners holding a record of it",
    "records_of": "records", "evidence_for": "evidence for",
    "summary_periods": "{n} {what}", "summary_span": " {first}…{last}",
    "summary_lowest": ", lowest EUR {wage}/h",
    "open_end": "now",
    "entity": {"person": ("person", "persons"), "company": ("company", "companies"),
               "address": ("address", "addresses"), "permit": ("permit", "permits"),
               "entity": ("entity", "entities"), "record": ("record", "records"),
               "partner": ("partner", "partners")},
    "size_none": "none by type",
    "relation_nouns": {"EMPLOYED_BY": "payroll periods", "REGISTERED_AT": "address registrations",
                       "OFFICER_OF": "officer roles", "LOCATED_AT": "establishments",
                       "SPONSORED_BY": "residence permits", "HOLDS_PERMIT": "permits (holder)",
                       "MANAGES": "permits (manager)"},
    "roles": {"director": "Director", "manager": "Manager", "worker": "Worker", "migrant": "Labour migrant",
              "resident": "Resident", "person": "Person", "employer": "Employer", "sponsor": "Sponsor",
              "holder": "Permit holder", "company": "Company", "premises": "Premises", "home": "Home address",
              "address": "Address", "permit": "Permit", "entity": "Entity"},
    "kinds": {"administrative": "administrative", "fiscal": "fiscal", "labour inspection": "labour inspection",
              "criminal": "criminal"},
    "none": "none", "unknown": "unknown",
    "barrier_text": {},
}

LANGUAGES = {"en": _EN, "nl": _NL}


def words(lang: str) -> dict:
    """The word list of ``lang`` (``"nl"`` or ``"en"``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of: {', '.join(sorted(LANGUAGES))}")
    return LANGUAGES[lang]


def counted(lang: str, count, noun: str) -> str:
    """``'3 personen'``: a count with the noun in the right number (``'n/a'`` when unknown)."""
    one, many = words(lang)["entity"].get(noun, (noun, noun + "s"))
    return f"{'n/a' if count is None else count} {one if count == 1 else many}"


def translated(lang: str, text: str) -> str:
    """``text`` (English, from a declarative table such as the barrier model) in ``lang``."""
    return words(lang)["barrier_text"].get(text, text)
