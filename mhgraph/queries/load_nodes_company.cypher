// Merge one batch of company rows of the `nodes` table as :Company:Entity nodes of that run.
//
// Keyed on (run_id, entity_id): every run keeps its own node of an entity, so a run's
// properties (and the purpose they were collected for) never overwrite another run's, and
// loading the same rows again changes nothing. The provenance columns are set by name; every
// other column of the row arrives in row.properties (dates as Date on Neo4j, lists as lists;
// a null removes the property).
//
// Parameters:
//   $rows    list of maps {entity_id, entity_type, partners, sources, purposes,
//            mention_count, properties}
//   $run_id  id of the run these rows come from
UNWIND $rows AS row
MERGE (n:Company:Entity {run_id: $run_id, entity_id: row.entity_id})
SET n.entity_type = row.entity_type,
    n.partners = row.partners,
    n.sources = row.sources,
    n.purposes = row.purposes,
    n.mention_count = row.mention_count
SET n += row.properties
RETURN count(n) AS merged
