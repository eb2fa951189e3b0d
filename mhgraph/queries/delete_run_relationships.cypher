// Delete up to a batch of the relationships a run loaded (those with r.run_id = the run).
//
// Run repeatedly until deleted = 0, so one transaction never holds a whole run. Reached from
// the run's own nodes, so no relationship index is needed; other runs have their own nodes and
// relationships and are not touched.
//
// Parameters:
//   $run_id      id of the run whose relationships go
//   $batch_size  most relationships deleted by one call
MATCH (n:Entity {run_id: $run_id})-[r]->(:Entity)
WHERE r.run_id = $run_id
WITH r LIMIT $batch_size
DELETE r
RETURN count(r) AS deleted
