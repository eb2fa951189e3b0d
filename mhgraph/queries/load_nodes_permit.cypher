// Merge one batch of permit rows of the `nodes` table as :Permit:Entity nodes.
//
// Keyed on entity_id, so loading the same rows again changes nothing. The provenance columns
// are set by name; every other column of the row arrives in row.properties (dates as Date,
// lists as lists; a null removes the property). The run is added to n.run_ids once; the
// node's other properties are those of the latest load.
//
// Parameters:
//   $rows    list of maps {entity_id, entity_type, partners, sources, purposes,
//            mention_count, properties}
//   $run_id  id of the run these rows come from
UNWIND $rows AS row
MERGE (n:Permit {entity_id: row.entity_id})
SET n:Entity,
    n.entity_type = row.entity_type,
    n.partners = row.partners,
    n.sources = row.sources,
    n.purposes = row.purposes,
    n.mention_count = row.mention_count,
    n.run_ids = CASE
      WHEN $run_id IN coalesce(n.run_ids, []) THEN n.run_ids
      ELSE coalesce(n.run_ids, []) + $run_id
    END
SET n += row.properties
RETURN count(n) AS merged
