"""The words of the case-meeting documents, in Dutch and English.

Case-meeting documents are Dutch by default (``mhgraph run --lang nl``); ``--lang en`` gives
the same documents in English. Indicator names are shown as the rules name them; their reasons
come from the rules in both languages (``reason`` and ``reason_nl`` of each hit). Relation types
keep the graph's own names in English and read as Dutch words in the Dutch documents.

>>> words("nl")["ranked_clusters"], words("en")["ranked_clusters"]
('Gerangschikte clusters', 'Ranked clusters')
>>> counted("nl", 3, "person"), counted("en", 1, "company")
('3 personen', '1 company')
>>> words("fr")
Traceback (most recent call last):
ValueError: unknown language 'fr'; choose one of: en, nl
"""

from __future__ import annotations

from mhgraph.diff import STOPPED_BECAUSE

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "counted", "counted_relations", "part_name", "relation_label", "translated",
           "words"]

DEFAULT_LANGUAGE = "nl"

# key -> (Dutch, English); nested tables likewise.
_WORDS = {'title': ('mhgraph – clusters ter bespreking', 'mhgraph – clusters for review'),
 'not_a_decision': ('Dit zijn aanwijzingen die een mens moet beoordelen, geen besluit. Geen indicator bewijst '
                    'uitbuiting of enig ander strafbaar feit: elke indicator is een gedocumenteerde regel met een '
                    'reden en de partnerregistraties erachter. Wat er gebeurt, besluiten mensen in het casusoverleg, '
                    'elke partner binnen de eigen bevoegdheden en het doel waarvoor hij de gegevens verzamelde.',
                    'These are indications for review by a person, not a decision. No indicator proves exploitation '
                    'or any wrongdoing: each is a documented rule with its reason and the partner records behind it. '
                    'What happens next is decided by people in the case meeting (casusoverleg), each partner within '
                    'its own powers and the purpose it collected its records for.'),
 'changes_heading': ('Wat veranderde sinds {since}', 'What changed since {since}'),
 # the section on what changed since an earlier run (mhgraph.export.changes)
 'changes': {
        'compared': (
            'Vergeleken met run {run} van {since}. Een cluster dat herkenbaar dezelfde groep is, houdt zijn nummer; '
            'het gaat om clusters waar in een van beide runs een indicator op wijst.',
            'Compared with run {run} of {since}. A cluster that is recognisably the same group keeps its number; '
            'listed are the clusters an indicator points at in either run.'),
        'nothing': ('Niets veranderd: dezelfde clusters, dezelfde indicatoren.',
                    'Nothing changed: the same clusters, the same indicators.'),
        'new': ('Nieuwe clusters', 'New clusters'),
        'grown': ('Gegroeid', 'Grown'),
        'shrunk': ('Gekrompen', 'Shrunk'),
        'changed': ('Andere leden, even groot', 'Other members, same size'),
        'dissolved': ('Opgeheven', 'Dissolved'),
        'fired': ('Indicatoren die nu voor het eerst afgaan', 'Indicators that newly fired'),
        'stopped': ('Indicatoren die niet meer afgaan', 'Indicators that stopped'),
        'members': ('leden', 'members'),
        'now_in': ('leden nu in', 'members now in'),
        'came_from': ('leden uit', 'members from'),
        'turnover': ('{joined} erbij, {left} weg', '{joined} joined, {left} left'),
        'focus_gone': ('de gegevens van de betrokken entiteit zijn er niet meer', STOPPED_BECAUSE['focus_gone']),
        'records_gone': ('{records_gone} van de {records} onderliggende gegevens zijn er niet meer',
                         STOPPED_BECAUSE['records_gone']),
        'partner_gone': ('de regel steunt op wat {partners_gone} vastlegde, en die gegevens zitten niet in deze run',
                         STOPPED_BECAUSE['partner_gone']),
        'rule_no_longer_holds': ('de regel gaat op de gegevens van deze run niet meer op',
                                 STOPPED_BECAUSE['rule_no_longer_holds']),
 },
 'ranked_clusters': ('Gerangschikte clusters', 'Ranked clusters'),
 'no_cluster': ('Geen cluster om te tonen.', 'No cluster to show.'),
 'no_cluster_flagged': ('Geen cluster gemarkeerd: geen score haalt de drempel van {flag}. Clusters met een score '
                        'boven 0: {scored} van de {clusters}; {where}.',
                        'No cluster flagged: no score reaches the threshold of {flag}. Clusters scoring above 0: '
                        '{scored} of {clusters}; {where}.'),
 # where the scored clusters are, for one scored cluster and for more
 'scored_clusters_where': (('het staat met zijn score en redenen in clusters.csv',
                            'ze staan met hun score en redenen in clusters.csv'),
                           ('it is in clusters.csv with its score and reasons',
                            'they are in clusters.csv with their scores and reasons')),
 # clusters.csv of a Dutch run: its headers, and `flagged` (also in `without_partner`) as words
 # (Dutch Excel shows WAAR/ONWAAR only for its own booleans, not for true/false text)
 'cluster_columns': {'cluster_id': ('cluster', 'cluster_id'), 'rank': ('rang', 'rank'), 'score': ('score', 'score'),
                     'flagged': ('gemarkeerd', 'flagged'), 'evidence': ('bewijs', 'evidence'),
                     'context': ('context', 'context'), 'families': ('soorten_bewijs', 'families'),
                     'corroboration': ('bevestiging', 'corroboration'), 'score_text': ('score_opbouw', 'score_text'),
                     'score_parts': ('score_delen', 'score_parts'), 'size': ('omvang', 'size'),
                     'persons': ('personen', 'persons'), 'companies': ('bedrijven', 'companies'),
                     'addresses': ('adressen', 'addresses'), 'permits': ('vergunningen', 'permits'),
                     'partners': ('partners', 'partners'), 'puzzle_count': ('puzzelstukken', 'puzzle_count'),
                     'indicators': ('indicatoren', 'indicators'), 'reasons': ('redenen', 'reasons'),
                     'needs_partners': ('markering_steunt_op', 'needs_partners'),
                     'without_partner': ('zonder_partner', 'without_partner')},
 'flagged_words': (('ja', 'nee'), ('true', 'false')),
 'col_rank': ('rang', 'rank'),
 'col_cluster': ('cluster', 'cluster'),
 'col_score': ('score', 'score'),
 'col_size': ('omvang', 'size'),
 'col_puzzle': ('puzzel', 'puzzle'),
 'col_partners': ('partners (vet: telt mee in de puzzel)', 'partners (bold: counts in the puzzle)'),
 'col_indicators': ('indicatoren', 'indicators'),
 'score_distribution': ('Verdeling van de scores', 'How the scores are spread'),
 'score_distribution_text': ('{scored} van de {clusters} clusters hebben een score boven 0; de {shown} hoogste '
                             'gemarkeerde staan in dit overzicht (vanaf score {cut}).',
                             '{scored} of the {clusters} clusters score above 0; the {shown} highest flagged ones are '
                             'in this overview (from score {cut}).'),
 'clusters_axis': ('clusters', 'clusters'),
 'score_axis': ('score', 'score'),
 'shown_from': ('getoond vanaf {cut}', 'shown from {cut}'),
 'zero_scores': ('{n} clusters met score 0 niet getekend', '{n} clusters scoring 0 not drawn'),
 'cluster_heading': ('{rank}. Cluster ', '{rank}. Cluster '),
 'score_suffix': (' — score {score}', ' — score {score}'),
 'facts_rank': ('rang {rank}, score {score}', 'rank {rank}, score {score}'),
 'facts_size': ('omvang: {size}; {inside} relaties binnen het cluster, {outside} naar buiten',
                'size: {size}; {inside} relations inside the cluster, {outside} leading outside it'),
 'facts_puzzle': ('puzzelstukken: {count} ({partners})', 'puzzle count: {count} ({partners})'),
 'picture': ('netwerkbeeld: ', 'picture: '),
 'flag_needs': ('de markering steunt op: {partners}', 'the flag needs: {partners}'),
 'flag_needs_nobody': ('de markering blijft staan zonder elk van de partners afzonderlijk',
                       'the flag stands without each partner in turn'),
 'flag_without': ('zonder {partner}: score {score}, {flagged}', 'without {partner}: score {score}, {flagged}'),
 'still_flagged': ('nog gemarkeerd', 'still flagged'),
 'not_flagged': ('niet gemarkeerd', 'not flagged'),
 'why_ranks': ('Waarom dit cluster hier staat', 'Why it ranks here'),
 'formula': ('score = (som van de punten per soort bewijs) × bevestiging; binnen één soort bewijs telt elke '
             'volgende treffer een kwart van de vorige en telt een herhaling van één bevinding (dezelfde regel op '
             'dezelfde gegevens, vanuit elk van haar personen) één keer, en elke andere soort bewijs boven de eerste verhoogt de '
             'bevestiging met de helft; een zwak signaal (net onder de drempel) telt voor de helft en alleen naast '
             'bewijs van een andere soort; welke partner de gegevens levert telt niet mee (zie docs/indicators.md).',
             'score = (sum of the points per family of evidence) × corroboration; within one family each further '
             'hit counts a quarter of the one before, and a repeat of one finding (one rule on the same records, '
             'named from each of its persons) counts once, and each further family of evidence raises the corroboration '
             'by half; a weak signal (just under a threshold) counts half and only beside evidence of another '
             'family; which partner delivered the records does not count (see docs/indicators.md).'),
 'no_parts': ('Deze run legt de opbouw van de score niet vast; alleen het totaal is bekend.',
              'This run does not record how the score is built; only the total is known.'),
 'part_multiply': ('× {value} {part}', '× {value} {part}'),
 'part_line': ('{part} ({kind}) {value}', '{part} ({kind}) {value}'),
 'part_kinds': {'add': ('opgeteld', 'add'), 'multiply': ('vermenigvuldigd', 'multiply')},
 # the families of evidence (mhgraph/indicators/definitions.toml, [families]) as score parts
 'part_names': {'housing': ('huisvesting', 'housing'), 'pay': ('loon', 'pay'),
                'dependence': ('afhankelijkheid', 'dependence'), 'control': ('zeggenschap', 'control'),
                'history': ('voorgeschiedenis', 'history'), 'identity': ('identiteit', 'identity'),
                'context': ('context', 'context')},
 'part_puzzle': ('puzzelfactor', 'puzzle multiplier'),
 'part_corroboration': ('bevestiging door andere soorten bewijs', 'corroboration by other families of evidence'),
 'pieces_heading': ('Welke partner welke stukken aanleverde', 'Which partner contributed which pieces'),
 'no_pieces': ('Geen partnerregistraties gevonden voor dit cluster.', 'No partner records found for this cluster.'),
 'piece_line': (' (doel {purposes}): {records} van ', ' (purpose {purposes}): {records} from '),
 'piece_rest': ('; entiteiten in het cluster: {entities}; relaties in het cluster: {relations}',
                '; entities in the cluster: {entities}; relations inside the cluster: {relations}'),
 # entities outside the cluster in the same records (an evidence record's other entities)
 'piece_outside': ('; daarbuiten in dezelfde registraties: {entities}', '; outside it, in the same records: {entities}'),
 'piece_evidence': ('; {n} als bewijs van een indicator', '; {n} as evidence of an indicator'),
 'piece_in_puzzle': (' — telt mee in de puzzel', ' — counts in the puzzle'),
 'piece_not_in_puzzle': (' — registraties in het cluster, niet achter een indicator',
                         ' — records in the cluster, not behind an indicator'),
 'findings_heading': ('Indicatoren die afgingen, met de registraties erachter',
                      'Indicators that fired, with the records behind them'),
 'no_findings': ('Geen indicator ging af in dit cluster.', 'No indicator fired in this cluster.'),
 'finding_head': (' (versie {version}, gewicht {weight}) op ', ' (version {version}, weight {weight}) on '),
 'finding_partners': (', partners {partners}: ', ', partners {partners}: '),
 'own_records': ('eigen registraties, doel {purpose}', 'own records, purpose {purpose}'),
 'th_record': ('registratie', 'record'),
 'th_relation': ('relatie', 'relation'),
 'th_period': ('periode', 'period'),
 'missing_relations': ('{n} relatie(s)', '{n} relation(s)'),
 'no_records': ('geen registraties als bewijs genoemd', 'no records listed as evidence'),
 'not_in_edges': (' — niet in de relatietabel van deze run', ' — not in the edges table of this run'),
 'actions_heading': ('Wie kan optreden, en hoe (barrièremodel)', 'Who could act, and how (barrier model)'),
 'timeline_heading': ('Tijdlijn', 'Timeline'),
 'timeline_text': ('Inschrijvingen en opheffingen (KvK), vergunningbesluiten, dienstverbanden (aantal per maand) en '
                   'verhuizingen (inschrijvingen op een adres).',
                   'Registrations and dissolutions (KvK), permit decisions, employment (people per month) and moves '
                   '(registrations at an address).'),
 'no_timeline': ('Geen gedateerde gebeurtenissen in dit cluster.', 'No dated events in this cluster.'),
 'employed': ('in dienst', 'employed'),
 'registered': ('ingeschreven', 'registered'),
 'dissolved': ('opgeheven', 'dissolved'),
 'moves': ('inschrijvingen op het adres', 'registrations at the address'),
 'decision': ('besluit', 'decision'),
 'officer_period': ('functionaris', 'officer'),
 'run_heading': ('De run', 'The run'),
 'run_purpose_text': ('Doel van dit rapport: de stukken die partners hebben samengelegd, zodat mensen clusters '
                      'kunnen bekijken waar registraties van meerdere partners naar wijzen.',
                      'Purpose of this report: put the pieces that partners hold together, so that people can review '
                      "clusters that several partners' records point at."),
 'run_fields': {'run_purpose': ('doel van de run', 'run purpose'),
                'legal_ground': ('grondslag', 'legal ground'),
                'run_id': ('run-id', 'run id'),
                'started': ('gestart', 'started'),
                'mhgraph_version': ('mhgraph-versie', 'mhgraph version'),
                'seed': ('seed', 'seed'),
                'allowed_source_purposes': ('bronddoelen die deze run mag gebruiken',
                                            'source purposes this run may use'),
                'sources_used': ('gebruikte bronnen', 'sources used')},
 'without_sidecar': ('WAARSCHUWING: {n} bestand(en) OPGENOMEN ZONDER SIDECAR (--accept-missing-sidecar): sleutel, '
                     'aantal rijen en doel niet gecontroleerd:',
                     'WARNING: {n} file(s) TAKEN IN WITHOUT A SIDECAR (--accept-missing-sidecar): key, row count and '
                     'purpose unchecked:'),
 'resolution_collapsed': ('WAARSCHUWING — de resolutie van {many} lijkt ingestort: {reasons}. Handel niet op clusters '
                          'met {many} voordat resolve/model.json en tables/matches.parquet zijn nagekeken; '
                          'mhgraph run --strict faalt hierop.',
                          'WARNING — the {one} resolution looks collapsed: {reasons}. Do not act on clusters of '
                          '{many} before checking resolve/model.json and tables/matches.parquet; '
                          'mhgraph run --strict fails on this.'),
 'too_many_merges': ('{merged} paren identiteitsgroepen samengevoegd, {ratio} keer wat het model verwacht',
                     '{merged} merged pairs of identity groups, {ratio} times what the model expects'),
 'entity_too_large': ('één entiteit omvat {groups} identiteitsgroepen ({mentions} registraties)',
                      'one entity spans {groups} identity groups ({mentions} mentions)'),
 'resolution_line': ('entiteitsresolutie, {many}: {mentions} → {entities}; grootste {largest}',
                     'entity resolution, {many}: {mentions} → {entities}; largest {largest}'),
 'resolution_merged': ('; {merged} samengevoegd, {ratio}× wat het model verwacht',
                       '; {merged} merged, {ratio}× what the model expects'),
 'resolution_conflicts': ('; {conflicts}', '; {conflicts}'),
 'resolution_crowded': ('; één {key}-waarde draagt {share} van de samenvoegingen op identificatie ({mentions} '
                        'registraties)',
                        '; one {key} value carries {share} of the merges by identifier ({mentions} mentions)'),
 'sources_left_out': ('weggelaten bronnen:', 'sources left out:'),
 'optional_columns_absent': ('optionele kolommen die in het bestand ontbraken, gelezen als leeg (geleverd voordat de '
                             'spec ze noemde):',
                             'optional columns absent from the file, read as empty (delivered before the spec named '
                             'them):'),
 'files_unmatched': ('bestanden die geen spec herkent (niet gelezen):', 'files no spec matches (not read):'),
 'inputs': ('invoerbestanden ({n}, met sha256):', 'input files ({n}, with sha256):'),
 'rows_read': ('partnerrijen gelezen: {read}, opgenomen: {accepted}, in quarantaine: {quarantined}',
               'partner rows read: {read}, taken in: {accepted}, quarantined: {quarantined}'),
 'see_quarantine': (' (zie quarantine.csv):', ' (see quarantine.csv):'),
 'left_out_by_partner': ('door de eigen controles van de partner weggelaten waarden, de rij wel geleverd: {n}:',
                         'values the partner\'s own checks left out of rows it delivered: {n}:'),
 'held_back_by_partner': ('door de partner zelf tegengehouden bij het pseudonimiseren, niet geleverd: {rows} '
                          '(de redenen staan in de quarantaine bij de partner):',
                          'held back by the partner\'s own checks when pseudonymising, not delivered: {rows} '
                          '(the reasons are in the quarantine kept by the partner):'),
 'reason_in': ('{reason}: {n} in ', '{reason}: {n} in '),
 # why rows were quarantined (mhgraph.ingest.validate.REASONS), for the Dutch documents; the code stays beside it
 'quarantine_reasons': {code: (dutch, None) for code, dutch in {
     'bad_date': 'geen datum in de formaten van de spec, of een dag die niet bestaat', 'not_a_number': 'geen getal',
     'out_of_range': 'een getal onder het minimum of boven het maximum van de kolom',
     'unknown_category': 'geen van de waarden die de spec kent', 'missing_required': 'een verplichte waarde is leeg',
     'duplicate_record_id': 'het registratienummer kwam al eerder voor in deze bron',
     'plaintext_identifier': 'leesbare gegevens waar een pseudoniem hoort, of een BSN, postcode of KvK-nummer in '
                             'een leesbare kolom',
     'unknown_municipality': 'geen gemeentenaam', 'bad_sbi_code': 'geen SBI-code (2 tot 5 cijfers)',
     'formula': 'een tekst die begint als een spreadsheetformule',
     'field_too_long': 'een te lange waarde', 'control_characters': 'stuurtekens in een waarde',
     'wrong_field_count': 'meer of minder velden dan de kop', 'bad_quoting': 'een aanhalingsteken niet gesloten',
     'nul_bytes': 'NUL-bytes in de rij',
     # the partner's own checks (mhgraph.pseudonymise.PLAINTEXT_REASONS)
     'bad_bsn': 'geen geldig BSN', 'bad_v_number': 'geen geldig V-nummer', 'bad_kvk_number': 'geen geldig KvK-nummer',
     'bad_wage_tax_number': 'geen geldig loonheffingennummer',
     'bad_birth_date': 'geen bestaande geboortedatum, of een in de toekomst',
     'bad_postcode': 'geen Nederlandse postcode', 'bad_house_number': 'geen geldig huisnummer'}.items()},
 'this_export': ('deze export: {clusters} gerangschikt, de hoogste {shown} getoond (gevraagd: {top}); {entities}, '
                 '{relations} en {mentions} (mentions) van {partners}; {hits}',
                 'this export: {clusters} ranked, the top {shown} shown (asked for {top}); {entities}, {relations} '
                 'and {mentions} (mentions) from {partners}; {hits}'),
 'table_sizes': ('tabelgroottes van de run: ', 'table sizes of the run: '),
 'partner_lists_evidence': ('partnerlijsten (partners/*.csv): alleen de registraties die als bewijs dienen; de '
                            'volledige lijst met mhgraph report --partner-lists all',
                            'partner lists (partners/*.csv): only the records that are evidence; the full list with '
                            'mhgraph report --partner-lists all'),
 'partner_lists_all': ('partnerlijsten (partners/*.csv): alle registraties in de getoonde clusters',
                       'partner lists (partners/*.csv): every record in the clusters shown'),
 'back': ('← alle gerangschikte clusters', '← all ranked clusters'),
 'search': ('Zoeken', 'Search'),
 'search_placeholder': ('alias of pseudoniem', 'alias or pseudonym'),
 'fit': ('Passend', 'Fit'),
 'zoom_in': ('Inzoomen', 'Zoom in'),
 'zoom_out': ('Uitzoomen', 'Zoom out'),
 'reset': ('Herstel', 'Reset'),
 'ties_out': ('Banden naar buiten tonen ({n})', 'Show ties leading out ({n})'),
 'filter_partners': ('Partners', 'Partners'),
 'filter_types': ('Relaties', 'Relations'),
 'period': ('Periode', 'Period'),
 'from': ('van', 'from'),
 'to': ('tot', 'to'),
 'node_table': ('Alle knopen', 'All nodes'),
 'th_alias': ('alias', 'alias'),
 'th_role': ('rol', 'role'),
 'th_type': ('soort', 'type'),
 'th_partners': ('partners', 'partners'),
 'th_relations': ('relaties', 'relations'),
 'th_flag': ('indicator', 'indicator'),
 'detail_hint': ('Klik op een knoop voor de details en de registraties erachter.',
                 'Click a node for its details and the records behind it.'),
 'pseudonym': ('pseudoniem', 'pseudonym'),
 'outside': ('buiten het cluster', 'outside the cluster'),
 'in_cluster': ('in cluster {cluster}', 'in cluster {cluster}'),
 'flagged_cluster': ('ook gemarkeerd: cluster {cluster}, rang {rank}',
                     'also flagged: cluster {cluster}, rank {rank}'),
 'legend_evidence': ('rode rand of lijn: bewijs van een indicator', 'red border or line: evidence of an indicator'),
 'legend_outside': ('gestippeld: buiten het cluster', 'dashed: outside the cluster'),
 'legend_badges': ('letters onder een knoop: partners met een registratie ervan',
                   'letters under a node: partners holding a record of it'),
 'records_of': ('registraties', 'records'),
 'evidence_for': ('bewijs voor', 'evidence for'),
 'summary_span': (' {first}…{last}', ' {first}…{last}'),
 'summary_lowest': (', laagste € {wage}/u', ', lowest EUR {wage}/h'),
 'th_hourly': ('€/u', 'EUR/h'),
 'hourly': ('€ {wage}/u', 'EUR {wage}/h'),
 'hourly_over': ('€ {wage}/u over {hours} u', 'EUR {wage}/h over {hours} h'),
 'excluded_why': ('het doel van de run ({run}) staat het doel van deze bron ({purpose}) niet toe',
                  "run purpose '{run}' does not permit purpose '{purpose}'"),
 'excluded_why_unknown': ('het doel van de run ({run}) staat het doel van deze bron niet toe',
                          "run purpose '{run}' does not permit the purpose of this source"),
 # the legal ground of each run purpose (mhgraph.purpose.RUN_PURPOSES), for the Dutch documents
 'legal_grounds': {
        'riec_integral_assessment': (
            'RIEC-convenant en Wet gegevensverwerking door samenwerkingsverbanden (WGS): integrale beoordeling van '
            'signalen van mensenhandel door de partners samen', None),
        'municipal_supervision': ('Gemeentelijk vergunningtoezicht (APV, Wet regulering sekswerk) en Bibob-toets',
                                  None),
        'permit_supervision': (
            'Gemeentelijk vergunningtoezicht (APV, Wet regulering sekswerk) zonder Bibob-toets: Bibob-informatie '
            'dient alleen Bibob-besluiten (Wet Bibob art. 28)', None),
        'labour_market_supervision': (
            'Arbeidsinspectie (Wet arbeid vreemdelingen, Wet minimumloon) met fiscale en vreemdelingengegevens', None),
 },
 'open_end': ('heden', 'now'),
 'entity': {'person': (('persoon', 'personen'), ('person', 'persons')),
            'company': (('bedrijf', 'bedrijven'), ('company', 'companies')),
            'address': (('adres', 'adressen'), ('address', 'addresses')),
            'permit': (('vergunning', 'vergunningen'), ('permit', 'permits')),
            'entity': (('entiteit', 'entiteiten'), ('entity', 'entities')),
            'record': (('registratie', 'registraties'), ('record', 'records')),
            'row': (('rij', 'rijen'), ('row', 'rows')),
            'resolved_mention': (('registratie', 'registraties'), ('mention', 'mentions')),
            'group_pair': (('paar identiteitsgroepen', 'paren identiteitsgroepen'),
                           ('pair of identity groups', 'pairs of identity groups')),
            'identity_conflict': (('identiteitsconflict', 'identiteitsconflicten'),
                                  ('identity conflict', 'identity conflicts')),
            'partner': (('partner', 'partners'), ('partner', 'partners')),
            'cluster': (('cluster', 'clusters'), ('cluster', 'clusters')),
            'relation': (('relatie', 'relaties'), ('relation', 'relations')),
            'mention': (('partnerregistratie', 'partnerregistraties'), ('partner record', 'partner records')),
            'hit': (('indicatortreffer', 'indicatortreffers'), ('indicator hit', 'indicator hits'))},
 'size_none': ('geen naar soort', 'none by type'),
 'relation_nouns': {'EMPLOYED_BY': (('loonaangifteperiode', 'loonaangifteperiodes'),
                                    ('payroll period', 'payroll periods')),
                    'REGISTERED_AT': (('adresinschrijving', 'adresinschrijvingen'),
                                      ('address registration', 'address registrations')),
                    'OFFICER_OF': (('functie', 'functies'), ('officer role', 'officer roles')),
                    'LOCATED_AT': (('vestiging', 'vestigingen'), ('establishment', 'establishments')),
                    'SPONSORED_BY': (('verblijfsvergunning', 'verblijfsvergunningen'),
                                     ('residence permit', 'residence permits')),
                    'HOLDS_PERMIT': (('vergunning (houder)', 'vergunningen (houder)'),
                                     ('permit (holder)', 'permits (holder)')),
                    'MANAGES': (('vergunning (beheerder)', 'vergunningen (beheerder)'),
                                ('permit (manager)', 'permits (manager)'))},
 # fields shown in a picture's details (mhgraph.export.view NODE_CONTEXT, EDGE_CONTEXT, DISCLOSED_BY); the
 # English pages show the table's own column names
 'field_names': {name: (dutch, name) for name, dutch in {'municipality': 'gemeente', 'sbi_code': 'SBI-code',
     'legal_form': 'rechtsvorm', 'registered_on': 'ingeschreven op', 'dissolved_on': 'opgeheven op',
     'sponsor_status': 'status als referent', 'sponsor_status_on': 'status als referent sinds',
     'permit_type': 'soort vergunning', 'permit_status': 'status vergunning', 'decided_on': 'besloten op',
     'bibob_outcome': 'Bibob-uitkomst', 'contract_type': 'contractsoort', 'role': 'functie',
     'permit_purpose': 'verblijfsdoel'}.items()},
 # relation types as the Dutch documents name them; the English ones show the graph's own names
 'relation_types': {'EMPLOYED_BY': ('in dienst bij', 'EMPLOYED_BY'),
                    'REGISTERED_AT': ('ingeschreven op', 'REGISTERED_AT'),
                    'OFFICER_OF': ('functionaris van', 'OFFICER_OF'),
                    'LOCATED_AT': ('gevestigd op', 'LOCATED_AT'),
                    'SPONSORED_BY': ('met als referent', 'SPONSORED_BY'),
                    'HOLDS_PERMIT': ('houder van', 'HOLDS_PERMIT'),
                    'MANAGES': ('beheerder van', 'MANAGES')},
 'roles': {'director': ('Bestuurder', 'Director'),
           'manager': ('Beheerder', 'Manager'),
           'worker': ('Werknemer', 'Worker'),
           'migrant': ('Arbeidsmigrant', 'Labour migrant'),
           'resident': ('Bewoner', 'Resident'),
           'person': ('Persoon', 'Person'),
           'employer': ('Werkgever', 'Employer'),
           'sponsor': ('Referent', 'Sponsor'),
           'holder': ('Vergunninghouder', 'Permit holder'),
           'company': ('Bedrijf', 'Company'),
           'premises': ('Pand', 'Premises'),
           'home': ('Woonadres', 'Home address'),
           'address': ('Adres', 'Address'),
           'permit': ('Vergunning', 'Permit'),
           'entity': ('Entiteit', 'Entity')},
 'kinds': {'administrative': ('bestuurlijk', 'administrative'),
           'fiscal': ('fiscaal', 'fiscal'),
           'labour inspection': ('arbeidsinspectie', 'labour inspection'),
           'criminal': ('strafrechtelijk', 'criminal')},
 'none': ('geen', 'none'),
 'unknown': ('onbekend', 'unknown')}

# The barrier model (mhgraph.export.barriers) in Dutch: English text -> Dutch text.
_DUTCH_BARRIER_TEXT = {
 'investigate the registrations at the addresses in this cluster (Landelijke Aanpak Adreskwaliteit); '
 "enforce the housing, occupancy and fire-safety rules and the landlord's duties":
     'de inschrijvingen op de adressen in dit cluster onderzoeken (Landelijke Aanpak Adreskwaliteit); de regels '
     'voor huisvesting, bewoning en brandveiligheid en de plichten van de verhuurder handhaven',
 'Huisvestingswet 2014, Wet goed verhuurderschap, Wet basisregistratie personen':
     'Huisvestingswet 2014, Wet goed verhuurderschap, Wet basisregistratie personen',
'review the permits in this cluster: inspection, stricter conditions, suspension or withdrawal; closure of premises': 'de '
                                                                                                                       'vergunningen '
                                                                                                                       'in '
                                                                                                                       'dit '
                                                                                                                       'cluster '
                                                                                                                       'bekijken: '
                                                                                                                       'controle, '
                                                                                                                       'strengere '
                                                                                                                       'voorschriften, '
                                                                                                                       'schorsing '
                                                                                                                       'of '
                                                                                                                       'intrekking; '
                                                                                                                       'sluiting '
                                                                                                                       'van '
                                                                                                                       'het '
                                                                                                                       'pand',
 'Bibob screening of the permit holder or applicant before granting or renewing a permit': 'Bibob-toets van de '
                                                                                           'vergunninghouder of '
                                                                                           'aanvrager vóór verlening '
                                                                                           'of verlenging van een '
                                                                                           'vergunning',
 'review the sponsor recognition (suspension or revocation) and the residence permits that depend on it': 'de '
                                                                                                          'erkenning '
                                                                                                          'als '
                                                                                                          'referent '
                                                                                                          'bekijken '
                                                                                                          '(schorsing '
                                                                                                          'of '
                                                                                                          'intrekking) '
                                                                                                          'en de '
                                                                                                          'verblijfsvergunningen '
                                                                                                          'die ervan '
                                                                                                          'afhangen',
 'check the registrations and officers in the trade register; supply register facts for a Bibob screening': 'de '
                                                                                                            'inschrijvingen '
                                                                                                            'en '
                                                                                                            'functionarissen '
                                                                                                            'in het '
                                                                                                            'handelsregister '
                                                                                                            'nagaan; '
                                                                                                            'registerfeiten '
                                                                                                            'leveren '
                                                                                                            'voor '
                                                                                                            'een '
                                                                                                            'Bibob-toets',
 'payroll audit (boekenonderzoek) of the employers in this cluster: wages, hours, employees declared': 'boekenonderzoek '
                                                                                                       'bij de '
                                                                                                       'werkgevers '
                                                                                                       'in dit '
                                                                                                       'cluster: '
                                                                                                       'lonen, uren, '
                                                                                                       'aangegeven '
                                                                                                       'werknemers',
 'no intervention is known for this purpose; to be discussed in the case meeting': 'voor dit doel is geen '
                                                                                   'interventie bekend; te bespreken '
                                                                                   'in het casusoverleg',
 'Nederlandse Arbeidsinspectie (via the RIEC)': 'Nederlandse Arbeidsinspectie (via het RIEC)',
 'inspect working and housing conditions and minimum-wage compliance at the employers in this cluster': 'arbeids- en '
                                                                                                        'huisvestingsomstandigheden '
                                                                                                        'en naleving '
                                                                                                        'van het '
                                                                                                        'minimumloon '
                                                                                                        'controleren '
                                                                                                        'bij de '
                                                                                                        'werkgevers '
                                                                                                        'in dit '
                                                                                                        'cluster',
 'police and Public Prosecution Service (OM)': 'politie en Openbaar Ministerie (OM)',
 'APV and Wet regulering sekswerk, permit supervision': 'APV en Wet regulering sekswerk, vergunningtoezicht',
 'Vreemdelingenwet 2000, sponsor recognition': 'Vreemdelingenwet 2000, erkend referentschap',
 'AWR and Wet op de loonbelasting 1964': 'AWR en Wet op de loonbelasting 1964',
 'Wet minimumloon en minimumvakantiebijslag, Wet arbeid vreemdelingen; referral under the RIEC covenant': 'Wet '
                                                                                                          'minimumloon '
                                                                                                          'en '
                                                                                                          'minimumvakantiebijslag, '
                                                                                                          'Wet '
                                                                                                          'arbeid '
                                                                                                          'vreemdelingen; '
                                                                                                          'melding '
                                                                                                          'via het '
                                                                                                          'RIEC-convenant',
 'RIEC covenant; art. 3:3 Awb: no supervision powers for criminal investigation': 'RIEC-convenant; art. 3:3 Awb: '
                                                                                  'geen toezichtsbevoegdheden voor '
                                                                                  'strafrechtelijk onderzoek',
 'only if the case meeting decides so, as the last barrier; the records here were collected for supervision and do not become criminal evidence by being shown here': 'alleen '
                                                                                                                                                                      'als '
                                                                                                                                                                      'het '
                                                                                                                                                                      'casusoverleg '
                                                                                                                                                                      'daartoe '
                                                                                                                                                                      'besluit, '
                                                                                                                                                                      'als '
                                                                                                                                                                      'laatste '
                                                                                                                                                                      'barrière; '
                                                                                                                                                                      'de '
                                                                                                                                                                      'registraties '
                                                                                                                                                                      'hier '
                                                                                                                                                                      'zijn '
                                                                                                                                                                      'verzameld '
                                                                                                                                                                      'voor '
                                                                                                                                                                      'toezicht '
                                                                                                                                                                      'en '
                                                                                                                                                                      'worden '
                                                                                                                                                                      'geen '
                                                                                                                                                                      'strafrechtelijk '
                                                                                                                                                                      'bewijs '
                                                                                                                                                                      'doordat '
                                                                                                                                                                      'ze '
                                                                                                                                                                      'hier '
                                                                                                                                                                      'staan'}

LANGUAGES = ("en", "nl")


def _pick(value, index: int):
    if isinstance(value, dict):
        return {key: _pick(item, index) for key, item in value.items()}
    return value[index]


_BY_LANGUAGE = {"nl": {**_pick(_WORDS, 0), "barrier_text": _DUTCH_BARRIER_TEXT},
                "en": {**_pick(_WORDS, 1), "barrier_text": {}}}


def words(lang: str) -> dict:
    """The word list of ``lang`` (``"nl"`` or ``"en"``)."""
    if lang not in _BY_LANGUAGE:
        raise ValueError(f"unknown language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    return _BY_LANGUAGE[lang]


def counted(lang: str, count, noun: str) -> str:
    """``'3 personen'``: a count with the noun in the right number (``'n/a'`` when unknown)."""
    one, many = words(lang)["entity"].get(noun, (noun, noun + "s"))
    return f"{'n/a' if count is None else count} {one if count == 1 else many}"


def counted_relations(lang: str, count: int, relation_type: str) -> str:
    """``'1 vestiging'``, ``'3 vestigingen'``: a count of relations of one type, named as records.

    >>> counted_relations("nl", 1, "LOCATED_AT"), counted_relations("en", 2, "EMPLOYED_BY")
    ('1 vestiging', '2 payroll periods')
    """
    one, many = words(lang)["relation_nouns"].get(relation_type, (relation_type, relation_type))
    return f"{count} {one if count == 1 else many}"


def part_name(part: str, lang: str) -> str:
    """A part of a cluster's score (a family of evidence, or a factor) as the document names it.

    >>> part_name("pay", "nl"), part_name("corroboration", "nl"), part_name("pay", "en")
    ('loon', 'bevestiging door andere soorten bewijs', 'pay')
    """
    w = words(lang)
    return w["part_names"].get(part) or w.get(f"part_{part}") or part


def relation_label(lang: str, relation_type: str) -> str:
    """A relation type as the document names it: Dutch words, or the graph's own name in English.

    >>> relation_label("nl", "EMPLOYED_BY"), relation_label("en", "EMPLOYED_BY")
    ('in dienst bij', 'EMPLOYED_BY')
    """
    return words(lang)["relation_types"].get(relation_type, relation_type)


def translated(lang: str, text: str) -> str:
    """``text`` (English, from a declarative table such as the barrier model) in ``lang``."""
    return words(lang)["barrier_text"].get(text, text)
