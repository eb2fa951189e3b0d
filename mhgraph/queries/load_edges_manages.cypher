// Merge one batch of MANAGES rows of the `edges` table as relationships of that run.
//
// Keyed on (run_id, relation_id), between the run's own nodes, so loading the same rows again
// changes nothing, and two runs that resolved the same record differently each keep their own
// relationship. Both endpoints must already be loaded in this run (load_nodes_*.cypher);
// merged < size($rows) means some were not.
// Provenance is set by name; the relation properties (wage, hours, role, ...) arrive in
// row.properties.
//
// Parameters:
//   $rows    list of maps {relation_id, from_entity, to_entity, source, partner, purpose,
//            record_id, valid_from, valid_to, properties}
//   $run_id  id of the run these rows come from
UNWIND $rows AS row
MATCH (a:Entity {run_id: $run_id, entity_id: row.from_entity})
MATCH (b:Entity {run_id: $run_id, entity_id: row.to_entity})
MERGE (a)-[r:MANAGES {run_id: $run_id, relation_id: row.relation_id}]->(b)
SET r.source = row.source,
    r.partner = row.partner,
    r.purpose = row.purpose,
    r.record_id = row.record_id,
    r.valid_from = row.valid_from,
    r.valid_to = row.valid_to
SET r += row.properties
RETURN count(r) AS merged
