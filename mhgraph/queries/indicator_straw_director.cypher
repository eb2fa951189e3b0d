// Indicator straw_director, version 1: one person officer of many companies, each for a short
// time or dissolved soon after registration.
//
// The Cypher form of mhgraph.indicators.straw_director, over the OFFICER_OF relations of one
// run (partner KvK). An office is brief when it lasted less than max_days (from valid_from to
// valid_to, or where that is missing to the company's dissolution), or when the company was
// dissolved less than max_days after its registration; a missing date makes that test false.
// companies counts all the person's companies, brief those with a brief office, dissolved the
// brief ones that are dissolved. Evidence is the brief offices. One row per person with at
// least min_short brief companies.
//
// "Lasted fewer than max_days days" is written as end < start + max_days days on
// date(toString(...)), which reads a stored Date (Neo4j) and an ISO date string (FalkorDB,
// the test server, which has no duration.inDays) alike.
//
// Parameters:
//   $run_id     id of the run whose relations are read
//   $min_short  fewest companies with a brief office that fires the indicator
//   $max_days   an office or company that lasted fewer days than this is brief
MATCH (person:Person)-[r:OFFICER_OF]->(company:Company)
WHERE r.run_id = $run_id
WITH person, r, company, coalesce(r.valid_to, company.dissolved_on) AS office_end
WITH person, r, company,
     (r.valid_from IS NOT NULL AND office_end IS NOT NULL
       AND date(toString(office_end)) < date(toString(r.valid_from)) + duration({days: $max_days}))
     OR (company.registered_on IS NOT NULL AND company.dissolved_on IS NOT NULL
       AND date(toString(company.dissolved_on))
           < date(toString(company.registered_on)) + duration({days: $max_days})) AS is_brief
WITH person, count(DISTINCT company) AS companies,
     count(DISTINCT CASE WHEN is_brief THEN company END) AS brief,
     count(DISTINCT CASE WHEN is_brief AND company.dissolved_on IS NOT NULL THEN company END) AS dissolved,
     collect(CASE WHEN is_brief THEN r.relation_id END) AS evidence,
     collect(DISTINCT CASE WHEN is_brief THEN r.partner END) AS partners
WHERE brief >= $min_short
OPTIONAL MATCH (person)-[:IN_CLUSTER]->(cluster:Cluster {run_id: $run_id})
RETURN person.entity_id AS focus_entity, cluster.cluster_id AS cluster_id,
       companies, brief, dissolved, evidence, partners
ORDER BY focus_entity
